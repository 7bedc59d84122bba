#include "http/cli/web.h"

#include <fstream>
#include <sstream>

#include "core/authz/schema.h"
#include "core/log.h"
#include "core/webauthn/webauthn.h"
#include "http/api/api_events.h"
#include "http/api/api_hosts.h"
#include "http/api/api_routes.h"
#include "http/api/openapi.h"
#include "http/auth/auth_routes.h"
#include "http/live/live_events.h"
#include "http/live/live_routes.h"
#include "http/pages/page_audit.h"
#include "http/pages/page_dashboard.h"
#include "http/pages/page_hosts.h"
#include "http/pages/ui_routes.h"
#include "projections/queries/status_queries.h"

namespace strato::http {

namespace {

// "ok"; "refused" when the command was wrong for the state or the caller (a person's mistake or
// a race); "failed" when the system could not run it.
const char* CommandOutcomeLabel(const Status& s) {
  switch (s.code()) {
    case Code::kOk:
      return "ok";
    case Code::kInvalidArgument:
    case Code::kNotFound:
    case Code::kAlreadyExists:
    case Code::kConflict:
    case Code::kFailedPrecondition:
    case Code::kPermissionDenied:
    case Code::kUnauthenticated:
      return "refused";
    default:
      return "failed";
  }
}

// The gauges read when scraped: the log's end, each projection's lag, hosts and VMs by state.
Result<std::string> ScrapeGauges(App& app) {
  auto db = app.db.Acquire();
  if (!db.ok()) return db.status();
  auto snapshot = projections::ReadStatusSnapshot(**db);
  if (!snapshot.ok()) return snapshot.status();
  const int64_t log_end = snapshot->log_end;
  std::string out;
  out += "# HELP strato_log_position The position of the last event in the log.\n";
  out += "# TYPE strato_log_position gauge\nstrato_log_position " + std::to_string(log_end) + "\n";
  out += "# HELP strato_projection_lag_events Events in the log a projection has not applied.\n";
  out += "# TYPE strato_projection_lag_events gauge\n";
  for (const projections::ProjectionCheckpoint& c : snapshot->checkpoints) {
    out += "strato_projection_lag_events{projection=\"" + PromLabel(c.name) + "\"} " +
           std::to_string(log_end - c.position) + "\n";
  }
  out += "# HELP strato_projection_stopped 1 while a projection is stopped on an event.\n";
  out += "# TYPE strato_projection_stopped gauge\n";
  for (const projections::ProjectionCheckpoint& c : snapshot->checkpoints) {
    out += "strato_projection_stopped{projection=\"" + PromLabel(c.name) + "\"} " +
           (c.stopped ? "1" : "0") + "\n";
  }
  out += "# HELP strato_hosts Hosts by state.\n# TYPE strato_hosts gauge\n";
  for (const projections::StateCount& h : snapshot->hosts) {
    out += "strato_hosts{state=\"" + h.state + "\"} " + std::to_string(h.count) + "\n";
  }
  out += "# HELP strato_vms VMs (not deleted) by observed and desired state.\n";
  out += "# TYPE strato_vms gauge\n";
  for (const projections::StateCount& v : snapshot->vms) {
    out += "strato_vms{observed=\"" + PromLabel(v.state) + "\",desired=\"" + PromLabel(v.desired) +
           "\"} " + std::to_string(v.count) + "\n";
  }
  if (app.leader) {
    const LeaderInfo l = app.leader();
    out +=
        "# HELP strato_leader Whether this instance leads (runs the relay, scheduler, liveness).\n";
    out += "# TYPE strato_leader gauge\nstrato_leader " + std::string(l.leading ? "1" : "0") + "\n";
    out +=
        "# HELP strato_leader_term The leadership term this instance leads in (0: it does not).\n";
    out += "# TYPE strato_leader_term gauge\nstrato_leader_term " + std::to_string(l.term) + "\n";
  }
  if (app.relay_published) {
    if (std::optional<int64_t> published = app.relay_published()) {
      out +=
          "# HELP strato_relay_lag_events Events in the log the relay has not yet published to "
          "NATS (this process leads).\n";
      out += "# TYPE strato_relay_lag_events gauge\nstrato_relay_lag_events " +
             std::to_string(log_end - *published) + "\n";
    }
  }
  if (app.live != nullptr) {
    out += "# HELP strato_sse_clients Live-update streams (server-sent events) open now.\n";
    out += "# TYPE strato_sse_clients gauge\nstrato_sse_clients " +
           std::to_string(app.live->clients()) + "\n";
    out += "# HELP strato_sse_published_events_total Events the live-update hub published.\n";
    out += "# TYPE strato_sse_published_events_total counter\nstrato_sse_published_events_total " +
           std::to_string(app.live->published()) + "\n";
    out +=
        "# HELP strato_sse_lag_events Events in the log the live-update hub has not published.\n";
    out += "# TYPE strato_sse_lag_events gauge\nstrato_sse_lag_events " +
           std::to_string(log_end - app.live->head()) + "\n";
  }
  return out;
}

}  // namespace

void AddMetricsRoute(Router& router, App& app, const Metrics& metrics, std::string token) {
  Route r;
  r.method = "GET";
  r.pattern = "/metrics";
  // The pipeline lets anyone through (a scraper has no session); the handler's first step,
  // MetricsScrapeAllowed, is this route's whole access rule.
  r.access = Access::Public();
  r.summary =
      "Prometheus metrics (requests, commands, log, projections, hosts, VMs); needs "
      "Authorization: Bearer <STRATO_METRICS_TOKEN>, or a development server";
  r.handler = [&app, &metrics, token = std::move(token)](Request& req) {
    Status allowed = MetricsScrapeAllowed(req.Header("Authorization"), token, app.environment);
    if (!allowed.ok()) {
      Response refused = JsonError(allowed);
      if (allowed.code() == Code::kUnauthenticated) {
        refused.With("WWW-Authenticate", "Bearer realm=\"strato-metrics\"");
      }
      return refused;
    }
    auto gauges = ScrapeGauges(app);
    if (!gauges.ok()) return JsonError(gauges.status());
    Response res;
    res.status = 200;
    res.content_type = "text/plain; version=0.0.4; charset=utf-8";
    res.body = metrics.Render() + *gauges;
    return res;
  };
  router.Add(std::move(r));
}

void AddAllRoutes(Router& router, App& app) {
  AddAuthRoutes(router, app);
  AddApiRoutes(router, app);
  AddHostApiRoutes(router, app);
  AddEventApiRoutes(router, app);
  AddUiRoutes(router, app);
  AddDashboardPages(router, app);
  AddHostPages(router, app);
  AddAuditPages(router, app);
  AddLiveRoutes(router, app);
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
  if (live_) live_->Stop();
  if (feed_) feed_->Stop();
}

events::DomainCommands::Observer WebStack::CommandObserver() {
  return [metrics = &metrics_](std::string_view name, const Status& s) {
    metrics->CountCommand(std::string(name), CommandOutcomeLabel(s));
  };
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
  // Commands by their table name and outcome, whichever route (API or page) ran them.
  w->commands_->SetObserver(w->CommandObserver());
  webauthn::RelyingParty rp;
  rp.id = config.relying_party.id;
  rp.origins = config.relying_party.origins;
  if (rp.origins.empty()) rp.origins.push_back("http://localhost:" + std::to_string(served_port));
  w->app_.reset(new App{*w->pool_, *w->commands_, *w->auth_, runner, rp, config.relying_party.name,
                        config.environment});
  w->app_->tuples = w->feed_.get();
  w->app_->log = &store;
  // Sign-in policy: user verification, attestation trust anchors, per-username budgets.
  w->app_->require_user_verification = config.require_user_verification;
  if (!config.attestation_trust_anchors.empty()) {
    std::ifstream pem(config.attestation_trust_anchors);
    std::stringstream text;
    text << pem.rdbuf();
    auto anchors = webauthn::LoadPemCertificates(text.str());
    if (!pem || !anchors.ok()) {
      return Status::InvalidArgument(
          "STRATO_WEBAUTHN_TRUST_ANCHORS names " + config.attestation_trust_anchors +
          ", which holds no readable PEM certificate" +
          (anchors.ok() ? std::string() : ": " + anchors.status().message()));
    }
    w->app_->attestation_trust_anchors = std::move(anchors.value());
  }
  w->username_limiter_ = std::make_unique<RateLimiter>(5, 10);
  w->app_->username_limiter = w->username_limiter_.get();
  w->directory_ = std::make_unique<VmDirectory>(*w->pool_, runner);
  w->app_->vm_directory = w->directory_.get();
  w->stream_organizations_ = std::make_unique<StreamOrganizations>();
  w->app_->stream_organizations = w->stream_organizations_.get();
  App* app = w->app_.get();
  LiveHub::Options live_options;
  live_options.max_clients_per_user = static_cast<size_t>(config.live_streams_per_user);
  w->live_ = std::make_unique<LiveHub>(
      store, *w->feed_, [app](int64_t position) { return app->WaitForReadModels(position); },
      live_options);
  STRATO_RETURN_IF_ERROR(w->live_->Start());
  w->app_->live = w->live_.get();
  w->app_->live_head = [hub = w->live_.get()] { return hub->head(); };
  AddAllRoutes(w->router_, *w->app_);
  AddMetricsRoute(w->router_, *w->app_, w->metrics_, config.metrics_token);
  const authz::Schema& s = **schema;
  Status valid = w->router_.Validate([&s](std::string_view type, std::string_view permission) {
    auto t = s.FindType(type);
    return t && s.FindMember(*t, permission).has_value();
  });
  if (!valid.ok()) return valid;
  w->authorizer_ = std::make_unique<EngineAuthorizer>(*w->feed_);
  w->limiter_ = std::make_unique<RateLimiter>(10, 30);
  w->pipeline_ = std::make_unique<Pipeline>(w->router_, *w->auth_, *w->authorizer_, *w->limiter_);
  w->pipeline_->SetMetrics(&w->metrics_);
  w->pipeline_->SetAllowedOrigins(rp.origins);
  log::Info("web stack ready", {{"routes", static_cast<int64_t>(w->router_.routes().size())},
                                {"relying_party", rp.id}});
  return w;
}

}  // namespace strato::http
