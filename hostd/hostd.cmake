# hostd: the host daemon (strato-hostd) and the control plane's side of the host protocol.

# Control plane: the host protocol codec and the host request handlers live with the events
# library, beside the relay and the scheduler.
target_sources(strato_events PRIVATE
  ${CMAKE_SOURCE_DIR}/events/host_protocol.cpp
  ${CMAKE_SOURCE_DIR}/events/host_rpc.cpp)

# --- the daemon library: configuration, reconcile, NATS on libuv, the loop.
pkg_check_modules(UV REQUIRED IMPORTED_TARGET libuv)
add_library(strato_hostd STATIC
  ${CMAKE_SOURCE_DIR}/hostd/config.cpp
  ${CMAKE_SOURCE_DIR}/hostd/reconcile.cpp
  ${CMAKE_SOURCE_DIR}/hostd/nats_link.cpp
  ${CMAKE_SOURCE_DIR}/hostd/daemon.cpp
  ${CMAKE_SOURCE_DIR}/hostd/nats_permissions.cpp
)
target_link_libraries(strato_hostd PUBLIC strato_events strato_hypervisor PkgConfig::UV)

add_executable(strato-hostd ${CMAKE_SOURCE_DIR}/hostd/main.cpp)
target_link_libraries(strato-hostd PRIVATE strato_hostd)

# --- tests: hostd end to end (PostgreSQL, nats-server, strato serve, strato-hostd, simulator)
# and the control plane's host handlers.
add_executable(hostd_tests
  ${CMAKE_SOURCE_DIR}/test/hostd/main.cpp
  ${CMAKE_SOURCE_DIR}/test/hostd/stack.cpp
  ${CMAKE_SOURCE_DIR}/test/hostd/hostd_test.cpp
  ${CMAKE_SOURCE_DIR}/test/hostd/host_rpc_test.cpp
  ${CMAKE_SOURCE_DIR}/test/hostd/nats_permissions_test.cpp
  ${CMAKE_SOURCE_DIR}/test/hostd/reconcile_test.cpp
  ${CMAKE_SOURCE_DIR}/test/hostd/config_test.cpp
)
target_link_libraries(hostd_tests PRIVATE strato_test_support strato_hostd)
add_dependencies(hostd_tests strato strato-hostd cloud-hypervisor-simulator)
doctest_discover_tests(hostd_tests TEST_PREFIX "hostd: " PROPERTIES TIMEOUT 600)
add_test(NAME "hostd_tests: case names are selectable"
         COMMAND ${CMAKE_COMMAND} -DBINARY=$<TARGET_FILE:hostd_tests>
                 -P ${CMAKE_SOURCE_DIR}/test/check_test_names.cmake)

# --- benchmark (prints figures; not a test)
add_executable(bench_hostd ${CMAKE_SOURCE_DIR}/test/hostd/bench_hostd.cpp)
target_link_libraries(bench_hostd PRIVATE strato_test_tools strato_hostd)
add_dependencies(bench_hostd strato cloud-hypervisor-simulator)
