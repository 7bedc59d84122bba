// libFuzzer target for the schema parser and compiler: any input must give a schema or a
// Status with a sentence, never a crash, a hang or a sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/authz/schema.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto ast = strato::authz::ParseSchema(text);
  if (!ast.ok()) {
    // Every parse error carries a position and a sentence.
    if (ast.status().message().rfind("line ", 0) != 0) __builtin_trap();
    return 0;
  }
  auto schema = strato::authz::CompileSchema(*ast);
  if (!schema.ok() && schema.status().message().empty()) __builtin_trap();
  return 0;
}
