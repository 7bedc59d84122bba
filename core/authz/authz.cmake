# core/authz: the embedded Permify-compatible authorization engine, its tests, conformance
# runner, fuzz target and benchmark. Included from the root CMakeLists.txt.

set(STRATO_AUTHZ_PARSER_SOURCES
  ${CMAKE_SOURCE_DIR}/core/authz/schema_parser.cpp
  ${CMAKE_SOURCE_DIR}/core/authz/schema.cpp
  ${CMAKE_SOURCE_DIR}/core/authz/cel.cpp
  ${CMAKE_SOURCE_DIR}/core/authz/value.cpp
)

add_library(strato_authz STATIC
  ${STRATO_AUTHZ_PARSER_SOURCES}
  core/authz/tuple.cpp
  core/authz/memory_tuple_store.cpp
  core/authz/engine.cpp
)
target_link_libraries(strato_authz PUBLIC strato_core)

set(STRATO_PERMIFY_DIR ${CMAKE_SOURCE_DIR}/test/conformance/permify)

# --- unit tests
add_executable(authz_tests
  test/core/authz/main.cpp
  test/core/authz/parser_test.cpp
  test/core/authz/engine_test.cpp
  test/core/authz/store_test.cpp
  test/core/authz/strato_schema_test.cpp
  test/core/authz/cel_test.cpp
)
# strato_commands for CommandTable(); it needs no database.
target_link_libraries(authz_tests PRIVATE strato_authz strato_commands doctest::doctest)
target_compile_definitions(authz_tests PRIVATE
  STRATO_PERM_FILE="${CMAKE_SOURCE_DIR}/schema/strato.perm")
doctest_discover_tests(authz_tests TEST_PREFIX "authz: ")
add_test(NAME "authz: case names are selectable"
         COMMAND ${CMAKE_COMMAND} -DBINARY=$<TARGET_FILE:authz_tests>
                 -P ${CMAKE_SOURCE_DIR}/test/check_test_names.cmake)

# --- Permify conformance (validation files and DSL cases)
pkg_check_modules(STRATO_AUTHZ_YAML IMPORTED_TARGET yaml-cpp)
if(STRATO_AUTHZ_YAML_FOUND)
  add_executable(permify_conformance test/core/authz/permify_conformance.cpp)
  target_link_libraries(permify_conformance PRIVATE strato_authz PkgConfig::STRATO_AUTHZ_YAML)
  target_compile_definitions(permify_conformance PRIVATE
    STRATO_PERMIFY_DIR="${STRATO_PERMIFY_DIR}"
    STRATO_PERM_FILE="${CMAKE_SOURCE_DIR}/schema/strato.perm")
  add_test(NAME "authz: permify conformance"
           COMMAND permify_conformance --validation)
  add_test(NAME "authz: permify dsl cases"
           COMMAND permify_conformance --dsl-cases)
else()
  message(WARNING "yaml-cpp not found (apt-get install libyaml-cpp-dev): "
                  "permify_conformance is not built")
endif()

# --- benchmark (prints figures; not a test)
add_executable(bench_authz test/core/authz/bench_authz.cpp)
target_link_libraries(bench_authz PRIVATE strato_authz)
target_compile_definitions(bench_authz PRIVATE
  STRATO_PERM_FILE="${CMAKE_SOURCE_DIR}/schema/strato.perm")

# --- fuzz target for the schema parser, built with clang++ (the main build uses g++).
find_program(STRATO_CLANGXX clang++)
if(STRATO_CLANGXX)
  set(STRATO_FUZZ_SCHEMA_BIN ${CMAKE_BINARY_DIR}/authz-fuzz/fuzz_authz_schema)
  file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/authz-fuzz)
  set(STRATO_FUZZ_SCHEMA_SOURCES
    ${CMAKE_SOURCE_DIR}/test/core/authz/fuzz_schema.cpp
    ${STRATO_AUTHZ_PARSER_SOURCES}
    ${CMAKE_SOURCE_DIR}/core/status.cpp
    ${CMAKE_SOURCE_DIR}/core/parse.cpp)
  add_custom_command(
    OUTPUT ${STRATO_FUZZ_SCHEMA_BIN}
    COMMAND ${STRATO_CLANGXX} -g -O1 -fsanitize=fuzzer,address -std=c++20
            -I${CMAKE_SOURCE_DIR} ${STRATO_FUZZ_SCHEMA_SOURCES} -o ${STRATO_FUZZ_SCHEMA_BIN}
    DEPENDS ${STRATO_FUZZ_SCHEMA_SOURCES}
            ${CMAKE_SOURCE_DIR}/core/authz/schema.h
            ${CMAKE_SOURCE_DIR}/core/authz/schema_ast.h
            ${CMAKE_SOURCE_DIR}/core/authz/cel.h
            ${CMAKE_SOURCE_DIR}/core/authz/value.h
            ${CMAKE_SOURCE_DIR}/core/status.h
    COMMENT "Building fuzz_authz_schema with clang++ (libFuzzer + ASan)"
    VERBATIM)
  add_custom_target(fuzz_authz_schema ALL DEPENDS ${STRATO_FUZZ_SCHEMA_BIN})

  # Seed corpus: strato.perm, the conformance schemas and the DSL cases, written by the runner.
  set(STRATO_FUZZ_SCHEMA_CORPUS ${CMAKE_BINARY_DIR}/fuzz_authz_schema_corpus)
  file(MAKE_DIRECTORY ${STRATO_FUZZ_SCHEMA_CORPUS})
  if(TARGET permify_conformance)
    add_test(NAME "authz: fuzz schema parser seed corpus"
             COMMAND permify_conformance --export-schemas ${STRATO_FUZZ_SCHEMA_CORPUS})
    set_tests_properties("authz: fuzz schema parser seed corpus" PROPERTIES
      FIXTURES_SETUP authz_fuzz_corpus)
  endif()
  add_test(NAME "authz: fuzz schema parser (short run)"
           COMMAND ${STRATO_FUZZ_SCHEMA_BIN} -max_total_time=20 -rss_limit_mb=2048
                   -timeout=10 ${STRATO_FUZZ_SCHEMA_CORPUS})
  set_tests_properties("authz: fuzz schema parser (short run)" PROPERTIES
    FIXTURES_REQUIRED authz_fuzz_corpus TIMEOUT 120)
else()
  message(STATUS "clang++ not found: the schema parser fuzz target is not built")
endif()
