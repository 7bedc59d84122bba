// Relay: copies the event log into the JetStream stream STRATO_EVENTS, in log order, so that
// the stream's sequence equals the global position.
//
// Each event goes to events::SubjectFor(event) with the payload events::ToJsonLine(event),
// header Nats-Msg-Id = event id and an expected last sequence of position - 1 (position 1
// instead expects its subject to be empty, on a stream found empty). The server therefore
// stores event n only at sequence n and drops a repeat of an id it has seen. On start and after
// any failure the relay asks the stream for its last sequence and continues after it: a relay
// crash, a NATS restart or an outage loses nothing and duplicates nothing. Appends never wait
// for the relay; while NATS is down it retries, logging one warning per outage.
//
// Publishing is pipelined: a thread reads the log and builds messages a couple of batches
// ahead, while Run's thread publishes a batch asynchronously and waits for its
// acknowledgements (js_PublishAsyncComplete) before advancing published_position().
//
// Threading: Run blocks the calling thread; published_position() and connected() may be
// called from any thread. The store and the waiter are borrowed and must outlive the Relay;
// Run gives the waiter to one thread at a time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "events/log/event_store.h"

namespace strato::events {

struct RelayOptions {
  std::string nats_url;
  std::string stream_name = "STRATO_EVENTS";
  int stream_replicas = 1;   // when the relay makes the stream (STRATO_NATS_STREAM_REPLICAS)
  size_t batch_size = 1000;  // events read from the log per ReadAll
  std::chrono::milliseconds idle_wait{1000};  // AppendWaiter timeout when caught up
};

class Relay {
 public:
  Relay(EventStore& store, AppendWaiter& waiter, RelayOptions options);
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // Runs until `stop` becomes true (checked at least every idle_wait). Survives NATS outages
  // and restarts (reconnects, re-reads the stream's last sequence, continues). Returns a
  // non-OK Status only for what retrying cannot fix, e.g. the stream holds more messages than
  // the log has events.
  Status Run(const std::atomic<bool>& stop);

  int64_t published_position() const;  // last position known to be in the stream (atomic)
  bool connected() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace strato::events
