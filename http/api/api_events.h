// The JSON API for the event log:
//
//   GET /api/v1/events        (signed in) the audit entries the caller may read
//                             (http/app/visibility.h), newest first; filters actor (a username,
//                             "system", or user-<id>/host-<id>), stream, type, from, to (RFC 3339
//                             or datetime-local, UTC); `limit` 1..1000 (default 50) and the
//                             `before` cursor. {"events":[...],"next_cursor":"<position>"|null}.
//   GET /api/v1/audit/verify  (signed in) the hash chain verified from position 1:
//                             {"ok","events_checked","head_position","first_bad_position"|null,
//                             "problem"|null}. Signed in rather than platform operators only:
//                             the router takes a permission's id from the path, and this path
//                             has none.
//
// Handlers run on the server's threads; they share nothing but the App.
#pragma once

#include "http/app/app.h"
#include "http/server/router.h"

namespace strato::http {

void AddEventApiRoutes(Router& router, App& app);

}  // namespace strato::http
