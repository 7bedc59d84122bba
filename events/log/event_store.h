// EventStore: the append-only log. Append is atomic across the streams of one request,
// checks expected versions (a mismatch is Code::kConflict and writes nothing) and is idempotent
// by command id. Positions are gap-free and commit-ordered. Implementations are thread-safe:
// any number of threads may call any method concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "events/log/event.h"

namespace strato::events {

class EventStore {
 public:
  virtual ~EventStore() = default;

  virtual Result<AppendResult> Append(AppendRequest request) = 0;

  // Events of one stream with stream_version >= from_version, in order, at most max_count.
  virtual Result<std::vector<RecordedEvent>> ReadStream(const std::string& stream_id,
                                                        int64_t from_version, size_t max_count) = 0;

  // Events with global_position > after_position, in order, at most max_count.
  virtual Result<std::vector<RecordedEvent>> ReadAll(int64_t after_position, size_t max_count) = 0;

  // The position of the last event (0 for an empty log).
  virtual Result<int64_t> LastPosition() = 0;
};

// Every event of one stream, in order (read in batches). Empty when the stream does not exist.
Result<std::vector<RecordedEvent>> ReadWholeStream(EventStore& store, const std::string& stream_id);

// Blocks until the log may hold events after `after_position`, or the timeout passes. It can
// wake spuriously; callers re-read. One waiter per instance (not thread-safe).
class AppendWaiter {
 public:
  virtual ~AppendWaiter() = default;
  virtual Status Wait(int64_t after_position, std::chrono::milliseconds timeout) = 0;
};

}  // namespace strato::events
