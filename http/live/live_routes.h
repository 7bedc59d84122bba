// Live updates for the pages (and any API client): server-sent events.
//
//   GET /api/v1/events/stream    signed in: one stream per browser tab
//
// Each message is one event of the log the user may read (http/app/visibility.h), published by the
// LiveHub (http/live/live_events.h) only after the read models show it:
//
//   id: <global position>
//   event: change
//   data: {"position":P,"stream":"vm-<id>","kind":"vm","id":"<id>","type":"VmStarted"}
//
// A client that reconnects sends Last-Event-ID (EventSource does) or ?after=<position> and
// resumes after it; when that position is no longer kept (or lies ahead of the log), it gets
// `event: reset` and should reload what it shows. `event: signed-out` ends the stream when the
// session or token is no longer valid (checked every 30 s). A comment line is sent every 15 s so
// proxies keep the connection and a gone client is noticed. Streams hold a server thread each:
// a user who holds the hub's per-user limit already (STRATO_LIVE_STREAMS_PER_USER, 16 by
// default) is refused with 429, and beyond the limit for everyone (128) the answer is 503, each
// with a sentence.
#pragma once

#include "http/app/app.h"
#include "http/server/router.h"

namespace strato::http {

void AddLiveRoutes(Router& router, App& app);

// The SSE text of one message (exposed for tests).
std::string LiveMessage(int64_t position, const std::string& stream_id, const std::string& type);

}  // namespace strato::http
