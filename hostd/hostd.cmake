# hostd: the host daemon (strato-hostd). The control plane's side of the host protocol is
# events/hosts/ (events/events.cmake); hostd's NATS connection on its loop is events/bus/.

# --- the daemon library: configuration, reconcile, the VMM supervisor, the control link, the
# loop that runs them.
add_library(strato_hostd STATIC
  ${CMAKE_SOURCE_DIR}/hostd/config.cpp
  ${CMAKE_SOURCE_DIR}/hostd/reconcile.cpp
  ${CMAKE_SOURCE_DIR}/hostd/retry.cpp
  ${CMAKE_SOURCE_DIR}/hostd/vm_state.cpp
  ${CMAKE_SOURCE_DIR}/hostd/work_queue.cpp
  ${CMAKE_SOURCE_DIR}/hostd/supervisor.cpp
  ${CMAKE_SOURCE_DIR}/hostd/control_link.cpp
  ${CMAKE_SOURCE_DIR}/hostd/daemon.cpp
  ${CMAKE_SOURCE_DIR}/hostd/nats_permissions.cpp
)
target_link_libraries(strato_hostd PUBLIC strato_host_control strato_bus_uv strato_hypervisor
                                          PkgConfig::UV)

add_executable(strato-hostd ${CMAKE_SOURCE_DIR}/hostd/main.cpp)
target_link_libraries(strato-hostd PRIVATE strato_hostd)

# --- tests: hostd end to end (PostgreSQL, nats-server, strato serve, strato-hostd, simulator)
# and the control plane's host handlers.
add_executable(hostd_tests
  ${CMAKE_SOURCE_DIR}/test/hostd/main.cpp
  ${CMAKE_SOURCE_DIR}/test/hostd/stack.cpp
  ${CMAKE_SOURCE_DIR}/test/hostd/hostd_test.cpp
  ${CMAKE_SOURCE_DIR}/test/hostd/hostd_qemu_test.cpp
  ${CMAKE_SOURCE_DIR}/test/hostd/host_rpc_test.cpp
  ${CMAKE_SOURCE_DIR}/test/hostd/host_limits_test.cpp
  ${CMAKE_SOURCE_DIR}/test/hostd/nats_permissions_test.cpp
  ${CMAKE_SOURCE_DIR}/test/hostd/reconcile_test.cpp
  ${CMAKE_SOURCE_DIR}/test/hostd/vm_state_test.cpp
  ${CMAKE_SOURCE_DIR}/test/hostd/retry_test.cpp
  ${CMAKE_SOURCE_DIR}/test/hostd/config_test.cpp
)
target_link_libraries(hostd_tests PRIVATE strato_test_support strato_hostd)
# The test guest ops/guest/build makes (ops/setup runs it); STRATO_GUEST_DIR overrides.
target_compile_definitions(hostd_tests PRIVATE STRATO_GUEST_DIR="${CMAKE_BINARY_DIR}/guest")
add_dependencies(hostd_tests strato strato-hostd cloud-hypervisor-simulator)
doctest_discover_tests(hostd_tests TEST_PREFIX "hostd: " PROPERTIES TIMEOUT 600)
add_test(NAME "hostd_tests: case names are selectable"
         COMMAND ${CMAKE_COMMAND} -DBINARY=$<TARGET_FILE:hostd_tests>
                 -P ${CMAKE_SOURCE_DIR}/test/check_test_names.cmake)

# --- benchmark (prints figures; not a test)
add_executable(bench_hostd ${CMAKE_SOURCE_DIR}/test/hostd/bench_hostd.cpp)
target_link_libraries(bench_hostd PRIVATE strato_test_tools strato_hostd)
add_dependencies(bench_hostd strato cloud-hypervisor-simulator)

# --- fuzz target for the host RPC, built with clang++ (the main build uses g++). The host
# protocol and the handlers are compiled with libFuzzer's coverage and ASan; the libraries
# they use (the in-memory store, the domain, the command pipeline) are linked from the g++
# build.
find_program(STRATO_HOSTD_CLANGXX clang++)
if(STRATO_HOSTD_CLANGXX)
  set(STRATO_FUZZ_HOST_RPC_BIN ${CMAKE_BINARY_DIR}/hostd-fuzz/fuzz_host_rpc)
  set(STRATO_FUZZ_HOST_RPC_CORPUS ${CMAKE_BINARY_DIR}/hostd-fuzz/corpus)
  file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/hostd-fuzz ${STRATO_FUZZ_HOST_RPC_CORPUS})
  set(STRATO_FUZZ_HOST_RPC_SOURCES
    ${CMAKE_SOURCE_DIR}/test/hostd/fuzz_host_rpc.cpp
    ${CMAKE_SOURCE_DIR}/events/hosts/host_protocol.cpp
    ${CMAKE_SOURCE_DIR}/events/hosts/host_rpc.cpp)
  add_custom_command(
    OUTPUT ${STRATO_FUZZ_HOST_RPC_BIN}
    COMMAND ${STRATO_HOSTD_CLANGXX} -g -O1 -fsanitize=fuzzer,address -std=c++20
            -Wno-ambiguous-reversed-operator
            -I${CMAKE_SOURCE_DIR} -I/usr/include/postgresql ${STRATO_FUZZ_HOST_RPC_SOURCES}
            $<TARGET_FILE:strato_commands> $<TARGET_FILE:strato_pg> $<TARGET_FILE:strato_bus>
            $<TARGET_FILE:strato_log> $<TARGET_FILE:strato_core>
            -lpq -lnats -lsodium -lpthread -o ${STRATO_FUZZ_HOST_RPC_BIN}
    DEPENDS ${STRATO_FUZZ_HOST_RPC_SOURCES}
            ${CMAKE_SOURCE_DIR}/events/hosts/host_protocol.h
            ${CMAKE_SOURCE_DIR}/events/hosts/host_rpc.h
            strato_commands strato_pg strato_bus strato_log strato_core
    COMMENT "Building fuzz_host_rpc with clang++ (libFuzzer + ASan)"
    VERBATIM)
  add_custom_target(fuzz_host_rpc ALL DEPENDS ${STRATO_FUZZ_HOST_RPC_BIN})
  # New inputs go to the build's corpus; the seeds in the tree are read only.
  add_test(NAME "hostd: fuzz host rpc (short run)"
           COMMAND ${STRATO_FUZZ_HOST_RPC_BIN} -max_total_time=20 -rss_limit_mb=2048
                   -timeout=10 -max_len=65536
                   -dict=${CMAKE_SOURCE_DIR}/test/hostd/fuzz_host_rpc.dict
                   ${STRATO_FUZZ_HOST_RPC_CORPUS}
                   ${CMAKE_SOURCE_DIR}/test/hostd/fuzz_host_rpc_seeds)
  set_tests_properties("hostd: fuzz host rpc (short run)" PROPERTIES TIMEOUT 120)
else()
  message(STATUS "clang++ not found: the host RPC fuzz target is not built")
endif()
