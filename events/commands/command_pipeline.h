// CommandPipeline: the one path by which a command becomes events. It loads the target
// stream, lets the caller's pure decision look at its history, appends what it decided with the
// stream's version as the expected version (plus any reservation streams, atomically), stamps
// every event's metadata (actor, command, correlation and causation ids, client address,
// time), and retries a bounded number of times when another writer got there first. The
// command id makes the whole thing idempotent end to end: a retried command returns the first
// result and appends nothing. A caller that acted on what it read at some version (an HTTP
// If-Match) sets CommandContext::expected_version, and the command is refused unless the stream
// is still at that version when it is decided.
//
// Thread-safe as its EventStore; the store is borrowed and must outlive the pipeline.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "events/log/event_store.h"

namespace strato::events {

// Who asked, and in answer to what. Empty actor means "system".
struct CommandContext {
  Uuid command_id;      // nil: a fresh one is made (the command is then not retry-safe)
  Uuid correlation_id;  // nil: the command id
  Uuid causation_id;    // nil: none (a command caused by a person, not by an event)
  std::string actor;    // "user-<uuid>", "host-<uuid>" or "system"
  std::string client_address;
  // When set, the command is refused with Code::kConflict (StaleVersionStatus's sentence)
  // unless the target stream's version equals it when the decision is made (0: no stream yet).
  // It is checked inside the optimistic-concurrency retry loop, after the duplicate-command
  // check: a write that lands between the read and the append makes the pipeline read again and
  // refuse, and a retry of a command that already landed still gets its first result.
  std::optional<int64_t> expected_version;
};

// The refusal of a command whose CommandContext::expected_version the stream no longer has: a
// Status with Code::kConflict, the sentence "stream <id> is at version <actual>; the command
// expected version <expected>", reason kStaleVersionReason and the details "stream_id",
// "expected_version" and "current_version". ReadStaleVersion reads them back from the details
// (nullopt for any other Status), so a caller can reword the refusal for its audience (the JSON
// API names the VM or organization and puts both versions in the error's details).
inline constexpr std::string_view kStaleVersionReason = "stale_version";
struct StaleVersion {
  std::string stream_id;
  int64_t expected = 0;
  int64_t actual = 0;
};
Status StaleVersionStatus(const StaleVersion& stale);
std::optional<StaleVersion> ReadStaleVersion(const Status& status);

// One event as a decision produces it: a type and its data (a JSON object).
struct Decided {
  std::string type;
  std::string data = "{}";
};

// Events for another stream in the same atomic append, e.g. a name reservation
// ("username-alice" with no-stream). A conflict there is not retried: it means the reserved
// thing is taken, and `conflict_message` is returned (Code::kAlreadyExists).
struct ReservationAppend {
  std::string stream_id;
  ExpectedVersion expected = ExpectedVersion::NoStream();
  std::vector<Decided> events;
  std::string conflict_message;
};

struct Decision {
  std::vector<Decided> events;          // for the target stream
  std::vector<ReservationAppend> also;  // other streams, same append
  std::string host_id;                  // VM events: the host it is placed on (for subjects)
};

struct CommandOutcome {
  std::vector<RecordedEvent> events;  // as appended (empty when the command changed nothing)
  int64_t position = 0;        // the log position to wait for before reading (read-your-writes)
  int64_t stream_version = 0;  // the target stream's version afterwards
  bool duplicate = false;      // the command id had been executed before
  int attempts = 0;
};

struct PipelineOptions {
  int max_attempts = 5;
  const Clock* clock = nullptr;  // null: the system clock
};

class CommandPipeline {
 public:
  explicit CommandPipeline(EventStore& store, PipelineOptions options = {});

  // The decision sees the target stream's events so far (empty for a new stream) and returns
  // what to append, or a Status (a domain error such as "VM web-1 is deleted; it cannot be
  // started", returned as is). It must be pure: it may run more than once.
  using Decide = std::function<Result<Decision>(const std::vector<RecordedEvent>& history)>;

  Result<CommandOutcome> Execute(const std::string& stream_id, const CommandContext& context,
                                 const Decide& decide);

 private:
  EventStore& store_;
  PipelineOptions options_;
  const Clock& clock_;
};

// The metadata object stamped on events (exposed for tests and tools).
std::string CommandMetadata(const CommandContext& context, const Uuid& command_id, TimePoint now,
                            const std::string& host_id);

}  // namespace strato::events
