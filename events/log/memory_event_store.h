// MemoryEventStore: the event log held in memory, a fake of PgEventStore for unit tests and
// for developing consumers without PostgreSQL. It keeps the contract that matters to callers:
// atomic multi-stream appends, expected versions (a mismatch is Code::kConflict and writes
// nothing), idempotency by command id, gap-free positions from 1. It does not keep the hash
// chain (every hash is zero) and does not normalise JSON text the way jsonb does.
//
// Thread-safe: any number of threads may append, read and wait at once. The store is also an
// AppendWaiter (its Wait is thread-safe too); NewWaiter() hands out separate waiters for code
// that wants one per consumer, as with PgEventStore. Waiters must not outlive the store.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "events/log/event_store.h"

namespace strato::events {

class MemoryEventStore final : public EventStore, public AppendWaiter {
 public:
  explicit MemoryEventStore(const Clock* clock = nullptr);  // null: the system clock
  ~MemoryEventStore() override;

  Result<AppendResult> Append(AppendRequest request) override;
  Result<std::vector<RecordedEvent>> ReadStream(const std::string& stream_id, int64_t from_version,
                                                size_t max_count) override;
  Result<std::vector<RecordedEvent>> ReadAll(int64_t after_position, size_t max_count) override;
  Result<int64_t> LastPosition() override;

  // Wakes when the log holds a position greater than `after_position`, or at the timeout.
  Status Wait(int64_t after_position, std::chrono::milliseconds timeout) override;
  std::unique_ptr<AppendWaiter> NewWaiter();

  // Test hook: while `failure` is not OK, every method (Wait included) returns it, as a
  // database that is down would. Pass Status::Ok() to heal.
  void SetFailure(Status failure);

 private:
  Status FailureLocked() const { return failure_; }

  const Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable appended_;
  std::vector<RecordedEvent> log_;                                // log_[i].position == i + 1
  std::unordered_map<std::string, std::vector<size_t>> streams_;  // stream id -> indexes in log_
  std::map<Uuid, AppendResult> commands_;                         // command id -> first result
  Status failure_;
};

}  // namespace strato::events
