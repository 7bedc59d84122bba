#include "events/log/memory_event_store.h"

#include <algorithm>

namespace strato::events {
namespace {

class StoreWaiter final : public AppendWaiter {
 public:
  explicit StoreWaiter(MemoryEventStore& store) : store_(store) {}
  Status Wait(int64_t after_position, std::chrono::milliseconds timeout) override {
    return store_.Wait(after_position, timeout);
  }

 private:
  MemoryEventStore& store_;
};

}  // namespace

MemoryEventStore::MemoryEventStore(const Clock* clock)
    : clock_(clock != nullptr ? *clock : SystemClock::Instance()) {}

MemoryEventStore::~MemoryEventStore() = default;

Result<AppendResult> MemoryEventStore::Append(AppendRequest request) {
  STRATO_RETURN_IF_ERROR(ValidateAppendRequest(request));
  std::unique_lock<std::mutex> lock(mu_);
  STRATO_RETURN_IF_ERROR(FailureLocked());

  if (!request.command_id.IsNil()) {
    auto it = commands_.find(request.command_id);
    if (it != commands_.end()) {
      AppendResult first = it->second;
      first.duplicate = true;
      return first;
    }
  }

  // Check every stream before writing anything: the append is all or nothing.
  for (const StreamAppend& sa : request.streams) {
    auto it = streams_.find(sa.stream_id);
    int64_t current = it == streams_.end() ? 0 : static_cast<int64_t>(it->second.size());
    switch (sa.expected.kind) {
      case ExpectedVersion::Kind::kAny:
        break;
      case ExpectedVersion::Kind::kNoStream:
        if (current != 0) {
          return Status::Conflict("stream " + sa.stream_id + " already exists (at version " +
                                  std::to_string(current) + "); the append expected no stream");
        }
        break;
      case ExpectedVersion::Kind::kExact:
        if (current != sa.expected.version) {
          return Status::Conflict("stream " + sa.stream_id + " is at version " +
                                  std::to_string(current) + "; the append expected version " +
                                  std::to_string(sa.expected.version));
        }
        break;
    }
  }

  AppendResult result;
  // Like the PostgreSQL store: recorded_at never goes backwards along the log.
  TimePoint now = clock_.Now();
  if (!log_.empty() && log_.back().recorded_at > now) now = log_.back().recorded_at;
  for (StreamAppend& sa : request.streams) {
    std::vector<size_t>& indexes = streams_[sa.stream_id];
    StreamAppendResult sr;
    sr.stream_id = sa.stream_id;
    if (!sa.events.empty()) sr.first_version = static_cast<int64_t>(indexes.size()) + 1;
    for (NewEvent& ne : sa.events) {
      RecordedEvent e;
      e.position = static_cast<int64_t>(log_.size()) + 1;
      e.stream_id = sa.stream_id;
      e.stream_version = static_cast<int64_t>(indexes.size()) + 1;
      e.event_id = ne.event_id.IsNil() ? Uuid::NewV7() : ne.event_id;
      e.type = std::move(ne.type);
      e.data = std::move(ne.data);
      e.metadata = std::move(ne.metadata);
      e.recorded_at = now;
      e.command_id = request.command_id;
      if (result.first_position == 0) result.first_position = e.position;
      result.last_position = e.position;
      indexes.push_back(log_.size());
      log_.push_back(std::move(e));
    }
    sr.last_version = static_cast<int64_t>(indexes.size());
    if (indexes.empty()) streams_.erase(sa.stream_id);  // checking a stream does not create it
    result.streams.push_back(std::move(sr));
  }
  // A command that appended nothing is not remembered (as in the PostgreSQL store).
  if (!request.command_id.IsNil() && result.last_position != 0) {
    commands_.emplace(request.command_id, result);
  }
  lock.unlock();
  appended_.notify_all();
  return result;
}

Result<std::vector<RecordedEvent>> MemoryEventStore::ReadStream(const std::string& stream_id,
                                                                int64_t from_version,
                                                                size_t max_count) {
  std::lock_guard<std::mutex> lock(mu_);
  STRATO_RETURN_IF_ERROR(FailureLocked());
  std::vector<RecordedEvent> out;
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return out;
  size_t start = static_cast<size_t>(std::max<int64_t>(from_version, 1) - 1);
  for (size_t i = start; i < it->second.size() && out.size() < max_count; ++i) {
    out.push_back(log_[it->second[i]]);
  }
  return out;
}

Result<std::vector<RecordedEvent>> MemoryEventStore::ReadAll(int64_t after_position,
                                                             size_t max_count) {
  std::lock_guard<std::mutex> lock(mu_);
  STRATO_RETURN_IF_ERROR(FailureLocked());
  std::vector<RecordedEvent> out;
  size_t start = static_cast<size_t>(std::max<int64_t>(after_position, 0));
  for (size_t i = start; i < log_.size() && out.size() < max_count; ++i) out.push_back(log_[i]);
  return out;
}

Result<int64_t> MemoryEventStore::LastPosition() {
  std::lock_guard<std::mutex> lock(mu_);
  STRATO_RETURN_IF_ERROR(FailureLocked());
  return static_cast<int64_t>(log_.size());
}

Status MemoryEventStore::Wait(int64_t after_position, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  appended_.wait_for(lock, timeout, [&] {
    return !failure_.ok() || static_cast<int64_t>(log_.size()) > after_position;
  });
  return FailureLocked();
}

std::unique_ptr<AppendWaiter> MemoryEventStore::NewWaiter() {
  return std::make_unique<StoreWaiter>(*this);
}

void MemoryEventStore::SetFailure(Status failure) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    failure_ = std::move(failure);
  }
  appended_.notify_all();
}

}  // namespace strato::events
