// Leader election and the leader's loop: the `strato serve` instance holding the leader advisory
// lock runs the once-only work (the relay, the scheduler, the host control plane and liveness
// monitor), fenced by a watch on the lock's own PostgreSQL session (events/README.md, "Leader
// fencing"). `strato serve` (http/cli/cli.cpp) configures a Leader, starts it and reads its
// state for readiness and metrics.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/status.h"
#include "events/commands/domain_commands.h"
#include "events/pg/pg.h"
#include "events/pg/pg_event_store.h"

namespace strato::events {

class Relay;

// The session advisory lock whose holder leads.
inline constexpr int64_t kLeaderLockKey = 0x5354524154'4f0003;

// Fencing the leader (events/README.md, "Leader fencing"): the lock lives on one PostgreSQL
// session, so the leader watches that very session and stops its work when the session is lost
// (PostgreSQL restarted, the backend was terminated, the network went silent): the server has
// then released the lock, or will once it notices, and another instance may take it.
// A check every kLeaderCheckEvery, each failing after kLeaderCheckTimeout measured here, finds a
// loss within about a second; the relay then stops publishing within its stop-check slice, the
// host control plane and the scheduler within their waits. A new leader waits kLeaderTakeover
// after taking the lock, watching its own session, before it acts: longer than a former leader
// needs to notice and stop, so the two do not overlap (a timing bound, not a term).
inline constexpr std::chrono::milliseconds kLeaderCheckEvery{500};
inline constexpr std::chrono::milliseconds kLeaderCheckTimeout{500};
inline constexpr std::chrono::milliseconds kLeaderTakeover{2000};

// Whether this process leads, in which term (a row of leader_terms) and since when (RFC 3339);
// term 0 and since "" while it does not.
struct LeaderStatus {
  bool leading = false;
  int64_t term = 0;
  std::string since;
};

// What readiness knows of the relay; shared by the leader thread and HTTP threads.
class RelayState {
 public:
  void Set(Relay* relay);
  void SetProblem(std::string problem);
  // Unavailable when the relay stopped by itself or cannot reach NATS; Ok while it runs or
  // another instance leads.
  Status Check();
  // The last position the relay has in the stream; nullopt while this process does not lead.
  std::optional<int64_t> Published();

 private:
  std::mutex mu_;
  Relay* relay_ = nullptr;
  std::string problem_;
};

// Whether this process leads, in which term and since when; shared by the leader thread and
// the HTTP threads (/readyz, /metrics).
class LeaderState {
 public:
  void Lead(int64_t term, std::string since);
  void Stop();
  LeaderStatus Get();

 private:
  std::mutex mu_;
  LeaderStatus status_;
};

// This instance's name in leader_terms: host name, HTTP port and process id.
std::string LeaderInstanceName(int http_port);

// A fresh session for the leader lock. TCP keepalives (ignored on Unix sockets) make the kernel
// give up on a silent peer in seconds, so a statement on the session never waits for hours.
Result<std::unique_ptr<PgConnection>> ConnectLeaderSession(const std::string& db_url);

// Checks the lock's session every kLeaderCheckEvery until `until` passes, `stop` or `also_stop`
// (when given) is set, or a check fails (its failure returned).
Status WatchLeaderSession(PgConnection& conn, std::chrono::steady_clock::time_point until,
                          const std::atomic<bool>& stop,
                          const std::atomic<bool>* also_stop = nullptr);

struct LeaderOptions {
  std::string database_url;
  std::string nats_url;
  std::string instance;  // the name written to leader_terms (LeaderInstanceName)
  int stream_replicas = 1;
  // Counts the scheduler's and the host control plane's commands (in /metrics).
  DomainCommands::Observer observer;
};

// Runs the relay, the scheduler and the host control plane while this process holds the leader
// lock, until `stop`; stops them all when the lock's session is lost, and leads again only after
// taking the lock anew on a fresh session.
void LeaderLoop(const LeaderOptions& options, PgEventStore& store, const std::atomic<bool>& stop,
                RelayState& relay_state, LeaderState& leader_state);

// LeaderLoop on a thread of its own, with the states readiness reads.
class Leader {
 public:
  Leader(PgEventStore& store, LeaderOptions options);
  ~Leader();  // Stop()
  Leader(const Leader&) = delete;
  Leader& operator=(const Leader&) = delete;

  // Sets the options (before Start).
  LeaderOptions& options() { return options_; }
  void Start();
  // Asks the loop to stop and returns at once.
  void RequestStop() { stop_ = true; }
  // Asks the loop to stop and waits for its work to end.
  void Stop();

  RelayState& relay() { return relay_state_; }
  LeaderState& state() { return leader_state_; }

 private:
  PgEventStore& store_;
  LeaderOptions options_;
  std::atomic<bool> stop_{false};
  RelayState relay_state_;
  LeaderState leader_state_;
  std::thread thread_;
};

}  // namespace strato::events
