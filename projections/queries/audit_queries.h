// Reads of the audit trail — the log itself (schema/migrations/0010: the actor as
// strato_event_actor gives it, indexes on actor, stream and type) and the
// audit_stream_organizations read model (which organization a VM's stream belongs to) — as
// structs that the JSON API, the audit page, the dashboard and the live stream share. The
// summary of each entry is core/domain/audit_line.h's. Stateless; safe from any thread with its
// own session.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "events/pg/pg.h"

namespace strato::projections {

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

// What a reader may read: these streams, and the VM streams of these organizations (as
// audit_stream_organizations maps them).
struct AuditReadable {
  std::vector<std::string> streams;
  std::vector<std::string> organization_ids;
};

struct AuditEntriesPage {
  std::vector<AuditEntry> entries;  // at most query.limit
  bool more = false;                // older entries match too (the next page, before the last)
};

// The newest entries first that match `query` among what `readable` names. Each time filter is
// first found in the log as a position. Up to 1,000 readable streams are read stream by stream
// through the log's (stream_id, stream_version) key (a user who may read little of a long log),
// more from the log's end backwards. One entry more than the limit is read to know whether an
// older page exists. kInvalidArgument for a limit outside 1..kMaxAuditLimit.
Result<AuditEntriesPage> ReadAuditEntries(events::PgConnection& db, const AuditReadable& readable,
                                          const AuditQuery& query);

// The organization a stream belongs to (audit_stream_organizations); nullopt when none.
Result<std::optional<std::string>> ReadStreamOrganization(events::PgConnection& db,
                                                          const std::string& stream_id);

// Whether the log has ever had an event of this type.
Result<bool> ReadEventTypeSeen(events::PgConnection& db, const std::string& type);

// One stream's entries (a VM's history: the API's whole history, the VM page's newest 200), in
// `order`, the first `limit` of them in that order (0: all); stream_id is set on each.
enum class HistoryOrder { kOldestFirst, kNewestFirst };
Result<std::vector<AuditEntry>> ReadStreamHistory(events::PgConnection& db,
                                                  const std::string& stream_id,
                                                  HistoryOrder order = HistoryOrder::kOldestFirst,
                                                  int limit = 0);

}  // namespace strato::projections
