// TupleFeed: the relationship tuples in memory, for the embedded authorization engine
// (core/authz). It loads the relationship_tuples read model together with the checkpoint of
// the projection that wrote it (one snapshot), then follows the event log from there, applying
// the same derivation as the projection (RelationshipChanges), so checks never touch the
// database. WaitFor gives read-your-writes: after a command, wait for its position, and the
// next check sees what it changed.
//
// Threading: Start runs one follower thread; Stop joins it. engine(), position() and WaitFor
// are thread-safe (the store takes a shared lock per check). The event store and waiter are
// borrowed/owned as the constructor says and must outlive Stop.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/authz/engine.h"
#include "core/authz/memory_tuple_store.h"
#include "core/status.h"
#include "events/event_store.h"

namespace strato::projections {

class TupleFeed {
 public:
  // Loads the snapshot. `waiter` (owned; may be null: then the follower polls) wakes the
  // follower when the log grows.
  static Result<std::unique_ptr<TupleFeed>> Create(std::shared_ptr<const authz::Schema> schema,
                                                   const std::string& database_url,
                                                   events::EventStore& store,
                                                   std::unique_ptr<events::AppendWaiter> waiter);
  ~TupleFeed();

  void Start();
  void Stop();
  // Applies everything up to the end of the log on the caller's thread (not while started).
  Status CatchUp();

  int64_t position() const { return position_.load(); }
  // kDeadlineExceeded when the feed has not reached `position` in time.
  Status WaitFor(int64_t position, std::chrono::milliseconds timeout) const;

  const authz::Engine& engine() const { return *engine_; }
  const authz::MemoryTupleStore& tuples() const { return *tuples_; }

 private:
  TupleFeed(events::EventStore& store, std::unique_ptr<events::AppendWaiter> waiter)
      : store_(store), waiter_(std::move(waiter)) {}
  // One batch from the log; returns how many events it read.
  Result<size_t> Step();

  events::EventStore& store_;
  std::unique_ptr<events::AppendWaiter> waiter_;
  std::unique_ptr<authz::MemoryTupleStore> tuples_;
  std::unique_ptr<authz::Engine> engine_;
  std::atomic<int64_t> position_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  mutable std::condition_variable advanced_;
};

}  // namespace strato::projections
