#include "events/leader/leader.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/log.h"
#include "events/bus/relay.h"
#include "events/commands/scheduler_service.h"
#include "events/hosts/host_rpc.h"

namespace strato::events {

void RelayState::Set(Relay* relay) {
  std::lock_guard<std::mutex> lock(mu_);
  relay_ = relay;
  if (relay != nullptr) problem_.clear();
}

void RelayState::SetProblem(std::string problem) {
  std::lock_guard<std::mutex> lock(mu_);
  problem_ = std::move(problem);
}

Status RelayState::Check() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!problem_.empty()) return Status::Unavailable("the relay stopped: " + problem_);
  if (relay_ != nullptr && !relay_->connected()) {
    return Status::Unavailable("the relay cannot reach NATS");
  }
  return Status::Ok();  // running, or another instance leads
}

std::optional<int64_t> RelayState::Published() {
  std::lock_guard<std::mutex> lock(mu_);
  if (relay_ == nullptr) return std::nullopt;
  return relay_->published_position();
}

void LeaderState::Lead(int64_t term, std::string since) {
  std::lock_guard<std::mutex> lock(mu_);
  status_ = LeaderStatus{true, term, std::move(since)};
}

void LeaderState::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  status_ = LeaderStatus{};
}

LeaderStatus LeaderState::Get() {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

std::string LeaderInstanceName(int http_port) {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0) std::strcpy(host, "unknown-host");
  return std::string(host) + ":" + std::to_string(http_port) + " (pid " + std::to_string(getpid()) +
         ")";
}

Result<std::unique_ptr<PgConnection>> ConnectLeaderSession(const std::string& db_url) {
  auto conn = PgConnection::Connect(db_url, {{"connect_timeout", "5"},
                                             {"keepalives", "1"},
                                             {"keepalives_idle", "2"},
                                             {"keepalives_interval", "1"},
                                             {"keepalives_count", "2"},
                                             {"tcp_user_timeout", "3000"}});
  if (!conn.ok()) return conn.status();
  // Only pg_try_advisory_lock and the checks run here; none should take a second.
  STRATO_RETURN_IF_ERROR((*conn)->Run("SET statement_timeout = '1s'"));
  return conn;
}

Status WatchLeaderSession(PgConnection& conn, std::chrono::steady_clock::time_point until,
                          const std::atomic<bool>& stop, const std::atomic<bool>* also_stop) {
  auto next = std::chrono::steady_clock::now() + kLeaderCheckEvery;
  while (!stop && (also_stop == nullptr || !*also_stop)) {
    auto now = std::chrono::steady_clock::now();
    if (now >= until) return Status::Ok();
    if (now >= next) {
      STRATO_RETURN_IF_ERROR(conn.CheckAlive(kLeaderCheckTimeout));
      next = std::chrono::steady_clock::now() + kLeaderCheckEvery;
      continue;
    }
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        std::chrono::milliseconds(50), std::min(next, until) - now));
  }
  return Status::Ok();
}

void LeaderLoop(const LeaderOptions& options, PgEventStore& store, const std::atomic<bool>& stop,
                RelayState& state, LeaderState& leading) {
  const std::string& db_url = options.database_url;
  const std::string& nats_url = options.nats_url;
  const DomainCommands::Observer& observer = options.observer;
  auto pause = [&stop](int tenths) {
    for (int i = 0; i < tenths && !stop; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  };
  while (!stop) {
    auto conn = ConnectLeaderSession(db_url);
    bool leader = false;
    if (conn.ok()) {
      auto r = (*conn)->Exec("SELECT pg_try_advisory_lock($1::bigint)",
                             {std::to_string(kLeaderLockKey)});
      leader = r.ok() && r->Get(0, 0) == "t";
    }
    if (!leader) {
      pause(20);
      continue;
    }
    log::Info("this instance holds the leader lock; waiting for a former leader to stop",
              {{"wait_ms", static_cast<int64_t>(kLeaderTakeover.count())}});
    Status held =
        WatchLeaderSession(**conn, std::chrono::steady_clock::now() + kLeaderTakeover, stop);
    if (!held.ok()) {
      log::Warn("lost the leader lock's PostgreSQL session before leading",
                {{"error", held.message()}});
      continue;
    }
    if (stop) break;
    auto waiter = store.NewWaiter();
    if (!waiter.ok()) {
      log::Warn("relay waiter unavailable", {{"error", waiter.status().message()}});
      pause(10);
      continue;
    }
    // A new term, recorded on the lock's own session: only the lock's holder writes one.
    auto term = (*conn)->Exec(
        "INSERT INTO leader_terms (instance) VALUES ($1) RETURNING term, "
        "to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
        {options.instance});
    if (!term.ok()) {
      log::Warn("cannot record a leader term; trying the lock again",
                {{"error", term.status().message()}});
      continue;
    }
    leading.Lead(term->GetInt64(0, 0), std::string(term->Get(0, 1)));
    log::Info("this instance leads: running the relay", {{"term", term->GetInt64(0, 0)}});
    // Everything the leader runs stops on `leader_stop`: set by the watcher when the lock's
    // session is lost or the process stops (within a 50 ms slice), and here when the relay
    // returns by itself.
    std::atomic<bool> leader_stop{false};
    Status lost;
    std::chrono::steady_clock::time_point lost_at;
    std::thread watcher([&] {
      Status s = WatchLeaderSession(**conn, std::chrono::steady_clock::time_point::max(), stop,
                                    &leader_stop);
      if (!s.ok()) {
        lost = s;
        lost_at = std::chrono::steady_clock::now();
      }
      leader_stop = true;
    });
    // The scheduler places pending VMs while this instance leads, beside the relay.
    std::thread scheduler([&store, &leader_stop, &observer] {
      auto scheduler_waiter = store.NewWaiter();
      DomainCommands commands(store);
      commands.SetObserver(observer);
      SchedulerService service(store, scheduler_waiter.ok() ? scheduler_waiter->get() : nullptr,
                               commands);
      (void)service.Run(leader_stop);
    });
    // The host control plane (register, desired, report, heartbeats) and the host liveness
    // monitor run here too, so that exactly one instance marks hosts unreachable.
    std::thread hosts([&store, &leader_stop, &db_url, &nats_url, &observer] {
      HostControlPlaneOptions host_options;
      host_options.nats_url = nats_url;
      host_options.control.database_url = db_url;
      host_options.control.observer = observer;
      host_options.serve_requests = false;  // every instance answers them (RunHostRequests)
      Status hs = RunHostControlPlane(store, host_options, leader_stop);
      if (!hs.ok()) log::Error("host control plane stopped", {{"error", hs.message()}});
    });
    RelayOptions opts;
    opts.nats_url = nats_url;
    opts.stream_replicas = options.stream_replicas;
    Relay relay(store, **waiter, opts);
    state.Set(&relay);
    Status s = relay.Run(leader_stop);
    leader_stop = true;
    watcher.join();
    scheduler.join();
    hosts.join();
    state.Set(nullptr);
    leading.Stop();
    if (!lost.ok()) {
      auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - lost_at);
      log::Error(
          "lost the leader lock's PostgreSQL session; leader work stopped",
          {{"error", lost.message()}, {"stopped_in_ms", static_cast<int64_t>(took.count())}});
      continue;  // a fresh session, and the lock again, before leading again
    }
    if (!s.ok()) {
      log::Error("relay stopped", {{"error", s.message()}});
      state.SetProblem(s.message());
      pause(50);
    }
  }
}

Leader::Leader(PgEventStore& store, LeaderOptions options)
    : store_(store), options_(std::move(options)) {}

Leader::~Leader() {
  Stop();
}

void Leader::Start() {
  if (thread_.joinable()) return;
  thread_ =
      std::thread([this] { LeaderLoop(options_, store_, stop_, relay_state_, leader_state_); });
}

void Leader::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

}  // namespace strato::events
