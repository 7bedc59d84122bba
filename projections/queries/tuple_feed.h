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
#include <unordered_map>
#include <vector>

#include "core/authz/engine.h"
#include "core/authz/memory_tuple_store.h"
#include "core/status.h"
#include "events/log/event_store.h"

namespace strato::projections {

// Entity ids from an authorization lookup, shared by whoever asked the same question.
using EntityIds = std::shared_ptr<const std::vector<std::string>>;

class TupleFeed {
 public:
  // Loads the snapshot. `waiter` (owned; may be null: then the follower polls) wakes the
  // follower when the log grows.
  static Result<std::unique_ptr<TupleFeed>> Create(std::shared_ptr<const authz::Schema> schema,
                                                   const std::string& database_url,
                                                   events::EventStore& store,
                                                   std::unique_ptr<events::AppendWaiter> waiter);
  // No snapshot: the tuples start empty at position 0 and follow `store` from its start (call
  // CatchUp). For tests of handlers over an in-memory log (events/log/memory_event_store.h).
  static Result<std::unique_ptr<TupleFeed>> FromStart(std::shared_ptr<const authz::Schema> schema,
                                                      events::EventStore& store);
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

  // The ids of the `entity_type` entities on which user `user_id` has `permission`, as the
  // engine's LookupEntities gives them. Answers are shared and kept until the tuples next change
  // (the store's revision), so a list page asked for again and again costs one lookup per
  // change of the tuples, not one per request. At most kReadableCacheEntries answers are kept.
  Result<EntityIds> Readable(std::string_view entity_type, std::string_view permission,
                             std::string_view user_id) const;
  static constexpr size_t kReadableCacheEntries = 4096;

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

  struct Answer {
    uint64_t revision = 0;
    EntityIds ids;
  };
  mutable std::mutex answers_mu_;
  mutable std::unordered_map<std::string, Answer> answers_;  // "type#permission@user"
};

}  // namespace strato::projections
