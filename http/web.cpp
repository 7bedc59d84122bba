#include "http/web.h"

#include <fstream>
#include <sstream>

#include "core/authz/schema.h"
#include "core/log.h"
#include "http/api_routes.h"
#include "http/auth_routes.h"
#include "http/openapi.h"
#include "http/ui_routes.h"

namespace strato::http {

void AddAllRoutes(Router& router, App& app) {
  AddAuthRoutes(router, app);
  AddApiRoutes(router, app);
  AddUiRoutes(router, app);
  AddOpenApiRoute(router, app);  // last: it documents the table above
}

Result<bool> EngineAuthorizer::Check(const Principal& who, std::string_view type,
                                     std::string_view id, std::string_view permission) {
  authz::CheckRequest r;
  r.entity_type = type;
  r.entity_id = id;
  r.permission = permission;
  r.subject_type = "user";
  r.subject_id = who.user_id;
  return feed_.engine().Check(r);
}

namespace {

Result<std::shared_ptr<const authz::Schema>> LoadPermissionSchema(const Env& env) {
  auto path = env.Get("STRATO_PERMISSION_SCHEMA");
  if (!path || path->empty()) {
    auto schema = authz::LoadSchema(EmbeddedPermissionSchema());
    if (!schema.ok()) return schema.status().WithContext("the built-in schema/strato.perm");
    return schema;
  }
  std::ifstream in(*path);
  if (!in) {
    return Status::InvalidArgument("STRATO_PERMISSION_SCHEMA names " + *path +
                                   ", which cannot be read");
  }
  std::stringstream text;
  text << in.rdbuf();
  auto schema = authz::LoadSchema(text.str());
  if (!schema.ok()) return schema.status().WithContext(*path);
  return schema;
}

}  // namespace

WebStack::~WebStack() {
  if (feed_) feed_->Stop();
}

Result<std::unique_ptr<WebStack>> WebStack::Create(const ServeConfig& config, int served_port,
                                                   events::EventStore& store,
                                                   const projections::ProjectionRunner& runner,
                                                   std::unique_ptr<events::AppendWaiter> waiter,
                                                   const Env& env) {
  auto schema = LoadPermissionSchema(env);
  if (!schema.ok()) return schema.status();
  std::unique_ptr<WebStack> w(new WebStack());

  auto feed =
      projections::TupleFeed::Create(*schema, config.database_url, store, std::move(waiter));
  if (!feed.ok()) return feed.status();
  w->feed_ = std::move(*feed);
  STRATO_RETURN_IF_ERROR(w->feed_->CatchUp());
  w->feed_->Start();

  w->pool_ = std::make_unique<events::PgPool>(config.database_url, 16);
  w->auth_ = std::make_unique<AuthStore>(*w->pool_);
  w->commands_ = std::make_unique<events::DomainCommands>(store);
  webauthn::RelyingParty rp;
  rp.id = config.relying_party.id;
  rp.origins = config.relying_party.origins;
  if (rp.origins.empty()) rp.origins.push_back("http://localhost:" + std::to_string(served_port));
  w->app_.reset(new App{*w->pool_, *w->commands_, *w->auth_, runner, rp, config.relying_party.name,
                        config.environment});
  w->app_->tuples = w->feed_.get();
  AddAllRoutes(w->router_, *w->app_);
  const authz::Schema& s = **schema;
  Status valid = w->router_.Validate([&s](std::string_view type, std::string_view permission) {
    auto t = s.FindType(type);
    return t && s.FindMember(*t, permission).has_value();
  });
  if (!valid.ok()) return valid;
  w->authorizer_ = std::make_unique<EngineAuthorizer>(*w->feed_);
  w->limiter_ = std::make_unique<RateLimiter>(10, 30);
  w->pipeline_ = std::make_unique<Pipeline>(w->router_, *w->auth_, *w->authorizer_, *w->limiter_);
  log::Info("web stack ready", {{"routes", static_cast<int64_t>(w->router_.routes().size())},
                                {"relying_party", rp.id}});
  return w;
}

}  // namespace strato::http
