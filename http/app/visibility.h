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
// audit filters as people and clients type them. Every read goes through App::queries.
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
#include "projections/queries/audit_queries.h"

namespace strato::http {

// The audit trail's structs and limits (projections/queries/audit_queries.h).
using projections::AuditEntriesPage;
using projections::AuditEntry;
using projections::AuditQuery;
using projections::kDefaultAuditLimit;
using projections::kMaxAuditLimit;

// The newest entries first that match `query` and that `who` may read. The engine's lookups
// give the readable streams (vm#read, organization#view, host#read, the user's own) and the
// organizations whose VM streams are readable; the entries are read by
// projections::Queries::AuditEntries (audit_queries.h says how).
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
// does not parse, a cursor or limit that is not a number in range. Reads the users read model
// (and the log for an event type outside the catalogue) through App::queries.
Result<AuditQuery> ParseAuditFilters(const App& app, const AuditFilterText& text);

// The event types of the catalogue (schema/events.md), for the type filter's choices.
const std::vector<std::string>& AuditEventTypes();

// "2026-11-27T10:31" (datetime-local, UTC) or RFC 3339 → the time as RFC 3339 (UTC, µs);
// kInvalidArgument naming `what` otherwise.
Result<std::string> ParseAuditTime(std::string_view text, std::string_view what);

}  // namespace strato::http
