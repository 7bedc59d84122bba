# ui/: the pages' static assets and HTML templates, embedded into the binary and
# added to strato_http_pages. Included from the root CMakeLists.txt (its list of areas).
#
# Templates: every ui/templates/*.mustache, embedded as text with the renderer that uses them
# (http/pages/render.cpp); the server never reads them from disk.
#
# Assets: every file of ui/static/ as it is, plus two built from npm packages (ui/package.json,
# installed into ui/node_modules by `npm ci --prefix ui`, which ops/setup runs):
#   app.css       Tailwind's CLI on ui/styles/app.css with ui/tailwind.config.js (minified)
#   htmx.min.js   htmx's own minified file
# Both are written to <build>/generated/ui/ and embedded like the static files.
find_program(STRATO_NODE node)
set(STRATO_UI_NODE_MODULES ${CMAKE_SOURCE_DIR}/ui/node_modules)
set(STRATO_UI_NPM_HINT
    "ui/node_modules is missing or incomplete: run ./ops/setup, or `npm ci --prefix ui`")
if(NOT STRATO_NODE)
  message(FATAL_ERROR "node (Node.js) is not on the PATH; the UI's style sheet is built with it. "
                      "Run ./ops/setup (installs nodejs and npm), then `npm ci --prefix ui`.")
endif()
if(NOT EXISTS ${STRATO_UI_NODE_MODULES}/tailwindcss/lib/cli.js
   OR NOT EXISTS ${STRATO_UI_NODE_MODULES}/htmx.org/dist/htmx.min.js)
  message(FATAL_ERROR "${STRATO_UI_NPM_HINT}.")
endif()

set(STRATO_UI_BUILT_DIR ${CMAKE_BINARY_DIR}/generated/ui)
set(STRATO_UI_BUILT_FILES ${STRATO_UI_BUILT_DIR}/app.css ${STRATO_UI_BUILT_DIR}/htmx.min.js)
# Tailwind reads the class names in the templates, the pages' C++ and the scripts: a change
# there can change the style sheet.
file(GLOB STRATO_UI_TEMPLATE_FILES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/ui/templates/*.mustache)
file(GLOB_RECURSE STRATO_UI_CLASS_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/http/*.cpp)
list(APPEND STRATO_UI_CLASS_SOURCES ${STRATO_UI_TEMPLATE_FILES})
file(GLOB STRATO_UI_SCRIPT_FILES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/ui/static/*.js)
list(APPEND STRATO_UI_CLASS_SOURCES ${STRATO_UI_SCRIPT_FILES})
file(GLOB STRATO_UI_STYLE_FILES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/ui/styles/*)
# copy_if_different leaves an unchanged output's time alone, so nothing downstream is redone
# (ninja's restat). node_modules is checked again at build time (it may have gone since
# configuring), so the build stops with the sentence above rather than node's "Cannot find
# module". The check is one expression: a semicolon would split CMake's argument.
set(STRATO_UI_CHECK_NPM
    "['tailwindcss/lib/cli.js', 'htmx.org/dist/htmx.min.js'].every(f => require('fs').existsSync(process.argv[1] + '/' + f)) || (console.error('${STRATO_UI_NPM_HINT}.'), process.exit(1))")
add_custom_command(
  OUTPUT ${STRATO_UI_BUILT_FILES}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${STRATO_UI_BUILT_DIR}
  COMMAND ${STRATO_NODE} -e ${STRATO_UI_CHECK_NPM} ${STRATO_UI_NODE_MODULES}
  COMMAND ${CMAKE_COMMAND} -E env BROWSERSLIST_IGNORE_OLD_DATA=1
          ${STRATO_NODE} ${STRATO_UI_NODE_MODULES}/tailwindcss/lib/cli.js
          --config ${CMAKE_SOURCE_DIR}/ui/tailwind.config.js
          --input ${CMAKE_SOURCE_DIR}/ui/styles/app.css
          --output ${STRATO_UI_BUILT_DIR}/app.css.tmp --minify
  COMMAND ${CMAKE_COMMAND} -E copy_if_different ${STRATO_UI_BUILT_DIR}/app.css.tmp
          ${STRATO_UI_BUILT_DIR}/app.css
  COMMAND ${CMAKE_COMMAND} -E copy_if_different
          ${STRATO_UI_NODE_MODULES}/htmx.org/dist/htmx.min.js ${STRATO_UI_BUILT_DIR}/htmx.min.js
  DEPENDS ${STRATO_UI_STYLE_FILES} ${CMAKE_SOURCE_DIR}/ui/tailwind.config.js
          ${CMAKE_SOURCE_DIR}/ui/package-lock.json ${STRATO_UI_CLASS_SOURCES}
  COMMENT "Building the UI's style sheet (Tailwind) and copying htmx"
  VERBATIM)

file(GLOB STRATO_UI_STATIC_FILES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/ui/static/*)
set(STRATO_UI_ASSET_FILES ${STRATO_UI_STATIC_FILES} ${STRATO_UI_BUILT_FILES})
set(STRATO_UI_ASSETS_CPP ${CMAKE_BINARY_DIR}/generated/ui_assets_data.cpp)
add_custom_command(
  OUTPUT ${STRATO_UI_ASSETS_CPP}
  COMMAND ${CMAKE_COMMAND} -DOUT=${STRATO_UI_ASSETS_CPP} "-DFILES=${STRATO_UI_ASSET_FILES}"
          -P ${CMAKE_SOURCE_DIR}/ui/embed_assets.cmake
  DEPENDS ${STRATO_UI_ASSET_FILES} ${CMAKE_SOURCE_DIR}/ui/embed_assets.cmake
  COMMENT "Embedding the UI's static assets"
  VERBATIM)

set(STRATO_UI_TEMPLATES_CPP ${CMAKE_BINARY_DIR}/generated/ui_templates_data.cpp)
add_custom_command(
  OUTPUT ${STRATO_UI_TEMPLATES_CPP}
  COMMAND ${CMAKE_COMMAND} -DKIND=templates -DOUT=${STRATO_UI_TEMPLATES_CPP}
          "-DFILES=${STRATO_UI_TEMPLATE_FILES}" -P ${CMAKE_SOURCE_DIR}/ui/embed_assets.cmake
  DEPENDS ${STRATO_UI_TEMPLATE_FILES} ${CMAKE_SOURCE_DIR}/ui/embed_assets.cmake
  COMMENT "Embedding the pages' templates"
  VERBATIM)

# The renderer sits with the templates it embeds (kainjow's mustache, header-only, from
# libkainjow-mustache-dev).
find_path(STRATO_MUSTACHE_INCLUDE kainjow/mustache.hpp)
if(NOT STRATO_MUSTACHE_INCLUDE)
  message(FATAL_ERROR "kainjow/mustache.hpp is missing: run ./ops/setup "
                      "(installs libkainjow-mustache-dev)")
endif()
target_sources(strato_http_pages PRIVATE ${STRATO_UI_ASSETS_CPP} ${STRATO_UI_TEMPLATES_CPP}
                                         ${CMAKE_SOURCE_DIR}/http/pages/render.cpp)
target_include_directories(strato_http_pages PUBLIC ${STRATO_MUSTACHE_INCLUDE})

# Unit tests of the layout, escaping, assets and templates (no database).
add_executable(ui_tests test/http/pages/ui_html_test.cpp test/http/pages/templates_test.cpp)
target_link_libraries(ui_tests PRIVATE strato_http_pages doctest::doctest)
doctest_discover_tests(ui_tests TEST_PREFIX "ui: ")
add_test(NAME "ui_tests: case names are selectable"
         COMMAND ${CMAKE_COMMAND} -DBINARY=$<TARGET_FILE:ui_tests>
                 -P ${CMAKE_SOURCE_DIR}/test/check_test_names.cmake)
