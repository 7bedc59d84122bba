# http/: the strato binary's web side and command line, one library per stage. Only
# strato_http_server refers to cpp-httplib (test/wrappers/check_symbols.cmake).

# server/: the listener (cpp-httplib), Request/Response, the route table, the request pipeline,
# metrics, strict JSON bodies.
add_library(strato_http_server STATIC
  http/server/server.cpp
  http/server/request.cpp
  http/server/router.cpp
  http/server/pipeline.cpp
  http/server/metrics.cpp
  http/server/json_body.cpp
)
target_link_libraries(strato_http_server PUBLIC strato_core PRIVATE PkgConfig::HTTPLIB)

# app/: what handlers share (App), who may read which events, the VM directory, page helpers.
add_library(strato_http_app STATIC
  http/app/app.cpp
  http/app/visibility.cpp
  http/app/vm_directory.cpp
  http/app/permissions.cpp
)
target_link_libraries(strato_http_app PUBLIC strato_http_server strato_commands strato_pg
                                             strato_read_queries strato_webauthn)

# auth/: sessions and challenges, the WebAuthn ceremonies, the account's routes.
add_library(strato_http_auth STATIC
  http/auth/auth_store.cpp
  http/auth/auth_routes.cpp
)
target_link_libraries(strato_http_auth PUBLIC strato_http_app)

# api/: the JSON API and its OpenAPI document.
add_library(strato_http_api STATIC
  http/api/api_routes.cpp
  http/api/api_hosts.cpp
  http/api/api_events.cpp
  http/api/openapi.cpp
  http/api/api_shapes.cpp
  http/api/api_contracts.cpp
)
target_link_libraries(strato_http_api PUBLIC strato_http_app)

# pages/: the HTML pages (the embedded assets are added by ui/ui.cmake).
add_library(strato_http_pages STATIC
  http/pages/ui_assets.cpp
  http/pages/ui_html.cpp
  http/pages/ui_routes.cpp
  http/pages/page_orgs.cpp
  http/pages/page_vms.cpp
  http/pages/page_dashboard.cpp
  http/pages/page_hosts.cpp
  http/pages/page_audit.cpp
)
target_link_libraries(strato_http_pages PUBLIC strato_http_auth strato_http_app)

# live/: live updates (server-sent events): the hub and its route.
add_library(strato_http_live STATIC
  http/live/live_events.cpp
  http/live/live_routes.cpp
)
target_link_libraries(strato_http_live PUBLIC strato_http_app)

# cli/: the strato command line (serve, migrate, relay, events, replay, audit, platform) and the
# web stack `serve` builds (web.*).
add_library(strato_http STATIC
  http/cli/web.cpp
  http/cli/cli.cpp
  ${STRATO_PERM_CPP}
)
target_link_libraries(strato_http PUBLIC strato_http_api strato_http_pages strato_http_live
                                         strato_http_auth strato_host_control strato_leader
                                         strato_read_models)

add_executable(strato http/cli/main.cpp)
target_link_libraries(strato PRIVATE strato_http)
