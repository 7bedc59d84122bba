# WebAuthn verification core (issue 5): library, tests, conformance run and fuzz targets.
# Included from the root CMakeLists.txt when present.

find_package(OpenSSL REQUIRED)

add_library(strato_webauthn STATIC
  core/webauthn/error.cpp
  core/webauthn/base64url.cpp
  core/webauthn/cbor.cpp
  core/webauthn/crypto.cpp
  core/webauthn/cose.cpp
  core/webauthn/authenticator_data.cpp
  core/webauthn/client_data.cpp
  core/webauthn/attestation.cpp
  core/webauthn/webauthn.cpp
)
target_link_libraries(strato_webauthn PUBLIC strato_core OpenSSL::Crypto PkgConfig::SODIUM)
target_include_directories(strato_webauthn PRIVATE ${RAPIDJSON_INCLUDE_DIRS})

# Shared by the doctest suite and the per-case runner below.
add_library(strato_webauthn_conformance STATIC test/core/webauthn/conformance_runner.cpp)
target_link_libraries(strato_webauthn_conformance PUBLIC strato_webauthn)
target_include_directories(strato_webauthn_conformance PRIVATE ${RAPIDJSON_INCLUDE_DIRS})

add_executable(webauthn_tests
  test/core/webauthn/main.cpp
  test/core/webauthn/base64url_test.cpp
  test/core/webauthn/cbor_test.cpp
  test/core/webauthn/cose_test.cpp
  test/core/webauthn/ceremony_test.cpp
  test/core/webauthn/conformance_test.cpp
)
target_link_libraries(webauthn_tests PRIVATE strato_webauthn strato_webauthn_conformance
                                             doctest::doctest)
target_include_directories(webauthn_tests PRIVATE ${RAPIDJSON_INCLUDE_DIRS})
target_compile_definitions(webauthn_tests PRIVATE
  STRATO_WEBAUTHN_CONFORMANCE_DIR="${CMAKE_SOURCE_DIR}/test/conformance/webauthn")
doctest_discover_tests(webauthn_tests TEST_PREFIX "webauthn: ")
add_test(NAME "webauthn: case names are selectable"
         COMMAND ${CMAKE_COMMAND} -DBINARY=$<TARGET_FILE:webauthn_tests>
                 -P ${CMAKE_SOURCE_DIR}/test/check_test_names.cmake)

# One ctest per conformance case, named after its case id, from index.json at configure time.
set(STRATO_WEBAUTHN_CASES_DIR ${CMAKE_SOURCE_DIR}/test/conformance/webauthn)
add_executable(webauthn_conformance_case test/core/webauthn/conformance_case_main.cpp)
target_link_libraries(webauthn_conformance_case PRIVATE strato_webauthn_conformance)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${STRATO_WEBAUTHN_CASES_DIR}/index.json)
file(READ ${STRATO_WEBAUTHN_CASES_DIR}/index.json webauthn_index)
string(JSON webauthn_case_count LENGTH "${webauthn_index}" cases)
math(EXPR webauthn_last "${webauthn_case_count} - 1")
foreach(i RANGE ${webauthn_last})
  string(JSON webauthn_case_id GET "${webauthn_index}" cases ${i} case_id)
  add_test(NAME "webauthn: conformance ${webauthn_case_id}"
           COMMAND webauthn_conformance_case ${STRATO_WEBAUTHN_CASES_DIR} ${webauthn_case_id})
endforeach()

# Writes the fuzz seed corpus from the conformance cases (built with the main compiler).
add_executable(webauthn_fuzz_seeds test/core/webauthn/fuzz_seeds.cpp)
target_link_libraries(webauthn_fuzz_seeds PRIVATE strato_webauthn)

# Fuzzing needs clang's libFuzzer; the main build uses g++, so the fuzz binary is compiled by
# calling clang++ directly. The CBOR decoder depends only on core/status, which keeps this simple.
find_program(STRATO_CLANGXX clang++)
if(STRATO_CLANGXX AND NOT DEFINED STRATO_CLANGXX_HAS_LIBFUZZER)
  # A clang++ without the libFuzzer runtime would break the default build; probe it once.
  set(probe_dir ${CMAKE_BINARY_DIR}/fuzz-probe)
  file(MAKE_DIRECTORY ${probe_dir})
  file(WRITE ${probe_dir}/probe.cpp
       "#include <cstddef>\n#include <cstdint>\n"
       "extern \"C\" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }\n")
  execute_process(COMMAND ${STRATO_CLANGXX} -fsanitize=fuzzer,address ${probe_dir}/probe.cpp
                          -o ${probe_dir}/probe
                  RESULT_VARIABLE probe_rc OUTPUT_QUIET ERROR_QUIET)
  if(probe_rc EQUAL 0)
    set(STRATO_CLANGXX_HAS_LIBFUZZER ON CACHE INTERNAL "clang++ can link libFuzzer")
  else()
    set(STRATO_CLANGXX_HAS_LIBFUZZER OFF CACHE INTERNAL "clang++ can link libFuzzer")
    message(STATUS "clang++ cannot link libFuzzer; WebAuthn fuzz targets are not built")
  endif()
endif()
if(STRATO_CLANGXX AND STRATO_CLANGXX_HAS_LIBFUZZER)
  set(STRATO_FUZZ_CBOR ${CMAKE_BINARY_DIR}/fuzz/fuzz_webauthn_cbor)
  set(STRATO_FUZZ_CBOR_SOURCES
    ${CMAKE_SOURCE_DIR}/test/core/webauthn/fuzz_cbor.cpp
    ${CMAKE_SOURCE_DIR}/core/webauthn/cbor.cpp
    ${CMAKE_SOURCE_DIR}/core/webauthn/base64url.cpp
    ${CMAKE_SOURCE_DIR}/core/status.cpp
    ${CMAKE_SOURCE_DIR}/core/parse.cpp)
  add_custom_command(
    OUTPUT ${STRATO_FUZZ_CBOR}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/fuzz
    COMMAND ${STRATO_CLANGXX} -g -O1 -fsanitize=fuzzer,address -std=c++20
            -I${CMAKE_SOURCE_DIR} ${STRATO_FUZZ_CBOR_SOURCES} -o ${STRATO_FUZZ_CBOR}
    DEPENDS ${STRATO_FUZZ_CBOR_SOURCES} ${CMAKE_SOURCE_DIR}/core/webauthn/cbor.h
            ${CMAKE_SOURCE_DIR}/core/webauthn/base64url.h ${CMAKE_SOURCE_DIR}/core/status.h
    COMMENT "Building the WebAuthn CBOR fuzz target with clang++ (libFuzzer + ASan)"
    VERBATIM)
  add_custom_target(fuzz_webauthn_cbor ALL DEPENDS ${STRATO_FUZZ_CBOR})

  # Second target: authenticatorData, COSE keys and clientDataJSON (links OpenSSL and libsodium).
  set(STRATO_FUZZ_AUTHDATA ${CMAKE_BINARY_DIR}/fuzz/fuzz_webauthn_authdata)
  set(STRATO_FUZZ_AUTHDATA_SOURCES
    ${CMAKE_SOURCE_DIR}/test/core/webauthn/fuzz_authdata.cpp
    ${CMAKE_SOURCE_DIR}/core/webauthn/authenticator_data.cpp
    ${CMAKE_SOURCE_DIR}/core/webauthn/client_data.cpp
    ${CMAKE_SOURCE_DIR}/core/webauthn/cose.cpp
    ${CMAKE_SOURCE_DIR}/core/webauthn/crypto.cpp
    ${CMAKE_SOURCE_DIR}/core/webauthn/error.cpp
    ${CMAKE_SOURCE_DIR}/core/webauthn/cbor.cpp
    ${CMAKE_SOURCE_DIR}/core/webauthn/base64url.cpp
    ${CMAKE_SOURCE_DIR}/core/status.cpp
    ${CMAKE_SOURCE_DIR}/core/parse.cpp)
  add_custom_command(
    OUTPUT ${STRATO_FUZZ_AUTHDATA}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/fuzz
    COMMAND ${STRATO_CLANGXX} -g -O1 -fsanitize=fuzzer,address -std=c++20
            -Wno-ambiguous-reversed-operator -I${CMAKE_SOURCE_DIR}
            ${STRATO_FUZZ_AUTHDATA_SOURCES} -lcrypto -lsodium
            -o ${STRATO_FUZZ_AUTHDATA}
    DEPENDS ${STRATO_FUZZ_AUTHDATA_SOURCES}
    COMMENT "Building the WebAuthn authenticatorData fuzz target with clang++"
    VERBATIM)
  add_custom_target(fuzz_webauthn_authdata ALL DEPENDS ${STRATO_FUZZ_AUTHDATA})

  # Seed corpus: attestation objects, authenticatorData and COSE keys of the conformance cases.
  set(STRATO_FUZZ_CBOR_CORPUS ${CMAKE_BINARY_DIR}/fuzz/webauthn_cbor_corpus)
  add_test(NAME "webauthn: fuzz cbor decoder (short run)"
           COMMAND ${CMAKE_COMMAND}
                   -DFUZZER=${STRATO_FUZZ_CBOR}
                   -DSEEDER=$<TARGET_FILE:webauthn_fuzz_seeds>
                   -DCORPUS=${STRATO_FUZZ_CBOR_CORPUS}
                   -DCASES=${CMAKE_SOURCE_DIR}/test/conformance/webauthn
                   -DSECONDS=20
                   -P ${CMAKE_SOURCE_DIR}/test/core/webauthn/run_fuzz.cmake)
  set_tests_properties("webauthn: fuzz cbor decoder (short run)" PROPERTIES TIMEOUT 120)
  add_test(NAME "webauthn: fuzz authenticator data parser (short run)"
           COMMAND ${CMAKE_COMMAND}
                   -DFUZZER=${STRATO_FUZZ_AUTHDATA}
                   -DSEEDER=$<TARGET_FILE:webauthn_fuzz_seeds>
                   -DCORPUS=${CMAKE_BINARY_DIR}/fuzz/webauthn_authdata_corpus
                   -DCASES=${CMAKE_SOURCE_DIR}/test/conformance/webauthn
                   -DSECONDS=20
                   -P ${CMAKE_SOURCE_DIR}/test/core/webauthn/run_fuzz.cmake)
  set_tests_properties("webauthn: fuzz authenticator data parser (short run)"
                       PROPERTIES TIMEOUT 120)
endif()
