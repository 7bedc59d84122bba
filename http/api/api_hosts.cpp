#include "http/api/api_hosts.h"

#include "core/domain/host.h"
#include "core/json_writer.h"
#include "http/app/app.h"
#include "http/app/permissions.h"
#include "http/server/json_body.h"

namespace strato::http {

namespace {

// physical x allocation_ratio = total, what the scheduler may place; free = total - allocated.
void WriteResource(JsonWriter& w, std::string_view key, int64_t physical, int64_t ratio,
                   int64_t total, int64_t allocated) {
  w.Key(key).BeginObject();
  w.Int("physical", physical).Int("allocation_ratio", ratio);
  w.Int("total", total).Int("allocated", allocated).Int("free", FreeOf(total, allocated));
  w.EndObject();
}

void WriteHost(JsonWriter& w, const HostRow& h, bool may_manage) {
  w.BeginObject();
  w.Str("id", h.id).Str("name", h.name).Str("address", h.address);
  w.Key("hypervisor").BeginObject();
  w.Str("kind", h.hypervisor_kind).Str("version", h.hypervisor_version);
  w.Str("accelerator", h.accelerator);
  w.EndObject();
  const domain::Resources total = h.schedulable();
  w.Key("capacity").BeginObject();
  WriteResource(w, "cpu_count", h.capacity.cpu_count, h.cpu_allocation_ratio, total.cpu_count,
                h.allocated.cpu_count);
  WriteResource(w, "memory_mb", h.capacity.memory_mb, h.memory_allocation_ratio, total.memory_mb,
                h.allocated.memory_mb);
  WriteResource(w, "disk_gb", h.capacity.disk_gb, 1, total.disk_gb, h.allocated.disk_gb);
  w.EndObject();
  w.Bool("reachable", h.reachable).Str("unreachable_reason", h.unreachable_reason);
  w.Bool("cordoned", h.cordoned).Str("cordon_reason", h.cordon_reason);
  w.Int("vm_count", h.vm_count).Bool("may_manage", may_manage);
  w.Str("registered_at", h.registered_at).Str("updated_at", h.updated_at);
  w.Int("position", h.position);
  w.EndObject();
}

// The host as JSON, or 404 when the read model does not have it.
Result<std::string> HostJson(App& app, const Request& req, const std::string& id) {
  auto rows = ReadHosts(app, {id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::NotFound("there is no host " + id);
  JsonWriter w;
  WriteHost(w, rows->front(), UserMay(app, *req.principal, "host", id, "manage"));
  return w.Text();
}

Response ListHosts(App& app, Request& req) {
  auto ids = UserEntities(app, *req.principal, "host", "read");
  if (!ids.ok()) return JsonError(ids.status());
  auto rows = ReadHosts(app, **ids);
  if (!rows.ok()) return JsonError(rows.status());
  JsonWriter w;
  w.BeginObject().Key("hosts").BeginArray();
  for (const HostRow& h : *rows) {
    WriteHost(w, h, UserMay(app, *req.principal, "host", h.id, "manage"));
  }
  w.EndArray().EndObject();
  return Response::Json(200, w.Text());
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
  if (ids.empty()) return std::vector<HostRow>();
  return app.queries->Hosts(ids);
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
