#include "http/cli/cli.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "core/domain/platform.h"
#include "core/log.h"
#include "core/parse.h"
#include "events/bus/nats_bus.h"
#include "events/bus/relay.h"
#include "events/hosts/host_rpc.h"
#include "events/leader/leader.h"
#include "events/log/as_of.h"
#include "events/log/audit.h"
#include "events/log/event_filter.h"
#include "events/pg/migrator.h"
#include "events/pg/pg_event_store.h"
#include "http/cli/web.h"
#include "http/server/server.h"
#include "projections/models/registry.h"
#include "projections/queries/org_queries.h"
#include "projections/runner/rebuild.h"
#include "projections/runner/runner.h"

namespace strato::cli {
namespace {

constexpr const char* kUsage = R"(strato — the Strato control plane

usage:
  strato serve                 HTTP API and UI, relay, background work
  strato migrate               apply database migrations
  strato relay                 publish the log to NATS JetStream (only the relay)
  strato events [--stream S] [--from N] [--type T] [--actor A] [--since TIME]
                [--until TIME] [--limit N] [--follow]
                               print events as JSON lines (--from: position, or the
                               stream version with --stream; TIME in RFC 3339)
  strato replay                rebuild every read model from the log into fresh tables,
                               swap them in, and say whether they equal the live ones
  strato replay --as-of <position|time> (--stream S | --all)
                               print aggregates' state as it was then, as JSON
  strato audit verify          recompute the hash chain; print OK or the first bad position
  strato platform grant --username NAME --role admin|operator
  strato platform revoke --username NAME --role admin|operator
                               give or take a platform role (operators see hosts,
                               admins also cordon them); run as the installation's
                               operator, recorded with the actor "system"

environment: DATABASE_URL, NATS_URL, STRATO_ENV, STRATO_HTTP_ADDR
)";

int Fail(const Status& s) {
  std::fprintf(stderr, "strato: %s\n", s.message().c_str());
  return s.code() == Code::kInvalidArgument ? 2 : 1;
}

// Blocks SIGINT and SIGTERM in this and every later thread so one thread can sigwait for them.
sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

Result<std::unique_ptr<events::PgEventStore>> OpenStore(const std::string& url, bool migrate) {
  if (migrate) {
    auto conn = events::PgConnection::Connect(url);
    if (!conn.ok()) return conn.status().WithContext("DATABASE_URL");
    auto report = events::Migrate(**conn);
    if (!report.ok()) return report.status();
  }
  return events::PgEventStore::Open(url);
}

int CmdMigrate(const Env& env) {
  auto url = ReadDatabaseUrl(env);
  if (!url.ok()) return Fail(url.status());
  auto conn = events::PgConnection::Connect(*url);
  if (!conn.ok()) return Fail(conn.status());
  auto report = events::Migrate(**conn);
  if (!report.ok()) return Fail(report.status());
  std::printf("migrations: %d applied, schema at version %d\n", report->applied,
              report->current_version);
  return 0;
}

// A NATS connection for readiness, made on first use and remade after failures.
class NatsProbe {
 public:
  explicit NatsProbe(std::string url) : url_(std::move(url)) {}
  Status Check() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!conn_) {
      events::NatsOptions o;
      o.url = url_;
      o.name = "strato-readiness";
      o.connect_timeout = std::chrono::milliseconds(1000);
      o.log_connection_events = false;
      auto c = events::NatsConnection::Connect(o);
      if (!c.ok()) return c.status();
      conn_ = std::move(*c);
    }
    return conn_->Ping(std::chrono::milliseconds(1000));
  }

 private:
  std::mutex mu_;
  std::string url_;
  std::unique_ptr<events::NatsConnection> conn_;
};

// /readyz and /metrics take the leader's state as http's own struct.
http::LeaderInfo ToLeaderInfo(const events::LeaderStatus& s) {
  return http::LeaderInfo{s.leading, s.term, s.since};
}

// Readiness of the read models: not ready while a projection is stopped on an event.
Status ProjectionsCheck(const projections::ProjectionRunner& runner) {
  std::string problems;
  for (const projections::ProjectionState& p : runner.States()) {
    if (!p.stopped) continue;
    if (!problems.empty()) problems += "; ";
    problems += "projection " + p.name + " stopped at position " +
                std::to_string(p.error_position) + ": " + p.error;
  }
  if (!problems.empty()) return Status::Unavailable(problems);
  if (!runner.running()) return Status::Unavailable("the projection runner is not running");
  return Status::Ok();
}

int CmdServe(const Env& env) {
  auto cfg = ReadServeConfig(env);
  if (!cfg.ok()) return Fail(cfg.status());
  sigset_t signals = BlockStopSignals();
  auto store = OpenStore(cfg->database_url, /*migrate=*/true);
  if (!store.ok()) return Fail(store.status());

  // Every instance folds the read models: the runner's checkpoint row locks make several
  // runners safe (projections/runner/runner.h), and each instance's reads stay current.
  projections::RunnerOptions runner_options;
  runner_options.database_url = cfg->database_url;
  auto waiter = (*store)->NewWaiter();
  if (!waiter.ok()) return Fail(waiter.status());
  auto runner = projections::ProjectionRunner::Create(
      **store, std::move(*waiter), projections::AllProjections(), std::move(runner_options));
  if (!runner.ok()) return Fail(runner.status());
  Status started = (*runner)->Start();
  if (!started.ok()) return Fail(started);

  std::atomic<bool> stop{false};
  // Leader election and the leader's work (events/leader/): started once the server listens.
  events::Leader leader(**store, events::LeaderOptions{});
  NatsProbe nats_probe(cfg->nats_url);
  std::string db_url = cfg->database_url;
  std::vector<http::ReadinessCheck> checks;
  checks.push_back({"postgresql", [db_url] {
                      auto c = events::PgConnection::Connect(db_url);
                      if (!c.ok()) return c.status();
                      return events::CheckMigrated(**c);
                    }});
  checks.push_back({"nats", [&nats_probe] { return nats_probe.Check(); }});
  checks.push_back({"relay", [&leader] { return leader.relay().Check(); }});
  projections::ProjectionRunner* folding = runner->get();
  checks.push_back({"projections", [folding] { return ProjectionsCheck(*folding); }});
  http::HttpServer server(cfg->http_addr, std::move(checks));
  server.SetTrustedProxies(cfg->trusted_proxies);
  server.AddReadyDetail("leader", [&leader] {
    http::LeaderInfo l = ToLeaderInfo(leader.state().Get());
    std::string out = std::string("{\"leading\":") + (l.leading ? "true" : "false");
    if (l.leading) {
      out += ",\"term\":" + std::to_string(l.term) + ",\"since\":\"" + l.since + "\"";
    }
    return out + "}";
  });
  Status bound = server.Bind();
  if (!bound.ok()) return Fail(bound);
  // Sign-in, the API and the pages: the route table, the permission schema and the request
  // pipeline (http/cli/web.h). A route without a declared access rule, or a permission schema
  // that does not parse, stops the server here.
  auto web_waiter = (*store)->NewWaiter();
  if (!web_waiter.ok()) return Fail(web_waiter.status());
  auto web =
      http::WebStack::Create(*cfg, server.port(), **store, **runner, std::move(*web_waiter), env);
  if (!web.ok()) return Fail(web.status());
  (*web)->app().relay_published = [&leader] { return leader.relay().Published(); };
  (*web)->app().leader = [&leader] { return ToLeaderInfo(leader.state().Get()); };
  server.SetPipeline(&(*web)->pipeline());
  Status s = server.Start();
  if (!s.ok()) return Fail(s);
  const events::DomainCommands::Observer observer = (*web)->CommandObserver();
  events::LeaderOptions& leader_options = leader.options();
  leader_options.database_url = db_url;
  leader_options.nats_url = cfg->nats_url;
  leader_options.instance = events::LeaderInstanceName(server.port());
  leader_options.stream_replicas = cfg->stream_replicas;
  leader_options.observer = observer;
  leader.Start();
  // Every instance answers host requests (one queue group), so hosts never wait for a leader
  // change; heartbeats and liveness stay with the leader (events/leader/).
  std::thread host_requests([&] {
    events::HostControlPlaneOptions host_options;
    host_options.nats_url = cfg->nats_url;
    host_options.control.database_url = db_url;
    host_options.control.observer = observer;
    Status hs = events::RunHostRequests(**store, host_options, stop);
    if (!hs.ok()) log::Error("host requests stopped", {{"error", hs.message()}});
  });
  std::printf("strato serving on http://%s:%d\n", cfg->http_addr.host.c_str(), server.port());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  log::Info("stopping", {{"signal", sig}});
  stop = true;
  leader.RequestStop();
  server.Stop();
  (*runner)->Stop();
  leader.Stop();
  host_requests.join();
  return 0;
}

int CmdRelay(const Env& env) {
  auto db = ReadDatabaseUrl(env);
  if (!db.ok()) return Fail(db.status());
  auto nats = ReadNatsUrl(env);
  if (!nats.ok()) return Fail(nats.status());
  auto replicas = ReadInt(env, "STRATO_NATS_STREAM_REPLICAS", 1, 1, 5);
  if (!replicas.ok()) return Fail(replicas.status());
  sigset_t signals = BlockStopSignals();
  auto store = OpenStore(*db, /*migrate=*/false);
  if (!store.ok()) return Fail(store.status());
  auto waiter = (*store)->NewWaiter();
  if (!waiter.ok()) return Fail(waiter.status());
  std::atomic<bool> stop{false};
  std::thread watcher([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    stop = true;
  });
  events::RelayOptions opts;
  opts.nats_url = *nats;
  opts.stream_replicas = static_cast<int>(*replicas);
  events::Relay relay(**store, **waiter, opts);
  Status s = relay.Run(stop);
  if (!stop) {
    pthread_kill(watcher.native_handle(), SIGTERM);
  }
  watcher.join();
  if (!s.ok()) return Fail(s);
  return 0;
}

Result<int64_t> ParseCount(const std::string& flag, const std::string& v) {
  std::optional<int64_t> n = ParseInt(v, 0);
  if (!n) {
    return Status::InvalidArgument(flag + " needs a whole number of 0 or more, not \"" + v + "\"");
  }
  return *n;
}

int CmdEvents(const Env& env, const std::vector<std::string>& args) {
  std::string stream;
  int64_t from = 0;
  int64_t limit = -1;
  bool follow = false;
  events::EventFilter filter;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> Result<std::string> {
      if (i + 1 >= args.size()) return Status::InvalidArgument(a + " needs a value");
      return args[++i];
    };
    if (a == "--stream") {
      auto v = value();
      if (!v.ok()) return Fail(v.status());
      stream = *v;
      Status s = events::ValidateStreamId(stream);
      if (!s.ok()) return Fail(s);
    } else if (a == "--from" || a == "--limit") {
      auto v = value();
      if (!v.ok()) return Fail(v.status());
      auto n = ParseCount(a, *v);
      if (!n.ok()) return Fail(n.status());
      (a == "--from" ? from : limit) = *n;
    } else if (a == "--follow" || a == "-f") {
      follow = true;
    } else if (a == "--type" || a == "--actor") {
      auto v = value();
      if (!v.ok()) return Fail(v.status());
      if (a == "--type") {
        Status s = events::ValidateEventType(*v);
        if (!s.ok()) return Fail(s.WithContext("--type"));
        filter.type = *v;
      } else {
        filter.actor = *v;
      }
    } else if (a == "--since" || a == "--until") {
      auto v = value();
      if (!v.ok()) return Fail(v.status());
      auto t = ParseRfc3339(*v, a);
      if (!t.ok()) return Fail(t.status());
      (a == "--since" ? filter.since : filter.until) = *t;
    } else {
      return Fail(Status::InvalidArgument("unknown option \"" + a + "\" for strato events"));
    }
  }
  auto db = ReadDatabaseUrl(env);
  if (!db.ok()) return Fail(db.status());
  auto store = OpenStore(*db, /*migrate=*/false);
  if (!store.ok()) return Fail(store.status());
  std::unique_ptr<events::AppendWaiter> waiter;
  if (follow) {
    auto w = (*store)->NewWaiter();
    if (!w.ok()) return Fail(w.status());
    waiter = std::move(*w);
  }
  // `cursor` is the last position (or stream version) printed.
  int64_t cursor = from > 0 ? from - 1 : 0;
  int64_t printed = 0;
  constexpr size_t kBatch = 1000;
  for (;;) {
    auto batch = stream.empty() ? (*store)->ReadAll(cursor, kBatch)
                                : (*store)->ReadStream(stream, cursor + 1, kBatch);
    if (!batch.ok()) return Fail(batch.status());
    for (const auto& e : *batch) {
      if (limit >= 0 && printed >= limit) return 0;
      cursor = stream.empty() ? e.position : e.stream_version;
      if (!follow && filter.PastTheEnd(e)) return 0;
      if (!filter.Matches(e)) continue;
      std::string line = events::ToJsonLine(e);
      line.push_back('\n');
      std::fwrite(line.data(), 1, line.size(), stdout);
      ++printed;
    }
    std::fflush(stdout);
    if (batch->size() == kBatch) continue;
    if (!follow) return 0;
    (void)waiter->Wait(cursor, std::chrono::milliseconds(1000));
  }
}

std::string Seconds(double s) {
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.1f s", s);
  } else {
    std::snprintf(buf, sizeof buf, "%d min %02d s", static_cast<int>(s) / 60,
                  static_cast<int>(s) % 60);
  }
  return buf;
}

// Progress of a rebuild on stderr: a bar redrawn in place on a terminal, else a line every
// few seconds (for logs).
class ProgressPrinter {
 public:
  ProgressPrinter() : tty_(isatty(STDERR_FILENO) == 1) {}
  void Update(const projections::RebuildProgress& p) {
    auto now = std::chrono::steady_clock::now();
    auto gap = tty_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(5000);
    const bool new_stage = p.stage != stage_;
    if (!new_stage && now - last_ < gap && p.done < p.total) return;
    last_ = now;
    stage_ = p.stage;
    double fraction = p.total > 0 ? static_cast<double>(p.done) / static_cast<double>(p.total) : 1;
    char line[200];
    if (p.stage.empty()) {
      std::snprintf(line, sizeof line, "%lld/%lld events, %.0f events/s, ETA %s",
                    static_cast<long long>(p.done), static_cast<long long>(p.total),
                    p.events_per_second, Seconds(p.eta_seconds).c_str());
    } else {
      std::snprintf(line, sizeof line, "%lld events folded; %s", static_cast<long long>(p.done),
                    p.stage.c_str());
    }
    if (tty_) {
      constexpr int kWidth = 30;
      int filled = static_cast<int>(fraction * kWidth);
      std::string bar(static_cast<size_t>(filled), '#');
      bar.append(static_cast<size_t>(kWidth - filled), '.');
      std::fprintf(stderr, "\r[%s] %3.0f%% %s\x1b[K", bar.c_str(), fraction * 100, line);
      drawn_ = true;
    } else {
      std::fprintf(stderr, "replay: %s\n", line);
    }
    std::fflush(stderr);
  }
  void Finish() {
    if (drawn_) std::fputs("\n", stderr);
    drawn_ = false;
  }

 private:
  bool tty_;
  bool drawn_ = false;
  std::string stage_;
  std::chrono::steady_clock::time_point last_{};
};

int CmdRebuild(const Env& env) {
  auto db = ReadDatabaseUrl(env);
  if (!db.ok()) return Fail(db.status());
  auto store = OpenStore(*db, /*migrate=*/false);
  if (!store.ok()) return Fail(store.status());
  ProgressPrinter progress;
  projections::RebuildOptions options;
  options.database_url = *db;
  options.on_progress = [&progress](const projections::RebuildProgress& p) { progress.Update(p); };
  auto report = projections::Rebuild(**store, projections::AllProjections(), options);
  progress.Finish();
  if (!report.ok()) return Fail(report.status());
  double secs = report->elapsed.count();
  double rate = secs > 0 ? static_cast<double>(report->events) / secs : 0;
  std::printf("rebuilt %zu read model%s (%zu table%s) from %lld events in %.1f s (%.0f events/s); ",
              report->projections, report->projections == 1 ? "" : "s", report->tables.size(),
              report->tables.size() == 1 ? "" : "s", static_cast<long long>(report->events), secs,
              rate);
  if (report->identical()) {
    std::printf("identical to the live tables\n");
  } else {
    std::printf("the live tables differed and were replaced:");
    for (const auto& d : report->differences) {
      std::printf(" %s (%lld rows only in the live table, %lld only in the rebuild)",
                  d.table.c_str(), static_cast<long long>(d.only_live),
                  static_cast<long long>(d.only_rebuilt));
    }
    std::printf("\n");
  }
  for (const std::string& why : report->not_compared) {
    std::printf("not compared: %s\n", why.c_str());
  }
  std::string phases;
  for (const projections::RebuildPhase& ph : report->phases) {
    char part[80];
    std::snprintf(part, sizeof part, "%s%s %.1f s", phases.empty() ? "" : ", ", ph.name.c_str(),
                  ph.elapsed.count());
    phases += part;
  }
  std::printf("time: %s\n", phases.c_str());
  return report->identical() ? 0 : 1;
}

int CmdReplay(const Env& env, const std::vector<std::string>& args) {
  std::string as_of, stream;
  bool all = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if ((a == "--as-of" || a == "--stream") && i + 1 < args.size()) {
      (a == "--as-of" ? as_of : stream) = args[++i];
    } else if (a == "--all") {
      all = true;
    } else {
      return Fail(
          Status::InvalidArgument("unknown or incomplete option \"" + a + "\" for strato replay"));
    }
  }
  if (args.empty()) return CmdRebuild(env);
  if (as_of.empty() || (stream.empty() == !all)) {
    return Fail(Status::InvalidArgument(
        "usage: strato replay (rebuilds every read model), or strato replay --as-of "
        "<position|RFC 3339 time> (--stream <vm-id|org-id|...> | --all)"));
  }
  auto db = ReadDatabaseUrl(env);
  if (!db.ok()) return Fail(db.status());
  auto store = OpenStore(*db, /*migrate=*/false);
  if (!store.ok()) return Fail(store.status());
  auto position = events::ResolveAsOf(**store, as_of);
  if (!position.ok()) return Fail(position.status());
  if (!stream.empty()) {
    auto json = events::StateAsOf(**store, stream, *position);
    if (!json.ok()) return Fail(json.status());
    std::printf("%s\n", json->c_str());
    return 0;
  }
  Status s = events::AllStatesAsOf(
      **store, *position, [](const std::string& json) { std::printf("%s\n", json.c_str()); });
  if (!s.ok()) return Fail(s);
  return 0;
}

int CmdAuditVerify(const Env& env) {
  auto db = ReadDatabaseUrl(env);
  if (!db.ok()) return Fail(db.status());
  auto store = OpenStore(*db, /*migrate=*/false);
  if (!store.ok()) return Fail(store.status());
  auto report = events::VerifyLog(**store);
  if (!report.ok()) return Fail(report.status());
  if (report->ok) {
    std::printf("OK: %lld events verified\n", static_cast<long long>(report->verified));
    return 0;
  }
  std::printf("FAILED at position %lld: %s (%lld events before it verified)\n",
              static_cast<long long>(report->first_bad_position), report->problem.c_str(),
              static_cast<long long>(report->verified));
  return 1;
}

// strato platform grant|revoke --username NAME --role admin|operator: the Platform aggregate's
// commands (core/domain/platform.h) through the command pipeline, as the system actor.
int CmdPlatform(const Env& env, const std::vector<std::string>& args) {
  constexpr const char* kPlatformUsage =
      "usage: strato platform grant|revoke --username NAME --role admin|operator";
  if (args.empty() || (args[0] != "grant" && args[0] != "revoke")) {
    return Fail(Status::InvalidArgument(kPlatformUsage));
  }
  const bool grant = args[0] == "grant";
  std::string username, role_text;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if ((a == "--username" || a == "--role") && i + 1 < args.size()) {
      (a == "--username" ? username : role_text) = args[++i];
    } else {
      return Fail(Status::InvalidArgument("unknown or incomplete option \"" + a +
                                          "\" for strato platform " + args[0] + "; " +
                                          kPlatformUsage));
    }
  }
  if (username.empty() || role_text.empty()) {
    return Fail(Status::InvalidArgument(std::string("--username and --role are both needed; ") +
                                        kPlatformUsage));
  }
  auto role = domain::ParsePlatformRole(role_text);
  if (!role.ok()) return Fail(role.status());
  auto db = ReadDatabaseUrl(env);
  if (!db.ok()) return Fail(db.status());
  auto store = OpenStore(*db, /*migrate=*/false);
  if (!store.ok()) return Fail(store.status());
  std::string user_id;
  {
    auto conn = events::PgConnection::Connect(*db);
    if (!conn.ok()) return Fail(conn.status());
    auto found = projections::FindUserIdByUsername(**conn, username);
    if (!found.ok()) return Fail(found.status());
    if (!found->has_value()) {
      return Fail(Status::NotFound("there is no user named " + username +
                                   "; they register in the web UI first"));
    }
    user_id = **found;
  }
  domain::PlatformCommand command =
      grant ? domain::PlatformCommand(domain::GrantPlatformRole{user_id, *role})
            : domain::PlatformCommand(domain::RevokePlatformRole{user_id, *role});
  events::CommandContext ctx;
  ctx.actor = "system";
  ctx.command_id = Uuid::NewV4();
  events::DomainCommands commands(**store);
  auto outcome = commands.Platform(ctx, command);
  if (!outcome.ok()) return Fail(outcome.status());
  const std::string role_name(domain::PlatformRoleName(*role));
  if (outcome->events.empty()) {
    std::printf("%s %s the platform role %s; nothing changed\n", username.c_str(),
                grant ? "already holds" : "does not hold", role_name.c_str());
  } else {
    std::printf("%s the platform role %s %s %s (user %s) at position %lld\n",
                grant ? "granted" : "revoked", role_name.c_str(), grant ? "to" : "from",
                username.c_str(), user_id.c_str(), static_cast<long long>(outcome->position));
  }
  return 0;
}

}  // namespace

int RunCli(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  ProcessEnv env;
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const std::string cmd = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (cmd == "serve") return CmdServe(env);
  if (cmd == "migrate") return CmdMigrate(env);
  if (cmd == "relay") return CmdRelay(env);
  if (cmd == "events") return CmdEvents(env, rest);
  if (cmd == "replay") return CmdReplay(env, rest);
  if (cmd == "audit") {
    if (rest.size() == 1 && rest[0] == "verify") return CmdAuditVerify(env);
    return Fail(Status::InvalidArgument("usage: strato audit verify"));
  }
  if (cmd == "platform") return CmdPlatform(env, rest);
  std::fprintf(stderr, "strato: unknown command \"%s\"\n\n%s", cmd.c_str(), kUsage);
  return 2;
}

}  // namespace strato::cli
