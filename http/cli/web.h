// WebStack: everything behind the HTTP listener of `strato serve`, built in one place — the
// permission schema (embedded schema/strato.perm, or STRATO_PERMISSION_SCHEMA to use another
// file; a schema that does not parse stops the server with its error), the tuple feed and
// engine, the database pool, sign-in store, command side, the route table (validated: an
// undeclared route or an unknown permission stops the server) and the request pipeline.
//
// Create on one thread, before serving; the pipeline is then used from the server's threads.
// The event store and projection runner are borrowed and must outlive the stack.
#pragma once

#include <memory>
#include <string_view>

#include "core/config.h"
#include "events/log/event_store.h"
#include "http/app/app.h"
#include "http/app/visibility.h"
#include "http/app/vm_directory.h"
#include "http/auth/auth_store.h"
#include "http/live/live_events.h"
#include "http/server/metrics.h"
#include "http/server/pipeline.h"
#include "http/server/router.h"
#include "projections/queries/tuple_feed.h"
#include "projections/runner/runner.h"

namespace strato::http {

std::string_view EmbeddedPermissionSchema();

// Routes are added by the route modules; this lets tests build the same table.
void AddAllRoutes(Router& router, App& app);

// Authorizer over the embedded engine: may user:<principal> do `permission` on type:id?
class EngineAuthorizer final : public Authorizer {
 public:
  explicit EngineAuthorizer(const projections::TupleFeed& feed) : feed_(feed) {}
  Result<bool> Check(const Principal& who, std::string_view type, std::string_view id,
                     std::string_view permission) override;

 private:
  const projections::TupleFeed& feed_;
};

class WebStack {
 public:
  // `served_port` completes the development default origin (http://localhost:<port>).
  static Result<std::unique_ptr<WebStack>> Create(const ServeConfig& config, int served_port,
                                                  events::EventStore& store,
                                                  const projections::ProjectionRunner& runner,
                                                  std::unique_ptr<events::AppendWaiter> waiter,
                                                  const Env& env);
  ~WebStack();

  Pipeline& pipeline() { return *pipeline_; }
  const Router& router() const { return router_; }
  App& app() { return *app_; }
  // Counts a command in /metrics (strato_commands_total) by its table name and outcome: the
  // observer of the stack's own DomainCommands, for other DomainCommands of the process (the
  // leader's scheduler and host control plane) to count theirs too.
  events::DomainCommands::Observer CommandObserver();

 private:
  WebStack() = default;
  std::unique_ptr<projections::TupleFeed> feed_;
  std::unique_ptr<events::PgPool> pool_;
  std::unique_ptr<AuthStore> auth_;
  std::unique_ptr<events::DomainCommands> commands_;
  std::unique_ptr<App> app_;
  std::unique_ptr<VmDirectory> directory_;
  std::unique_ptr<StreamOrganizations> stream_organizations_;
  std::unique_ptr<LiveHub> live_;
  Router router_;
  std::unique_ptr<EngineAuthorizer> authorizer_;
  std::unique_ptr<RateLimiter> limiter_;
  std::unique_ptr<RateLimiter> username_limiter_;  // ceremony starts per username
  std::unique_ptr<Pipeline> pipeline_;
  Metrics metrics_;
};

// GET /metrics. Public to the pipeline (a scraper has no session), and guarded inside by
// MetricsScrapeAllowed (http/server/metrics.h): the bearer `token` (STRATO_METRICS_TOKEN) when set,
// else development only.
void AddMetricsRoute(Router& router, App& app, const Metrics& metrics, std::string token);

}  // namespace strato::http
