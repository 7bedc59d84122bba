// LiveHub: the event log's newest events, for the pages' live updates (server-sent events,
// http/live/live_routes.h). One follower thread reads the log behind the authorization tuple feed
// and publishes each batch only after every read model and the tuples have applied it, so a
// page that re-fetches a fragment when told of an event sees that event's effect. It keeps the
// last `ring` events (stream, type, position) so a client that reconnects with Last-Event-ID
// resumes where it stopped; one that fell further behind is told to reload.
//
// It also counts the open streams, in all and per user, and refuses a new one beyond either
// limit (AddClient).
//
// Threading: Start runs the follower; Stop joins it and wakes every waiting client. WaitAfter,
// head() and the client count are thread-safe; many server threads wait at once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "events/log/event_store.h"
#include "projections/queries/tuple_feed.h"

namespace strato::http {

struct LiveEvent {
  int64_t position = 0;
  std::string stream_id;                            // "vm-<id>", "org-<id>", ...
  std::string type;                                 // "VmStarted", ...
  std::chrono::steady_clock::time_point published;  // when the hub made it visible
};

struct LiveBatch {
  std::vector<LiveEvent> events;  // in log order, after the position asked for
  bool gap = false;               // the position asked for is older than the oldest event kept
  bool stopped = false;           // the hub stopped: the client should end its stream
};

class LiveHub {
 public:
  struct Options {
    size_t ring = 8192;                // events kept for reconnecting clients
    size_t max_clients = 128;          // live streams at once (each holds a server thread)
    size_t max_clients_per_user = 16;  // of those, held by one user (STRATO_LIVE_STREAMS_PER_USER)
    std::chrono::milliseconds ready_timeout{5000};  // waiting for the read models per batch
  };

  // `ready` waits until the read models have applied a position (App::WaitForReadModels).
  LiveHub(events::EventStore& store, const projections::TupleFeed& feed,
          std::function<Status(int64_t)> ready, Options options);
  LiveHub(events::EventStore& store, const projections::TupleFeed& feed,
          std::function<Status(int64_t)> ready)
      : LiveHub(store, feed, std::move(ready), Options{}) {}
  ~LiveHub();

  // Starts following from the log's end.
  Status Start();
  void Stop();

  // The newest published position.
  int64_t head() const;
  // Events after `after`, waiting up to `timeout` when there are none yet (at most 1000).
  LiveBatch WaitAfter(int64_t after, std::chrono::milliseconds timeout) const;

  // A client slot for `user_id`: kUserFull when that user holds `max_clients_per_user` streams
  // already, kServerFull when `max_clients` are open in all. A slot taken is given back with
  // RemoveClient(user_id).
  enum class Admission { kAdmitted, kUserFull, kServerFull };
  Admission AddClient(const std::string& user_id);
  void RemoveClient(const std::string& user_id);
  size_t clients() const { return clients_.load(); }
  size_t clients_of(const std::string& user_id) const;
  const Options& options() const { return options_; }
  uint64_t published() const { return published_.load(); }

 private:
  void Follow();

  events::EventStore& store_;
  const projections::TupleFeed& feed_;
  std::function<Status(int64_t)> ready_;
  Options options_;

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::deque<LiveEvent> ring_;
  int64_t head_ = 0;
  bool stopped_ = false;

  mutable std::mutex clients_mu_;  // guards per_user_; clients_ changes only under it too
  std::unordered_map<std::string, size_t> per_user_;
  std::atomic<size_t> clients_{0};
  std::atomic<uint64_t> published_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace strato::http
