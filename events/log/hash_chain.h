// The tamper-evident chain over the log: each event's hash is
//   BLAKE2b-256(previous hash || canonical bytes of the event)
// with 32 zero bytes before position 1. The canonical bytes are defined in
// schema/events.md ("Hash chain") and must never change: old logs must keep verifying.
// Pure functions; thread-safe.
#pragma once

#include <string>

#include "events/log/event.h"

namespace strato::events {

inline constexpr Hash kGenesisHash{};

// Length-prefixed encoding of every field except the hash itself.
std::string CanonicalBytes(const RecordedEvent& e);
Hash ChainHash(const Hash& previous, const RecordedEvent& e);

// Folds events (in position order) and reports the first that does not verify.
class ChainVerifier {
 public:
  // Returns false, with a sentence in problem(), at the first bad event.
  bool Add(const RecordedEvent& e);
  int64_t count() const { return count_; }
  int64_t first_bad_position() const { return first_bad_; }
  const std::string& problem() const { return problem_; }

 private:
  Hash previous_ = kGenesisHash;
  int64_t expected_position_ = 1;
  int64_t count_ = 0;
  int64_t first_bad_ = 0;
  std::string problem_;
};

}  // namespace strato::events
