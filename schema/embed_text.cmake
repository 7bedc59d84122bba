# Writes OUT: a C++ file defining `std::string_view <FUNCTION>()` (in namespace NAMESPACE) that
# returns the text of FILE, so the binary never looks for it at run time.
file(READ ${FILE} text)
get_filename_component(name ${FILE} NAME)
set(body "// Generated from schema/${name} by schema/embed_text.cmake. Do not edit.\n")
string(APPEND body "#include <string_view>\n\nnamespace ${NAMESPACE} {\n\n")
string(APPEND body "std::string_view ${FUNCTION}() {\n")
string(APPEND body "  static constexpr std::string_view kText = R\"strato_text(${text})strato_text\";\n")
string(APPEND body "  return kText;\n}\n\n}  // namespace ${NAMESPACE}\n")
file(WRITE ${OUT}.tmp "${body}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
