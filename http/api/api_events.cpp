#include "http/api/api_events.h"

#include <algorithm>
#include <string>

#include "events/log/audit.h"
#include "http/app/visibility.h"
#include "http/server/json_out.h"

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
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("events");
  w.StartArray();
  for (const AuditEntry& e : *entries) {
    w.StartObject();
    w.Key("position");
    w.Int64(e.position);
    JsonStr(w, "recorded_at", e.recorded_at);
    JsonStr(w, "actor", e.actor);
    JsonStr(w, "stream_id", e.stream_id);
    JsonStr(w, "type", e.type);
    JsonStr(w, "summary", e.summary);
    w.EndObject();
  }
  w.EndArray();
  if (more) {
    JsonStr(w, "next_cursor", std::to_string(entries->back().position));
  } else {
    w.Key("next_cursor");
    w.Null();
  }
  w.EndObject();
  return Response::Json(200, JsonText(buf));
}

// The whole chain, from position 1: as costly as `strato audit verify` (one pass over the log).
Response VerifyChain(App& app, Request&) {
  auto head = app.log->LastPosition();
  if (!head.ok()) return JsonError(head.status());
  auto report = events::VerifyLog(*app.log);
  if (!report.ok()) return JsonError(report.status());
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("ok");
  w.Bool(report->ok);
  w.Key("events_checked");
  w.Int64(report->verified);
  w.Key("head_position");
  w.Int64(std::max(*head, report->verified));
  w.Key("first_bad_position");
  if (report->ok) {
    w.Null();
  } else {
    w.Int64(report->first_bad_position);
  }
  w.Key("problem");
  if (report->ok) {
    w.Null();
  } else {
    w.String(report->problem.c_str(), static_cast<rapidjson::SizeType>(report->problem.size()));
  }
  w.EndObject();
  return Response::Json(200, JsonText(buf));
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
