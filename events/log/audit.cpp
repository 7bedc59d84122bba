#include "events/log/audit.h"

#include "events/log/hash_chain.h"

namespace strato::events {

Result<VerifyReport> VerifyLog(EventStore& store, size_t batch_size) {
  ChainVerifier verifier;
  int64_t after = 0;
  for (;;) {
    auto batch = store.ReadAll(after, batch_size);
    if (!batch.ok()) return batch.status().WithContext("reading the log");
    for (const RecordedEvent& e : *batch) {
      if (!verifier.Add(e)) {
        return VerifyReport{false, verifier.count(), verifier.first_bad_position(),
                            verifier.problem()};
      }
    }
    if (batch->size() < batch_size) break;
    after = batch->back().position;
  }
  return VerifyReport{true, verifier.count(), 0, ""};
}

}  // namespace strato::events
