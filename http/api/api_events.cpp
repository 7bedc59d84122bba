#include "http/api/api_events.h"

#include <algorithm>
#include <string>

#include "core/json_writer.h"
#include "events/log/audit.h"
#include "http/app/visibility.h"

namespace strato::http {

namespace {

Response ListEvents(App& app, Request& req) {
  const AuditFilterText text = AuditFilterText::FromQuery(req);
  auto query = ParseAuditFilters(app, text);
  if (!query.ok()) return JsonError(query.status());
  const Principal& me = *req.principal;
  auto page = ReadableAuditEntries(app, me, *query);
  if (!page.ok()) return JsonError(page.status());
  const std::vector<AuditEntry>* entries = &page->entries;
  const bool more = page->more;
  JsonWriter w;
  w.BeginObject().Key("events").BeginArray();
  for (const AuditEntry& e : *entries) {
    w.BeginObject();
    w.Int("position", e.position).Str("recorded_at", e.recorded_at).Str("actor", e.actor);
    w.Str("stream_id", e.stream_id).Str("type", e.type).Str("summary", e.summary);
    w.EndObject();
  }
  w.EndArray();
  w.OptStr("next_cursor", more
                              ? std::optional<std::string>(std::to_string(entries->back().position))
                              : std::nullopt);
  w.EndObject();
  return Response::Json(200, w.Text());
}

// The whole chain, from position 1: as costly as `strato audit verify` (one pass over the log).
Response VerifyChain(App& app, Request&) {
  auto head = app.log->LastPosition();
  if (!head.ok()) return JsonError(head.status());
  auto report = events::VerifyLog(*app.log);
  if (!report.ok()) return JsonError(report.status());
  JsonWriter w;
  w.BeginObject();
  w.Bool("ok", report->ok).Int("events_checked", report->verified);
  w.Int("head_position", std::max(*head, report->verified));
  w.OptInt("first_bad_position",
           report->ok ? std::nullopt : std::optional<int64_t>(report->first_bad_position));
  w.OptStr("problem", report->ok ? std::nullopt : std::optional<std::string>(report->problem));
  w.EndObject();
  return Response::Json(200, w.Text());
}

}  // namespace

void AddEventApiRoutes(Router& router, App& app) {
  router.Add(AppRoute("GET", "/api/v1/events", Access::SignedIn(),
                      "The log's entries the caller may read, newest first (filters actor, "
                      "stream, type, from, to; limit and before for paging)",
                      ListEvents, app));
  // Verification reads every event of every tenant: platform operators only.
  router.Add(AppRoute("GET", "/api/v1/audit/verify", Access::Permission("platform:strato#operate"),
                      "Verify the log's hash chain from position 1", VerifyChain, app));
}

}  // namespace strato::http
