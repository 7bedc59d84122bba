// ScanLog: the whole event log read as fast as PostgreSQL can send it, for folds that start
// from position 1 (projections/runner/rebuild.h). One COPY in binary format of only the columns a
// fold uses: nothing is converted to text on the server but the payload, no hash or id is
// decoded here, and no row is held longer than its callback.
#pragma once

#include <functional>
#include <string_view>

#include "core/status.h"
#include "events/log/event.h"
#include "events/pg/pg.h"

namespace strato::events {

// Calls `each` for every event the COPY's snapshot sees (the whole log then), in order of
// position, on `c` (a session of its own: a failing `each` cancels the COPY). Each event has
// position, stream_id, stream_version, type, data and recorded_at; its metadata, event_id,
// command_id and hash are left empty. It is reused for the next row: copy what you keep. The
// first failure stops the scan and is returned; a row that cannot be decoded is an Internal
// error naming its place.
Status ScanLog(PgConnection& c, const std::function<Status(const RecordedEvent&)>& each);

}  // namespace strato::events
