# hostd/hypervisor: the Hypervisor interface's Cloud Hypervisor driver, the Cloud Hypervisor
# simulator (a test double, under test/fakes/) and their tests. Included by the root
# CMakeLists.txt when present.

# --- the drivers: HTTP/1.1 over a unix socket + CloudHypervisorDriver; a QMP client for QEMU.
# Links strato_core only.
add_library(strato_hypervisor STATIC
  ${CMAKE_SOURCE_DIR}/hostd/hypervisor/unix_socket.cpp
  ${CMAKE_SOURCE_DIR}/hostd/hypervisor/unix_http_client.cpp
  ${CMAKE_SOURCE_DIR}/hostd/hypervisor/ch_driver.cpp
  ${CMAKE_SOURCE_DIR}/hostd/hypervisor/qmp_client.cpp
  ${CMAKE_SOURCE_DIR}/hostd/hypervisor/qemu_driver.cpp
  ${CMAKE_SOURCE_DIR}/hostd/hypervisor/subprocess.cpp
  ${CMAKE_SOURCE_DIR}/hostd/hypervisor/seed.cpp
)
target_link_libraries(strato_hypervisor PUBLIC strato_core)
if(TARGET RapidJSON)
  target_link_libraries(strato_hypervisor PRIVATE RapidJSON)
elseif(RapidJSON_INCLUDE_DIRS)
  target_include_directories(strato_hypervisor PRIVATE ${RapidJSON_INCLUDE_DIRS})
endif()

# --- the simulator: a lean single-threaded executable; it links nothing of Strato.
add_library(strato_ch_simulator_model STATIC
  ${CMAKE_SOURCE_DIR}/test/fakes/ch_simulator/vmm_model.cpp
)
target_include_directories(strato_ch_simulator_model PUBLIC ${CMAKE_SOURCE_DIR})
if(TARGET RapidJSON)
  target_link_libraries(strato_ch_simulator_model PRIVATE RapidJSON)
elseif(RapidJSON_INCLUDE_DIRS)
  target_include_directories(strato_ch_simulator_model PRIVATE ${RapidJSON_INCLUDE_DIRS})
endif()

add_executable(cloud-hypervisor-simulator ${CMAKE_SOURCE_DIR}/test/fakes/ch_simulator/main.cpp)
target_link_libraries(cloud-hypervisor-simulator PRIVATE strato_ch_simulator_model)

# --- tests: the driver against real simulator processes, the simulator's HTTP behaviour, and the
# OpenAPI conformance of both (yaml-cpp reads the spec).
pkg_check_modules(YAMLCPP REQUIRED IMPORTED_TARGET yaml-cpp)
add_executable(hypervisor_tests
  ${CMAKE_SOURCE_DIR}/test/hostd/hypervisor/main.cpp
  ${CMAKE_SOURCE_DIR}/test/hostd/hypervisor/sim_process.cpp
  ${CMAKE_SOURCE_DIR}/test/hostd/hypervisor/http_client_test.cpp
  ${CMAKE_SOURCE_DIR}/test/hostd/hypervisor/ch_driver_test.cpp
  ${CMAKE_SOURCE_DIR}/test/hostd/hypervisor/simulator_test.cpp
  ${CMAKE_SOURCE_DIR}/test/hostd/hypervisor/openapi_conformance_test.cpp
  ${CMAKE_SOURCE_DIR}/test/hostd/hypervisor/qmp_client_test.cpp
  ${CMAKE_SOURCE_DIR}/test/hostd/hypervisor/qemu_driver_test.cpp
)
target_link_libraries(hypervisor_tests PRIVATE strato_hypervisor strato_ch_simulator_model
  PkgConfig::YAMLCPP doctest::doctest)
if(TARGET RapidJSON)
  target_link_libraries(hypervisor_tests PRIVATE RapidJSON)
elseif(RapidJSON_INCLUDE_DIRS)
  target_include_directories(hypervisor_tests PRIVATE ${RapidJSON_INCLUDE_DIRS})
endif()
target_compile_definitions(hypervisor_tests PRIVATE
  STRATO_CH_SIMULATOR_BIN="$<TARGET_FILE:cloud-hypervisor-simulator>"
  STRATO_CH_CONFORMANCE_DIR="${CMAKE_SOURCE_DIR}/test/conformance/cloud-hypervisor"
  # The test guest ops/guest/build makes (ops/setup runs it); STRATO_GUEST_DIR overrides.
  STRATO_GUEST_DIR="${CMAKE_BINARY_DIR}/guest")
add_dependencies(hypervisor_tests cloud-hypervisor-simulator)
doctest_discover_tests(hypervisor_tests TEST_PREFIX "hypervisor: ")
add_test(NAME "hypervisor_tests: case names are selectable"
         COMMAND ${CMAKE_COMMAND} -DBINARY=$<TARGET_FILE:hypervisor_tests>
                 -P ${CMAKE_SOURCE_DIR}/test/check_test_names.cmake)
