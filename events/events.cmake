# events/: the log and what moves events, one library per stage (each folder's README says what
# it may include). The wrapper rules are checked on the built libraries: only strato_pg refers to
# libpq, only strato_bus and strato_bus_uv to nats.c (test/wrappers/check_symbols.cmake).

# log/: the event envelope, the EventStore interface, the in-memory store, the hash chain,
# filters, folds "as of" a position. No I/O library.
add_library(strato_log STATIC
  events/log/event.cpp
  events/log/event_store.cpp
  events/log/memory_event_store.cpp
  events/log/hash_chain.cpp
  events/log/event_filter.cpp
  events/log/audit.cpp
  events/log/as_of.cpp
)
target_link_libraries(strato_log PUBLIC strato_core)

# pg/: PostgreSQL — the connection wrapper and pool, migrations, the event store, the log scan.
add_library(strato_pg STATIC
  events/pg/pg.cpp
  events/pg/pg_pool.cpp
  events/pg/jsonb_text.cpp
  events/pg/migrator.cpp
  events/pg/pg_event_store.cpp
  events/pg/log_scan.cpp
  ${STRATO_MIGRATIONS_CPP}
)
target_link_libraries(strato_pg PUBLIC strato_log PRIVATE PkgConfig::PQ)

# bus/: NATS — connections, JetStream streams and subscriptions, core subscriptions, the relay.
add_library(strato_bus STATIC
  events/bus/nats_bus.cpp
  events/bus/relay.cpp
)
target_link_libraries(strato_bus PUBLIC strato_log PRIVATE PkgConfig::NATS)

# bus/nats_link: hostd's NATS connection on its libuv loop (nats.c's libuv adapter): the one
# place where nats.c meets libuv, a library of its own that only hostd links.
pkg_check_modules(UV REQUIRED IMPORTED_TARGET libuv)
add_library(strato_bus_uv STATIC
  events/bus/nats_link.cpp
)
target_link_libraries(strato_bus_uv PUBLIC strato_bus PRIVATE PkgConfig::NATS PkgConfig::UV)

# commands/: the command pipeline, the command table, the scheduler service.
add_library(strato_commands STATIC
  events/commands/command_pipeline.cpp
  events/commands/domain_commands.cpp
  events/commands/scheduler_service.cpp
)
target_link_libraries(strato_commands PUBLIC strato_log)

# hosts/: the control plane's side of the host protocol (codec, handlers, host RPC service).
add_library(strato_host_control STATIC
  events/hosts/host_protocol.cpp
  events/hosts/host_rpc.cpp
)
target_link_libraries(strato_host_control PUBLIC strato_commands strato_pg strato_bus)

# leader/: leader election (the advisory lock, fenced by a watch on its session, leader_terms)
# and the leader's loop: the relay, the scheduler and the host control plane while it leads.
add_library(strato_leader STATIC
  events/leader/leader.cpp
)
target_link_libraries(strato_leader PUBLIC strato_host_control strato_commands strato_pg strato_bus)
