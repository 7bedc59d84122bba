// The audit log page, GET /audit (signed in): the log's entries the user may read
// (http/app/visibility.h), newest first, 50 a page with an "Older" link (before=<position>),
// filtered by a GET form — actor (username), stream, event type, from and to (datetime-local,
// UTC) — and a "State as of" form showing a VM as it was at a moment (events/log/as_of.h), for a
// VM whose history the user may read. A filter or as-of value that does not parse is a
// sentence on the page with status 400; a VM whose history the user may not read, 404.
//
// The handler runs on the server's threads; it shares nothing but the App.
#pragma once

#include "http/app/app.h"
#include "http/server/router.h"

namespace strato::http {

void AddAuditPages(Router& router, App& app);

}  // namespace strato::http
