# projections/: read models folded from the log. runner/ folds (live and rebuilds), models/
# holds each read model's fold, queries/ reads read models for the web side.

add_library(strato_projection_runner STATIC
  projections/runner/runner.cpp
  projections/runner/planned_projection.cpp
  projections/runner/rebuild.cpp
)
target_link_libraries(strato_projection_runner PUBLIC strato_pg strato_bus)

add_library(strato_read_models STATIC
  projections/models/audit_projection.cpp
  projections/models/vm_projection.cpp
  projections/models/host_projection.cpp
  projections/models/org_projection.cpp
  projections/models/user_projection.cpp
  projections/models/relationship_projection.cpp
  projections/models/registry.cpp
)
target_link_libraries(strato_read_models PUBLIC strato_projection_runner strato_authz)

add_library(strato_read_queries STATIC
  projections/queries/tuple_feed.cpp
  projections/queries/org_queries.cpp
  projections/queries/user_queries.cpp
  projections/queries/status_queries.cpp
  projections/queries/page_queries.cpp
  projections/queries/vm_queries.cpp
  projections/queries/host_queries.cpp
  projections/queries/audit_queries.cpp
  projections/queries/pg_queries.cpp
)
target_link_libraries(strato_read_queries PUBLIC strato_read_models strato_authz)
