#include "events/log/event_store.h"

namespace strato::events {

Result<std::vector<RecordedEvent>> ReadWholeStream(EventStore& store,
                                                   const std::string& stream_id) {
  constexpr size_t kBatch = 1000;
  std::vector<RecordedEvent> all;
  int64_t from = 1;
  for (;;) {
    auto batch = store.ReadStream(stream_id, from, kBatch);
    if (!batch.ok()) return batch.status();
    for (auto& e : *batch) all.push_back(std::move(e));
    if (batch->size() < kBatch) return all;
    from = all.back().stream_version + 1;
  }
}

}  // namespace strato::events
