// Which events of the log a signed-in user may read: the rule the audit log page, the events
// API, the dashboard's recent activity and the live-update stream (SSE) share.
//
// An event is readable when the user may read the entity its stream belongs to — vm-<id>:
// vm:<id>#read, org-<id>: organization:<id>#view, host-<id>: host:<id>#read, user-<id>: the
// user themself — or, for a VM's stream, may view the VM's organization (so a deleted VM's
// history stays readable to its organization after its tuples are gone).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "http/app.h"
#include "http/request.h"

namespace strato::http {

struct AuditEntry {
  int64_t position = 0;
  std::string recorded_at;  // RFC 3339, UTC
  std::string actor;        // "user:<id>", "host:<id>", "system"
  std::string stream_id;
  std::string type;
  std::string summary;
};

struct AuditQuery {
  std::string actor;      // exact; empty: any
  std::string stream_id;  // exact; empty: any
  std::string type;       // exact event type; empty: any
  std::string from;       // RFC 3339, inclusive; empty: no bound
  std::string to;         // RFC 3339, exclusive; empty: no bound
  int64_t before_position = 0;  // cursor: only entries older than this (0: from the newest)
  int limit = 50;               // 1..1000
};

// The newest entries first that match `query` and that `who` may read.
Result<std::vector<AuditEntry>> ReadableAuditEntries(const App& app, const Principal& who,
                                                     const AuditQuery& query);

// Whether `who` may read an event of `stream_id` (the rule above). Thread-safe; uses the
// authorization engine's in-memory tuples, and the database only to learn a VM's organization
// when it is not known yet.
bool MayReadStream(const App& app, const Principal& who, std::string_view stream_id);

}  // namespace strato::http
