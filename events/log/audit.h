// Verifying the log's hash chain from position 1 to the end, in batches. Thread-safe as the
// EventStore it reads from.
#pragma once

#include <functional>

#include "events/log/event_store.h"

namespace strato::events {

struct VerifyReport {
  bool ok = true;
  int64_t verified = 0;            // events that verified before the first problem (or all)
  int64_t first_bad_position = 0;  // 0 when ok
  std::string problem;             // a sentence, empty when ok
};

Result<VerifyReport> VerifyLog(EventStore& store, size_t batch_size = 5000);

}  // namespace strato::events
