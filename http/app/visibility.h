// Which events of the log a signed-in user may read: the rule the audit log page, the events
// API, the dashboard's recent activity and the live-update stream (SSE) share.
//
// An event is readable when the user may read the entity its stream belongs to — vm-<id>:
// vm:<id>#read, org-<id>: organization:<id>#view, host-<id>: host:<id>#read, user-<id>: the
// user themself — or, for a VM's stream, may view the VM's organization (so a deleted VM's
// history stays readable to its organization after its tuples are gone). Other streams (the
// reservations username-, passkey-, vmname-) are readable by nobody here.
//
// A stream's organization comes from audit_stream_organizations, which the audit projection
// writes from VmCreated and OrganizationCreated (projections/models/audit_projection.h) and never
// deletes. MayReadStream keeps what it learnt of that table in memory (StreamOrganizations,
// one per WebStack, as App::stream_organizations; a stream's organization never changes).
//
// Also here, because the audit page and the events API both need them: the parsing of the
// audit filters as people and clients type them, and a read-only view of the log through the
// App's pool for the as-of view and the hash chain's verification.
//
// Everything is thread-safe; the App is borrowed for the call.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "events/log/event_store.h"
#include "http/app/app.h"
#include "http/server/request.h"

namespace strato::http {

inline constexpr int kMaxAuditLimit = 1000;
inline constexpr int kDefaultAuditLimit = 50;

struct AuditEntry {
  int64_t position = 0;
  std::string recorded_at;  // RFC 3339, UTC, microseconds: 2026-11-27T10:31:02.123456Z
  std::string actor;        // "user-<id>", "host-<id>", "system"
  std::string stream_id;
  std::string type;
  std::string summary;
};

struct AuditQuery {
  std::string actor;               // exact ("user-<id>", "host-<id>", "system"); empty: any
  std::string stream_id;           // exact; empty: any
  std::string type;                // exact event type; empty: any
  std::string from;                // RFC 3339, inclusive; empty: no bound
  std::string to;                  // RFC 3339, exclusive; empty: no bound
  int64_t before_position = 0;     // cursor: only entries older than this (0: from the newest)
  int limit = kDefaultAuditLimit;  // 1..kMaxAuditLimit
};

// The newest entries first that match `query` and that `who` may read, read from the log
// itself (the actor as strato_event_actor gives it, schema/migrations/0010; the summary from
// core/domain/audit_line.h). The engine's lookups give the readable streams,
// audit_stream_organizations the VM streams of the organizations `who` may view; each time
// filter is first found in the log as a position. Up to 1,000 readable streams are read
// stream by stream through the log's (stream_id, stream_version) key (a user who may read
// little of a long log), more from the log's end backwards. One entry more than the limit is
// read to know whether an older page exists.
struct AuditEntriesPage {
  std::vector<AuditEntry> entries;  // at most query.limit
  bool more = false;                // older entries match too (the next page, before the last)
};
Result<AuditEntriesPage> ReadableAuditEntries(const App& app, const Principal& who,
                                              const AuditQuery& query);

// stream id -> organization id, learnt from audit_stream_organizations. A stream's organization
// never changes, so what was found is kept; streams not found are remembered briefly (by the
// App's clock), so a burst of events of an unmapped stream costs one query.
class StreamOrganizations {
 public:
  // The organization, or "" when the stream has none (or the database cannot say now).
  std::string Find(const App& app, std::string_view stream_id);

 private:
  static constexpr std::chrono::seconds kRetryMissAfter{2};
  static constexpr size_t kMaxMisses = 10000;
  std::shared_mutex mu_;
  std::unordered_map<std::string, std::string> known_;
  std::unordered_map<std::string, TimePoint> missing_;
};

// Whether `who` may read an event of `stream_id` (the rule above). Thread-safe; uses the
// authorization engine's in-memory tuples, and the database only to learn a VM's organization
// when it is not known yet.
bool MayReadStream(const App& app, const Principal& who, std::string_view stream_id);

// The audit filters as text, as a GET form or the API's query string gives them.
struct AuditFilterText {
  std::string actor;  // a username; "system"; or an actor as entries show it (user-<id>, host-<id>)
  std::string stream;  // a stream id: vm-<id>, org-<id>, host-<id>, user-<id>
  std::string type;    // an event type
  std::string from;    // RFC 3339, or a datetime-local value (2026-11-27T10:31[:05]) taken as UTC
  std::string to;      // likewise
  std::string before;  // a position (the cursor)
  std::string limit;   // 1..kMaxAuditLimit; empty: kDefaultAuditLimit

  // The filters as a request's query parameters (actor, stream, type, from, to, before, limit):
  // the audit page and the events API take the same ones.
  static AuditFilterText FromQuery(const Request& req);
};

// An AuditQuery from the text, or kInvalidArgument with a sentence naming the field: an
// unknown username, a malformed stream id, an event type the log has never had, a time that
// does not parse, a cursor or limit that is not a number in range. Reads the users table (and
// the log for an event type outside the catalogue).
Result<AuditQuery> ParseAuditFilters(const App& app, const AuditFilterText& text);

// The event types of the catalogue (schema/events.md), for the type filter's choices.
const std::vector<std::string>& AuditEventTypes();

// "2026-11-27T10:31" (datetime-local, UTC) or RFC 3339 → the time as RFC 3339 (UTC, µs);
// kInvalidArgument naming `what` otherwise.
Result<std::string> ParseAuditTime(std::string_view text, std::string_view what);

}  // namespace strato::http
