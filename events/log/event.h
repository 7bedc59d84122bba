// The event envelope: what an appender hands the log (NewEvent, AppendRequest) and what the
// log hands back (RecordedEvent, AppendResult), plus the validation every append goes through.
// Plain values; thread-safe to copy. JSON payloads are carried as text: the store validates
// them and PostgreSQL (jsonb) normalises them, so a RecordedEvent holds jsonb's canonical text.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "core/status.h"

namespace strato::events {

using Hash = std::array<uint8_t, 32>;

inline constexpr size_t kMaxStreamIdBytes = 200;
inline constexpr size_t kMaxEventTypeBytes = 100;
inline constexpr size_t kMaxPayloadBytes = 1 << 20;  // data or metadata, each
inline constexpr size_t kMaxEventsPerAppend = 10000;

struct NewEvent {
  std::string type;             // e.g. "VmCreated": letters and digits, starts with a capital
  std::string data = "{}";      // a JSON object
  std::string metadata = "{}";  // a JSON object: actor, command_id, correlation_id, ...
  Uuid event_id;                // nil: the store assigns a version-7 uuid
};

// What the appender expects of the stream before its events go in.
struct ExpectedVersion {
  enum class Kind { kAny, kNoStream, kExact };
  Kind kind = Kind::kAny;
  int64_t version = 0;  // for kExact: the stream's current last version (>= 1)

  static ExpectedVersion Any() { return {Kind::kAny, 0}; }
  static ExpectedVersion NoStream() { return {Kind::kNoStream, 0}; }
  static ExpectedVersion Exact(int64_t v) { return {Kind::kExact, v}; }
  // The stream as last read: version 0 means it did not exist.
  static ExpectedVersion At(int64_t v) { return v == 0 ? NoStream() : Exact(v); }
  std::string ToString() const;
};

// Events for one stream inside an append.
struct StreamAppend {
  std::string stream_id;  // "<category>-<id>", e.g. "vm-7d1f..."; category is lowercase letters
  ExpectedVersion expected;
  std::vector<NewEvent> events;
};

// One atomic append: all streams' checks pass and all events go in, or nothing does.
struct AppendRequest {
  Uuid command_id;  // nil: not idempotent. Otherwise a retry returns the first result.
  std::vector<StreamAppend> streams;
};

struct StreamAppendResult {
  std::string stream_id;
  int64_t first_version = 0;  // 0 when no events were appended to this stream
  int64_t last_version = 0;   // the stream's version after the append
};

struct AppendResult {
  std::vector<StreamAppendResult> streams;
  int64_t first_position = 0;  // 0 when nothing was appended
  int64_t last_position = 0;   // the log's position the caller can wait for
  bool duplicate = false;      // true: the command id had been appended before; nothing new
};

struct RecordedEvent {
  int64_t position = 0;  // global_position: 1, 2, 3, ... with no gaps
  std::string stream_id;
  int64_t stream_version = 0;
  Uuid event_id;
  std::string type;
  std::string data;      // jsonb text
  std::string metadata;  // jsonb text
  TimePoint recorded_at;
  Uuid command_id;  // nil when the append carried none
  Hash hash{};

  // The stream's category: the part of stream_id before the first '-'.
  std::string_view Category() const;
};

Status ValidateStreamId(std::string_view stream_id);
Status ValidateEventType(std::string_view type);
// A JSON object, valid UTF-8, at most kMaxPayloadBytes; `what` names it in the error.
Status ValidateJsonObject(std::string_view json, std::string_view what);
// Everything above, for a whole request; names the stream and event index at fault.
Status ValidateAppendRequest(const AppendRequest& req);

// The NATS subject an event is published on (see schema/subjects.md):
//   strato.events.<category>.<id>.<Type>, and for VM streams
//   strato.events.vm.<host-id|unassigned>.<vm-id>.<Type>, the host taken from metadata.host_id.
std::string SubjectFor(const RecordedEvent& e);

// One JSON line: {"position":..,"stream_id":..,"stream_version":..,"event_id":..,"type":..,
// "data":{..},"metadata":{..},"recorded_at":"..Z","hash":"hex"}
std::string ToJsonLine(const RecordedEvent& e);
// The inverse of ToJsonLine (used by bus consumers).
Result<RecordedEvent> FromJsonLine(std::string_view line);

std::string HexEncode(const uint8_t* data, size_t n);
Result<Hash> HashFromHex(std::string_view hex);

}  // namespace strato::events
