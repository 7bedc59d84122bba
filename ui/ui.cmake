# ui/: the pages' static assets, embedded into the binary, and the page routes (http/ui_*.cpp)
# added to strato_http. Included from the root CMakeLists.txt (its list of areas).
file(GLOB STRATO_UI_ASSET_FILES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/ui/static/*)
list(SORT STRATO_UI_ASSET_FILES)
set(STRATO_UI_ASSETS_CPP ${CMAKE_BINARY_DIR}/generated/ui_assets_data.cpp)
add_custom_command(
  OUTPUT ${STRATO_UI_ASSETS_CPP}
  COMMAND ${CMAKE_COMMAND} -DOUT=${STRATO_UI_ASSETS_CPP} "-DFILES=${STRATO_UI_ASSET_FILES}"
          -P ${CMAKE_SOURCE_DIR}/ui/embed_assets.cmake
  DEPENDS ${STRATO_UI_ASSET_FILES} ${CMAKE_SOURCE_DIR}/ui/embed_assets.cmake
  COMMENT "Embedding the UI's static assets"
  VERBATIM)

target_sources(strato_http PRIVATE
  http/ui_assets.cpp
  http/ui_html.cpp
  http/ui_routes.cpp
  http/ui_support.cpp
  http/page_orgs.cpp
  http/page_vms.cpp
  http/page_dashboard.cpp
  http/page_hosts.cpp
  http/page_audit.cpp
  http/live_routes.cpp
  ${STRATO_UI_ASSETS_CPP}
)

# Unit tests of the layout, escaping and assets (no database).
add_executable(ui_tests ui/tests/ui_html_test.cpp)
target_link_libraries(ui_tests PRIVATE strato_http doctest::doctest)
doctest_discover_tests(ui_tests TEST_PREFIX "ui: ")
add_test(NAME "ui_tests: case names are selectable"
         COMMAND ${CMAKE_COMMAND} -DBINARY=$<TARGET_FILE:ui_tests>
                 -P ${CMAKE_SOURCE_DIR}/test/check_test_names.cmake)
