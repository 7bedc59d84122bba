#include "http/api/api_hosts.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/domain/host.h"
#include "http/app/ui_support.h"
#include "http/server/json_body.h"
#include "http/server/json_out.h"

namespace strato::http {

namespace {

constexpr const char* kTime = "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'";

void WriteResource(JsonWriter& w, const char* key, int64_t total, int64_t allocated) {
  w.Key(key);
  w.StartObject();
  w.Key("total");
  w.Int64(total);
  w.Key("allocated");
  w.Int64(allocated);
  w.Key("free");
  w.Int64(FreeOf(total, allocated));
  w.EndObject();
}

void WriteHost(JsonWriter& w, const HostRow& h, bool may_manage) {
  w.StartObject();
  JsonStr(w, "id", h.id);
  JsonStr(w, "name", h.name);
  JsonStr(w, "address", h.address);
  w.Key("hypervisor");
  w.StartObject();
  JsonStr(w, "kind", h.hypervisor_kind);
  JsonStr(w, "version", h.hypervisor_version);
  w.EndObject();
  w.Key("capacity");
  w.StartObject();
  WriteResource(w, "cpu_count", h.capacity.cpu_count, h.allocated.cpu_count);
  WriteResource(w, "memory_mb", h.capacity.memory_mb, h.allocated.memory_mb);
  WriteResource(w, "disk_gb", h.capacity.disk_gb, h.allocated.disk_gb);
  w.EndObject();
  w.Key("reachable");
  w.Bool(h.reachable);
  JsonStr(w, "unreachable_reason", h.unreachable_reason);
  w.Key("cordoned");
  w.Bool(h.cordoned);
  JsonStr(w, "cordon_reason", h.cordon_reason);
  w.Key("vm_count");
  w.Int64(h.vm_count);
  w.Key("may_manage");
  w.Bool(may_manage);
  JsonStr(w, "registered_at", h.registered_at);
  JsonStr(w, "updated_at", h.updated_at);
  w.Key("position");
  w.Int64(h.position);
  w.EndObject();
}

// The host as JSON, or 404 when the read model does not have it.
Result<std::string> HostJson(App& app, const Request& req, const std::string& id) {
  auto rows = ReadHosts(app, {id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::NotFound("there is no host " + id);
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  WriteHost(w, rows->front(), UserMay(app, *req.principal, "host", id, "manage"));
  return JsonText(buf);
}

Response ListHosts(App& app, Request& req) {
  auto ids = UserEntities(app, *req.principal, "host", "read");
  if (!ids.ok()) return JsonError(ids.status());
  auto rows = ReadHosts(app, **ids);
  if (!rows.ok()) return JsonError(rows.status());
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("hosts");
  w.StartArray();
  for (const HostRow& h : *rows) {
    WriteHost(w, h, UserMay(app, *req.principal, "host", h.id, "manage"));
  }
  w.EndArray();
  w.EndObject();
  return Response::Json(200, JsonText(buf));
}

Response GetHost(App& app, Request& req) {
  auto host = HostJson(app, req, req.Param("id"));
  if (!host.ok()) return JsonError(host.status());
  return Response::Json(200, *host);
}

// After a command: wait until the read models (and the tuples) show it, then answer with the
// host as it is now.
Response AfterHostCommand(App& app, Request& req, const domain::HostCommand& command) {
  const std::string id = req.Param("id");
  auto outcome = app.commands.Host(ContextFor(req), id, command);
  if (!outcome.ok()) return JsonError(outcome.status());
  Status seen = app.WaitForReadModels(outcome->position);
  if (!seen.ok()) return JsonError(seen);
  auto host = HostJson(app, req, id);
  if (!host.ok()) return JsonError(host.status());
  Response r = Response::Json(200, *host);
  if (outcome->duplicate) r.With("Idempotent-Replayed", "true");
  return r;
}

Response CordonHost(App& app, Request& req) {
  auto body = JsonBody::Parse(req.body, {"reason"}, /*empty_ok=*/true);
  if (!body.ok()) return JsonError(body.status());
  auto reason = body->OptStr("reason");
  if (!reason.ok()) return JsonError(reason.status());
  return AfterHostCommand(app, req, domain::CordonHost{reason->value_or("")});
}

Response UncordonHost(App& app, Request& req) {
  auto body = JsonBody::Parse(req.body, {}, /*empty_ok=*/true);
  if (!body.ok()) return JsonError(body.status());
  return AfterHostCommand(app, req, domain::UncordonHost{});
}

}  // namespace

Result<std::vector<HostRow>> ReadHosts(const App& app, const std::vector<std::string>& ids) {
  std::vector<HostRow> out;
  if (ids.empty()) return out;
  events::PgArray array;
  for (const std::string& id : ids) array.Add(id);
  auto db = app.db.Acquire();
  if (!db.ok()) return db.status();
  auto r = (*db)->Exec(
      std::string("SELECT h.host_id, h.name, h.address, h.hypervisor_kind, h.hypervisor_version, "
                  "h.cordon_reason, h.unreachable_reason, to_char(h.registered_at AT TIME ZONE "
                  "'UTC', ") +
          kTime + "), to_char(h.updated_at AT TIME ZONE 'UTC', " + kTime +
          "), h.cpu_count, h.memory_mb, h.disk_gb, h.allocated_cpu_count, "
          "h.allocated_memory_mb, h.allocated_disk_gb, h.cordoned, h.reachable, (SELECT count(*) "
          "FROM host_allocations a WHERE a.host_id = h.host_id), h.last_position FROM hosts h "
          "WHERE h.host_id = ANY($1::text[]) ORDER BY h.name, h.host_id",
      {array.Literal()});
  if (!r.ok()) return r.status().WithContext("reading hosts");
  for (int i = 0; i < r->rows(); ++i) {
    HostRow h;
    std::string* text[] = {&h.id,
                           &h.name,
                           &h.address,
                           &h.hypervisor_kind,
                           &h.hypervisor_version,
                           &h.cordon_reason,
                           &h.unreachable_reason,
                           &h.registered_at,
                           &h.updated_at};
    for (int c = 0; c < 9; ++c) *text[c] = std::string(r->Get(i, c));
    h.capacity = {r->GetInt64(i, 9), r->GetInt64(i, 10), r->GetInt64(i, 11)};
    h.allocated = {r->GetInt64(i, 12), r->GetInt64(i, 13), r->GetInt64(i, 14)};
    h.cordoned = r->Get(i, 15) == "t";
    h.reachable = r->Get(i, 16) == "t";
    h.vm_count = r->GetInt64(i, 17);
    h.position = r->GetInt64(i, 18);
    out.push_back(std::move(h));
  }
  return out;
}

void AddHostApiRoutes(Router& router, App& app) {
  router.Add(AppRoute("GET", "/api/v1/hosts", Access::SignedIn(),
                      "List the hosts you may read (platform operators and admins), with "
                      "capacity, allocation, reachability, cordon and VM count",
                      ListHosts, app));
  router.Add(AppRoute("GET", "/api/v1/hosts/{id}", Access::Permission("host:{id}#read"),
                      "Get a host", GetHost, app));
  router.Add(AppRoute("POST", "/api/v1/hosts/{id}/cordon", CommandAccess("host.cordon"),
                      "Cordon the host: it takes no new VMs (body {\"reason\": \"...\"})",
                      CordonHost, app));
  router.Add(AppRoute("POST", "/api/v1/hosts/{id}/uncordon", CommandAccess("host.uncordon"),
                      "Uncordon the host: it takes new VMs again", UncordonHost, app));
}

}  // namespace strato::http
