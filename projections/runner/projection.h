// Projection: a named fold of the event log into tables (a read model). The ProjectionRunner
// (runner.h) calls Apply for every event in log order inside a transaction it owns, together
// with the update of the projection's checkpoint, so each event takes effect exactly once.
//
// A projection only writes its own tables, only through the connection it is handed, and only
// with parameterized SQL; it never commits, rolls back or opens a transaction of its own.
// Events it does not care about are ignored (return OK). A non-OK Status stops the projection
// at that event (the runner records the error and position; it never skips the event), except
// Code::kUnavailable and a lost connection, which the runner retries.
//
// Threading: the runner calls a projection from one thread at a time. Prepared statement
// names are per session and shared by every projection on it: prefix them with name().
#pragma once

#include <rapidjson/document.h>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "events/log/event.h"
#include "events/pg/pg.h"

namespace strato::projections {

// Rows for `copy_sql` ("COPY t (a, b) FROM STDIN"): COPY's text format (events::PgCopyText),
// or its binary format (events::PgCopyBinary) when copy_sql says "(FORMAT binary)".
struct CopyChunk {
  std::string copy_sql;
  std::string rows;
};

// An event as a bulk fold gets it, its data parsed once for every fold (events/pg/log_scan.h):
// `event` has no metadata, ids or hash. Everything is valid only during the call.
struct FoldEvent {
  const events::RecordedEvent& event;
  const rapidjson::Value& data;  // event.data parsed; Null when it is not JSON
};

// BulkFold: a projection's fold of the log done in memory, for rebuilds (rebuild.h). It is
// fed every event from position 1 in order (Add), then writes the rows its tables end with
// (Write, with COPY, into the tables the search_path names, which hold only what TakeFinal
// gave). It must give exactly the rows ApplyBatch would. A non-OK Status from either makes
// the rebuild fall back to ApplyBatch. Used from one thread at a time (not always the same).
class BulkFold {
 public:
  virtual ~BulkFold() = default;
  virtual Status Add(const FoldEvent& e) = 0;
  // Rows that no later event can change (the audit trail's, say), handed over between Adds to
  // be written while the fold goes on; Write then writes only the rest. None by default.
  virtual std::vector<CopyChunk> TakeFinal() { return {}; }
  virtual Status Write(events::PgConnection& tx) = 0;
};

class Projection {
 public:
  virtual ~Projection() = default;

  // Unique among the projections of a runner; the key of its projection_checkpoints row.
  // Never rename a projection that has run: a new name rebuilds from position 0.
  virtual const std::string& name() const = 0;

  // The tables this projection owns (and Reset truncates).
  virtual std::vector<std::string> tables() const = 0;

  // Folds one event into the tables, on `tx` (inside the runner's transaction).
  virtual Status Apply(events::PgConnection& tx, const events::RecordedEvent& e) = 0;

  // Folds several consecutive events (for projections that can batch, e.g. one INSERT for the
  // lot). The default calls Apply for each. When it fails, the runner rolls back and replays
  // the same events through Apply one at a time to find the failing one.
  virtual Status ApplyBatch(events::PgConnection& tx, std::span<const events::RecordedEvent> es);

  // Empties the tables (inside the runner's transaction, which also sets the checkpoint to 0).
  // The default truncates tables().
  virtual Status Reset(events::PgConnection& tx);

  // A fresh in-memory fold of this read model, or nullptr when it has none (the default).
  virtual std::unique_ptr<BulkFold> StartBulk() const { return nullptr; }
};

// TRUNCATE of the named tables (quoted as identifiers; DDL takes no parameters).
Status TruncateTables(events::PgConnection& tx, const std::vector<std::string>& tables);

}  // namespace strato::projections
