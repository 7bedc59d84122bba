#include "http/api_routes.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/domain/organization.h"
#include "core/domain/vm.h"
#include "core/ids.h"
#include "http/json_body.h"
#include "http/json_out.h"

namespace strato::http {

namespace {

using Writer = JsonWriter;
constexpr auto Str = JsonStr;
constexpr auto Done = JsonText;

constexpr const char* kTime = "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'";

std::string VmColumns() {
  return std::string(
             "vm_id, org_id, owner_id, name, description, image, cpu_count, memory_mb, "
             "disk_gb, desired, generation, coalesce(host_id, ''), coalesce(placement_failure, "
             "''), observed, observed_generation, coalesce(observed_error, ''), to_char(created_at "
             "AT TIME ZONE 'UTC', ") +
         kTime + "), to_char(updated_at AT TIME ZONE 'UTC', " + kTime + "), last_position, deleted";
}

void WriteVm(Writer& w, const events::PgResult& r, int i) {
  w.StartObject();
  Str(w, "id", r.Get(i, 0));
  Str(w, "org_id", r.Get(i, 1));
  Str(w, "owner_id", r.Get(i, 2));
  Str(w, "name", r.Get(i, 3));
  Str(w, "description", r.Get(i, 4));
  Str(w, "image", r.Get(i, 5));
  w.Key("cpu_count");
  w.Int64(r.GetInt64(i, 6));
  w.Key("memory_mb");
  w.Int64(r.GetInt64(i, 7));
  w.Key("disk_gb");
  w.Int64(r.GetInt64(i, 8));
  Str(w, "desired", r.Get(i, 9));
  w.Key("generation");
  w.Int64(r.GetInt64(i, 10));
  w.Key("host_id");
  if (r.Get(i, 11).empty()) {
    w.Null();
  } else {
    w.String(r.Get(i, 11).data(), static_cast<rapidjson::SizeType>(r.Get(i, 11).size()));
  }
  Str(w, "placement_failure", r.Get(i, 12));
  Str(w, "observed", r.Get(i, 13));
  w.Key("observed_generation");
  w.Int64(r.GetInt64(i, 14));
  Str(w, "observed_error", r.Get(i, 15));
  Str(w, "created_at", r.Get(i, 16));
  Str(w, "updated_at", r.Get(i, 17));
  w.Key("position");
  w.Int64(r.GetInt64(i, 18));
  w.Key("deleted");
  w.Bool(r.Get(i, 19) == "t");
  w.EndObject();
}

Result<std::string> VmJson(App& app, const std::string& vm_id) {
  auto db = app.db.Acquire();
  if (!db.ok()) return db.status();
  auto r = (*db)->Exec("SELECT " + VmColumns() + " FROM vms WHERE vm_id = $1", {vm_id});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return Status::NotFound("there is no VM " + vm_id);
  rapidjson::StringBuffer buf;
  Writer w(buf);
  WriteVm(w, *r, 0);
  return Done(buf);
}

// After a command: wait until the read models show it, then answer with the VM as it is now.
Response AfterVmCommand(App& app, const Result<events::CommandOutcome>& outcome,
                        const std::string& vm_id, int status) {
  if (!outcome.ok()) return JsonError(outcome.status());
  Status seen = app.WaitForReadModels(outcome->position);
  if (!seen.ok()) return JsonError(seen);
  auto vm = VmJson(app, vm_id);
  if (!vm.ok()) return JsonError(vm.status());
  Response r = Response::Json(status, *vm);
  if (outcome->duplicate) r.With("Idempotent-Replayed", "true");
  return r;
}

Result<std::vector<std::string>> Readable(App& app, const Request& req, std::string_view type,
                                          std::string_view permission) {
  authz::LookupEntitiesRequest q;
  q.entity_type = type;
  q.permission = permission;
  q.subject_type = "user";
  q.subject_id = req.principal->user_id;
  return app.tuples->engine().LookupEntities(q);
}

Response ListVms(App& app, Request& req) {
  auto ids = Readable(app, req, "vm", "read");
  if (!ids.ok()) return JsonError(ids.status());
  std::string state = req.Query("state"), org = req.Query("org"), q = req.Query("q");
  if (!state.empty() && !domain::ParseVmObservedState(state).ok()) {
    return JsonError(Status::InvalidArgument("state \"" + state +
                                             "\" is not a VM state (pending, running, ...)"));
  }
  events::PgArray array;
  for (const std::string& id : *ids) array.Add(id);
  auto db = app.db.Acquire();
  if (!db.ok()) return JsonError(db.status());
  auto r = (*db)->Exec("SELECT " + VmColumns() +
                           " FROM vms WHERE vm_id = ANY($1::text[]) AND NOT deleted AND ($2 = '' "
                           "OR observed = $2) AND ($3 = '' OR org_id = $3) AND ($4 = '' OR "
                           "strpos(name, $4) > 0) ORDER BY name, vm_id LIMIT 1000",
                       {array.Literal(), state, org, q});
  if (!r.ok()) return JsonError(r.status());
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("vms");
  w.StartArray();
  for (int i = 0; i < r->rows(); ++i) WriteVm(w, *r, i);
  w.EndArray();
  w.EndObject();
  return Response::Json(200, Done(buf));
}

Response GetVm(App& app, Request& req) {
  auto vm = VmJson(app, req.Param("id"));
  if (!vm.ok()) return JsonError(vm.status());
  return Response::Json(200, *vm);
}

Response VmHistory(App& app, Request& req) {
  auto db = app.db.Acquire();
  if (!db.ok()) return JsonError(db.status());
  auto r = (*db)->Exec(
      "SELECT position, to_char(recorded_at AT TIME ZONE 'UTC', " + std::string(kTime) +
          "), actor, type, summary FROM audit_entries WHERE stream_id = $1 ORDER BY position",
      {domain::VmStreamId(req.Param("id"))});
  if (!r.ok()) return JsonError(r.status());
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("events");
  w.StartArray();
  for (int i = 0; i < r->rows(); ++i) {
    w.StartObject();
    w.Key("position");
    w.Int64(r->GetInt64(i, 0));
    Str(w, "recorded_at", r->Get(i, 1));
    Str(w, "actor", r->Get(i, 2));
    Str(w, "type", r->Get(i, 3));
    Str(w, "summary", r->Get(i, 4));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Response::Json(200, Done(buf));
}

Response CreateVm(App& app, Request& req) {
  auto body = JsonBody::Parse(
      req.body, {"name", "description", "image", "cpu_count", "memory_mb", "disk_gb", "start"});
  if (!body.ok()) return JsonError(body.status());
  domain::CreateVm c;
  c.vm_id = Uuid::NewV4().ToString();
  c.org_id = req.Param("id");
  c.owner_id = req.principal->user_id;
  auto name = body->Str("name");
  if (!name.ok()) return JsonError(name.status());
  c.name = *name;
  auto description = body->OptStr("description");
  auto image = body->Str("image");
  auto cpu = body->OptInt("cpu_count", 1, 64);
  auto memory = body->OptInt("memory_mb", 128, 262144);
  auto disk = body->OptInt("disk_gb", 1, 16384);
  auto start = body->OptBool("start");
  for (const Status* s : {&description.status(), &image.status(), &cpu.status(), &memory.status(),
                          &disk.status(), &start.status()}) {
    if (!s->ok()) return JsonError(*s);
  }
  c.description = description->value_or("");
  c.image = *image;
  c.cpu_count = cpu->value_or(c.cpu_count);
  c.memory_mb = memory->value_or(c.memory_mb);
  c.disk_gb = disk->value_or(c.disk_gb);
  c.start = start->value_or(true);
  events::CommandContext ctx = ContextFor(req);
  // A retried create (same Idempotency-Key) must name the same VM.
  if (!req.Header("Idempotency-Key").empty()) c.vm_id = ctx.command_id.ToString();
  auto outcome = app.commands.Vm(ctx, c.vm_id, c);
  return AfterVmCommand(app, outcome, c.vm_id, 201);
}

Response VmAction(App& app, Request& req, const domain::VmCommand& command) {
  std::string id = req.Param("id");
  auto outcome = app.commands.Vm(ContextFor(req), id, command);
  return AfterVmCommand(app, outcome, id, 200);
}

Response StopVm(App& app, Request& req) {
  auto body = JsonBody::Parse(req.body, {"force"}, /*empty_ok=*/true);
  if (!body.ok()) return JsonError(body.status());
  auto force = body->OptBool("force");
  if (!force.ok()) return JsonError(force.status());
  return VmAction(app, req, domain::StopVm{force->value_or(false)});
}

Response DeleteVm(App& app, Request& req) {
  return VmAction(app, req, domain::DeleteVm{});
}

void WriteOrg(Writer& w, const events::PgResult& r, int i) {
  w.StartObject();
  Str(w, "id", r.Get(i, 0));
  Str(w, "name", r.Get(i, 1));
  Str(w, "role", r.Get(i, 2));
  w.EndObject();
}

Response ListOrgs(App& app, Request& req) {
  auto ids = Readable(app, req, "organization", "view");
  if (!ids.ok()) return JsonError(ids.status());
  events::PgArray array;
  for (const std::string& id : *ids) array.Add(id);
  auto db = app.db.Acquire();
  if (!db.ok()) return JsonError(db.status());
  auto r = (*db)->Exec(
      "SELECT o.org_id, o.name, coalesce(m.role, '') FROM organizations o LEFT JOIN "
      "organization_members m ON m.org_id = o.org_id AND m.user_id = $2 WHERE o.org_id = "
      "ANY($1::text[]) ORDER BY o.name, o.org_id",
      {array.Literal(), req.principal->user_id});
  if (!r.ok()) return JsonError(r.status());
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("organizations");
  w.StartArray();
  for (int i = 0; i < r->rows(); ++i) WriteOrg(w, *r, i);
  w.EndArray();
  w.EndObject();
  return Response::Json(200, Done(buf));
}

Result<std::string> OrgJson(App& app, const std::string& org_id) {
  auto db = app.db.Acquire();
  if (!db.ok()) return db.status();
  auto org = (*db)->Exec("SELECT org_id, name FROM organizations WHERE org_id = $1", {org_id});
  if (!org.ok()) return org.status();
  if (org->rows() == 0) return Status::NotFound("there is no organization " + org_id);
  auto members = (*db)->Exec(
      "SELECT m.user_id, coalesce(u.username, ''), m.role FROM organization_members m LEFT JOIN "
      "users u ON u.user_id = m.user_id WHERE m.org_id = $1 ORDER BY m.role DESC, u.username",
      {org_id});
  if (!members.ok()) return members.status();
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Str(w, "id", org->Get(0, 0));
  Str(w, "name", org->Get(0, 1));
  w.Key("members");
  w.StartArray();
  for (int i = 0; i < members->rows(); ++i) {
    w.StartObject();
    Str(w, "user_id", members->Get(i, 0));
    Str(w, "username", members->Get(i, 1));
    Str(w, "role", members->Get(i, 2));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Done(buf);
}

Response AfterOrgCommand(App& app, const Result<events::CommandOutcome>& outcome,
                         const std::string& org_id, int status) {
  if (!outcome.ok()) return JsonError(outcome.status());
  Status seen = app.WaitForReadModels(outcome->position);
  if (!seen.ok()) return JsonError(seen);
  auto org = OrgJson(app, org_id);
  if (!org.ok()) return JsonError(org.status());
  return Response::Json(status, *org);
}

Response CreateOrg(App& app, Request& req) {
  auto body = JsonBody::Parse(req.body, {"name"});
  if (!body.ok()) return JsonError(body.status());
  auto name = body->Str("name");
  if (!name.ok()) return JsonError(name.status());
  events::CommandContext ctx = ContextFor(req);
  std::string id =
      req.Header("Idempotency-Key").empty() ? Uuid::NewV4().ToString() : ctx.command_id.ToString();
  auto outcome = app.commands.Organization(ctx, id, domain::CreateOrganization{id, *name});
  return AfterOrgCommand(app, outcome, id, 201);
}

Response GetOrg(App& app, Request& req) {
  auto org = OrgJson(app, req.Param("id"));
  if (!org.ok()) return JsonError(org.status());
  return Response::Json(200, *org);
}

Response AddMember(App& app, Request& req) {
  auto body = JsonBody::Parse(req.body, {"username", "role"});
  if (!body.ok()) return JsonError(body.status());
  auto username = body->Str("username");
  if (!username.ok()) return JsonError(username.status());
  auto role_text = body->OptStr("role");
  if (!role_text.ok()) return JsonError(role_text.status());
  auto role = domain::ParseOrgRole(role_text->value_or("member"));
  if (!role.ok()) return JsonError(role.status());
  std::string user_id;
  {
    auto db = app.db.Acquire();
    if (!db.ok()) return JsonError(db.status());
    auto r = (*db)->Exec("SELECT user_id FROM users WHERE username = $1", {*username});
    if (!r.ok()) return JsonError(r.status());
    if (r->rows() == 0) {
      return JsonError(
          Status::NotFound("there is no user named " + *username + "; they must register first"));
    }
    user_id = std::string(r->Get(0, 0));
  }
  std::string org_id = req.Param("id");
  auto outcome =
      app.commands.Organization(ContextFor(req), org_id, domain::AddMember{user_id, *role});
  return AfterOrgCommand(app, outcome, org_id, 200);
}

Response RemoveMember(App& app, Request& req) {
  std::string org_id = req.Param("id");
  auto outcome = app.commands.Organization(ContextFor(req), org_id,
                                           domain::RemoveMember{req.Param("user_id")});
  return AfterOrgCommand(app, outcome, org_id, 200);
}

}  // namespace

void AddApiRoutes(Router& router, App& app) {
  router.Add(AppRoute("GET", "/api/v1/orgs", Access::SignedIn(),
                      "Organizations the signed-in user belongs to", ListOrgs, app));
  router.Add(AppRoute("POST", "/api/v1/orgs", Access::SignedIn(),
                      "Create an organization (the creator owns it)", CreateOrg, app));
  router.Add(AppRoute("GET", "/api/v1/orgs/{id}", Access::Permission("organization:{id}#view"),
                      "An organization and its members", GetOrg, app));
  router.Add(AppRoute("POST", "/api/v1/orgs/{id}/members",
                      Access::Permission("organization:{id}#manage"), "Add a member by username",
                      AddMember, app));
  router.Add(AppRoute("DELETE", "/api/v1/orgs/{id}/members/{user_id}",
                      Access::Permission("organization:{id}#manage"),
                      "Remove a member (never the last owner)", RemoveMember, app));
  router.Add(AppRoute("POST", "/api/v1/orgs/{id}/vms",
                      Access::Permission("organization:{id}#create_vm"),
                      "Create a VM in the organization", CreateVm, app));
  router.Add(AppRoute("GET", "/api/v1/vms", Access::SignedIn(),
                      "VMs the signed-in user may read (filters: org, state, q)", ListVms, app));
  router.Add(AppRoute("GET", "/api/v1/vms/{id}", Access::Permission("vm:{id}#read"), "One VM",
                      GetVm, app));
  router.Add(AppRoute("GET", "/api/v1/vms/{id}/events", Access::Permission("vm:{id}#read"),
                      "The VM's history: who did what, when", VmHistory, app));
  router.Add(AppRoute(
      "POST", "/api/v1/vms/{id}/start", Access::Permission("vm:{id}#start"), "Start the VM",
      [](App& a, Request& r) { return VmAction(a, r, domain::StartVm{}); }, app));
  router.Add(AppRoute("POST", "/api/v1/vms/{id}/stop", Access::Permission("vm:{id}#stop"),
                      "Stop the VM (\"force\": true to power it off)", StopVm, app));
  router.Add(AppRoute(
      "POST", "/api/v1/vms/{id}/restart", Access::Permission("vm:{id}#restart"), "Restart the VM",
      [](App& a, Request& r) { return VmAction(a, r, domain::RestartVm{}); }, app));
  router.Add(AppRoute(
      "POST", "/api/v1/vms/{id}/pause", Access::Permission("vm:{id}#stop"), "Pause the VM",
      [](App& a, Request& r) { return VmAction(a, r, domain::PauseVm{}); }, app));
  router.Add(AppRoute(
      "POST", "/api/v1/vms/{id}/resume", Access::Permission("vm:{id}#start"),
      "Resume the paused VM", [](App& a, Request& r) { return VmAction(a, r, domain::ResumeVm{}); },
      app));
  router.Add(AppRoute("DELETE", "/api/v1/vms/{id}", Access::Permission("vm:{id}#delete"),
                      "Delete the VM", DeleteVm, app));
}

}  // namespace strato::http
