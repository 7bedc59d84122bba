#include "http/api/api_routes.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <tuple>
#include <utility>

#include "core/domain/organization.h"
#include "core/domain/vm.h"
#include "core/ids.h"
#include "core/json_writer.h"
#include "core/parse.h"
#include "core/webauthn/base64url.h"
#include "http/app/app.h"
#include "http/app/permissions.h"
#include "http/app/vm_directory.h"
#include "http/server/json_body.h"

namespace strato::http {

namespace {

void WriteVm(JsonWriter& w, const VmRecord& v) {
  w.BeginObject();
  w.Str("id", v.id).Str("org_id", v.org_id).Str("owner_id", v.owner_id).Str("name", v.name);
  w.Str("description", v.description).Str("image", v.image);
  w.Int("cpu_count", v.cpu_count).Int("memory_mb", v.memory_mb).Int("disk_gb", v.disk_gb);
  w.Str("desired", v.desired).Int("generation", v.generation);
  w.OptStr("host_id", v.host_id.empty() ? std::nullopt : std::optional<std::string>(v.host_id));
  w.Str("placement_failure", v.placement_failure).Str("observed", v.observed);
  w.Int("observed_generation", v.observed_generation).Str("observed_error", v.observed_error);
  w.Str("created_at", v.created_at).Str("updated_at", v.updated_at);
  w.Int("position", v.position).Bool("deleted", v.deleted);
  w.EndObject();
}

// A representation and the version of its aggregate's stream it shows (the ETag).
struct Versioned {
  std::string json;
  int64_t version = 0;
};

Response VersionedJson(int status, const Versioned& v) {
  return Response::Json(status, v.json).With("ETag", "\"" + std::to_string(v.version) + "\"");
}

// The VM as the API shows it, with the version of its stream the row shows (read together).
Result<Versioned> VmJson(App& app, const std::string& vm_id) {
  auto vm = app.queries->Vm(vm_id);
  if (!vm.ok()) return vm.status();
  if (!*vm) return Status::NotFound("there is no VM " + vm_id);
  JsonWriter w;
  WriteVm(w, (*vm)->vm);
  return Versioned{w.Text(), (*vm)->version};
}

// After a command: wait until the read models show it, then answer with what `read` gives (the
// aggregate as it is now). A retry with the same Idempotency-Key of a command that already
// landed gets that answer marked Idempotent-Replayed: true, whichever command it was.
Response AfterCommand(App& app, const Result<events::CommandOutcome>& outcome, int status,
                      const std::function<Result<Versioned>()>& read) {
  if (!outcome.ok()) return JsonError(outcome.status());
  Status seen = app.WaitForReadModels(outcome->position);
  if (!seen.ok()) return JsonError(seen);
  auto now = read();
  if (!now.ok()) return JsonError(now.status());
  Response r = VersionedJson(status, *now);
  if (outcome->duplicate) r.With("Idempotent-Replayed", "true");
  return r;
}

// AfterCommand answering with the VM.
Response AfterVmCommand(App& app, const Result<events::CommandOutcome>& outcome,
                        const std::string& vm_id, int status) {
  return AfterCommand(app, outcome, status, [&] { return VmJson(app, vm_id); });
}

// ---- If-Match ------------------------------------------------------------------------------

// The version an If-Match header asks for: nullopt when absent or "*" (any version).
Result<std::optional<int64_t>> IfMatchVersion(const Request& req) {
  if (req.headers.count("If-Match") > 1) {
    return Status::InvalidArgument("send one If-Match header, with the ETag you read");
  }
  std::string h = req.Header("If-Match");
  if (h.empty() && req.headers.count("If-Match") == 0) return std::optional<int64_t>();
  if (h == "*") return std::optional<int64_t>();
  bool digits = h.size() >= 3 && h.size() <= 20 && h.front() == '"' && h.back() == '"';
  for (size_t i = 1; digits && i + 1 < h.size(); ++i) digits = h[i] >= '0' && h[i] <= '9';
  if (!digits) {
    return Status::InvalidArgument(
        "the If-Match header must be one version in double quotes, as the ETag header gave it "
        "(for example \"4\"); got " +
        (h.size() > 40 ? h.substr(0, 40) + "..." : h));
  }
  auto version = ParseInt(std::string_view(h).substr(1, h.size() - 2), 0);
  if (!version) {
    return Status::InvalidArgument(
        "the If-Match header must be one version in double quotes, as the ETag header gave it "
        "(for example \"4\"); got " +
        (h.size() > 40 ? h.substr(0, 40) + "..." : h));
  }
  return std::optional<int64_t>(*version);
}

// The context for a command guarded by If-Match: ContextFor(req) with the version the header
// names as the pipeline's expected version (none for "*" or no header). A malformed header is
// an InvalidArgument (400). The pipeline compares the version inside its retry loop, on the
// history it decides on, so a write landing between the caller's read and this command's append
// is caught; a retry (same Idempotency-Key) of a command that landed gets its first result.
Result<events::CommandContext> IfMatchContext(const Request& req) {
  auto expected = IfMatchVersion(req);
  if (!expected.ok()) return expected.status();
  events::CommandContext ctx = ContextFor(req);
  ctx.expected_version = *expected;
  return ctx;
}

// The pipeline's refusal of a stale If-Match on `stream_id`, reworded for people: 409 "VM web-1
// changed since you read it (version N, now M); reload it and try again" with both versions in
// the details. nullopt for any other outcome. `what` names the thing ("VM web-1", "organization
// Acme") and is called only for a refusal.
std::optional<Response> RefuseIfStale(const Result<events::CommandOutcome>& outcome,
                                      const std::string& stream_id,
                                      const std::function<std::string()>& what) {
  if (outcome.ok()) return std::nullopt;
  const Status& st = outcome.status();
  if (!st.Is(Code::kConflict, "stale_version") || st.Detail("stream_id") != stream_id) {
    return std::nullopt;
  }
  const std::optional<int64_t> expected = st.DetailInt("expected_version");
  const std::optional<int64_t> current = st.DetailInt("current_version");
  if (!expected || !current) return std::nullopt;
  JsonWriter details;
  details.BeginObject().Int("expected_version", *expected).Int("current_version", *current);
  details.EndObject();
  return JsonError(409, "conflict",
                   what() + " changed since you read it (version " + std::to_string(*expected) +
                       ", now " + std::to_string(*current) + "); reload it and try again",
                   details.Text());
}

// "VM web-1" from the read model (the id when the row is not there).
std::string VmNamed(App& app, const std::string& vm_id) {
  auto name = app.queries->VmName(vm_id);
  return "VM " + (name.ok() && *name ? **name : vm_id);
}

std::string OrgNamed(App& app, const std::string& org_id) {
  auto name = app.queries->OrganizationName(org_id);
  return "organization " + (name.ok() && *name ? **name : org_id);
}

// ---- Paging --------------------------------------------------------------------------------

constexpr int64_t kDefaultLimit = 100;
constexpr int64_t kMaxLimit = 1000;

// A page request: at most `limit` items after the sort key (name, id) in `after`.
struct PageRequest {
  int64_t limit = kDefaultLimit;
  std::optional<std::pair<std::string, std::string>> after;
};

// The cursor is the last item's sort key, ["name","id"] as JSON, in base64url: opaque to
// clients, stable across inserts and deletes (it names a position, not an offset).
std::string EncodeCursor(std::string_view name, std::string_view id) {
  JsonWriter w;
  w.BeginArray().String(name).String(id).EndArray();
  return webauthn::Base64UrlEncode(w.View());
}

Result<PageRequest> ParsePage(const Request& req) {
  PageRequest page;
  if (req.query.count("limit") > 0) {
    std::string text = req.Query("limit");
    const std::optional<int64_t> n =
        text.size() <= 7 ? ParseInt(text, 1, kMaxLimit) : std::optional<int64_t>();
    if (!n) {
      // Echo the value only when it is short printable ASCII (never bytes that are not UTF-8).
      bool echo = text.size() <= 20;
      for (char c : text) echo = echo && c >= 0x20 && c < 0x7f;
      return Status::InvalidArgument("the parameter limit must be a whole number from 1 to " +
                                     std::to_string(kMaxLimit) +
                                     (echo ? "; got \"" + text + "\"" : std::string()));
    }
    page.limit = *n;
  }
  if (req.query.count("cursor") > 0) {
    const Status bad = Status::InvalidArgument(
        "the parameter cursor is not one this API gave out; pass the next_cursor of the previous "
        "page, or leave it out to start from the beginning");
    std::string text = req.Query("cursor");
    if (text.size() > 2000) return bad;
    auto bytes = webauthn::Base64UrlDecode(text);
    if (!bytes.ok() || bytes->empty()) return bad;
    rapidjson::Document d;
    d.Parse<rapidjson::kParseValidateEncodingFlag>(reinterpret_cast<const char*>(bytes->data()),
                                                   bytes->size());
    if (d.HasParseError() || !d.IsArray() || d.Size() != 2 || !d[0].IsString() ||
        !d[1].IsString()) {
      return bad;
    }
    page.after = std::make_pair(std::string(d[0].GetString(), d[0].GetStringLength()),
                                std::string(d[1].GetString(), d[1].GetStringLength()));
  }
  return page;
}

// "next_cursor": the sort key (name, id) of the last item shown when more follow, else null.
void WriteNextCursor(JsonWriter& w,
                     std::optional<std::pair<std::string_view, std::string_view>> last) {
  if (!last) {
    w.Null("next_cursor");
    return;
  }
  w.Str("next_cursor", EncodeCursor(last->first, last->second));
}

Response ListVms(App& app, Request& req) {
  auto page = ParsePage(req);
  if (!page.ok()) return JsonError(page.status());
  auto ids = UserEntities(app, *req.principal, "vm", "read");
  if (!ids.ok()) return JsonError(ids.status());
  std::string state = req.Query("state"), org = req.Query("org"), q = req.Query("q");
  if (!state.empty() && !domain::ParseVmObservedState(state).ok()) {
    return JsonError(Status::InvalidArgument("state \"" + state +
                                             "\" is not a VM state (pending, running, ...)"));
  }
  // Keyset paging on (name, id): unique, so every VM is on exactly one page. The VM directory
  // is filtered, sorted and paged in memory; limit + 1 rows say whether another page follows.
  const VmFilter filter{state, org, "", q};
  JsonWriter w;
  Status read = app.vm_directory->Read([&](const VmDirectory::View& d) {
    // By (name, organization name, id); the page follows (name, id), which names are unique
    // within an organization only, so sort the matches by it.
    std::vector<const VmRecord*> matches;
    for (const VmDirectory::Listed& l : *d.Resolve(*ids)) {
      const VmRecord* v = l.vm;
      if (filter.Matches(*v) &&
          (!page->after ||
           std::tie(v->name, v->id) > std::tie(page->after->first, page->after->second))) {
        matches.push_back(v);
      }
    }
    const size_t n = std::min(matches.size(), static_cast<size_t>(page->limit + 1));
    std::partial_sort(matches.begin(), matches.begin() + static_cast<std::ptrdiff_t>(n),
                      matches.end(), [](const VmRecord* a, const VmRecord* b) {
                        return std::tie(a->name, a->id) < std::tie(b->name, b->id);
                      });
    const bool more = static_cast<int64_t>(n) > page->limit;
    const size_t shown = more ? n - 1 : n;
    w.BeginObject().Key("vms").BeginArray();
    for (size_t i = 0; i < shown; ++i) WriteVm(w, *matches[i]);
    w.EndArray();
    if (more) {
      WriteNextCursor(w, std::make_pair(std::string_view(matches[shown - 1]->name),
                                        std::string_view(matches[shown - 1]->id)));
    } else {
      WriteNextCursor(w, std::nullopt);
    }
    w.EndObject();
  });
  if (!read.ok()) return JsonError(read.WithContext("reading your VMs"));
  return Response::Json(200, w.Text());
}

Response GetVm(App& app, Request& req) {
  auto vm = VmJson(app, req.Param("id"));
  if (!vm.ok()) return JsonError(vm.status());
  return VersionedJson(200, *vm);
}

Response VmHistory(App& app, Request& req) {
  auto history = app.queries->StreamHistory(domain::VmStreamId(req.Param("id")));
  if (!history.ok()) return JsonError(history.status());
  JsonWriter w;
  w.BeginObject().Key("events").BeginArray();
  for (const projections::AuditEntry& e : *history) {
    w.BeginObject();
    w.Int("position", e.position).Str("recorded_at", e.recorded_at).Str("actor", e.actor);
    w.Str("type", e.type).Str("summary", e.summary);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return Response::Json(200, w.Text());
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
  auto ctx = IfMatchContext(req);
  if (!ctx.ok()) return JsonError(ctx.status());
  auto outcome = app.commands.Vm(*ctx, id, command);
  if (auto stale =
          RefuseIfStale(outcome, domain::VmStreamId(id), [&] { return VmNamed(app, id); })) {
    return *stale;
  }
  return AfterVmCommand(app, outcome, id, 200);
}

Response StopVm(App& app, Request& req) {
  if (auto m = IfMatchVersion(req); !m.ok()) return JsonError(m.status());
  auto body = JsonBody::Parse(req.body, {"force"}, /*empty_ok=*/true);
  if (!body.ok()) return JsonError(body.status());
  auto force = body->OptBool("force");
  if (!force.ok()) return JsonError(force.status());
  return VmAction(app, req, domain::StopVm{force->value_or(false)});
}

// An action without fields still reads its body: anything but nothing or {} is a mistake to
// report, not to ignore.
Response PlainVmAction(App& app, Request& req, const domain::VmCommand& command) {
  auto body = JsonBody::Parse(req.body, {}, /*empty_ok=*/true);
  if (!body.ok()) return JsonError(body.status());
  return VmAction(app, req, command);
}

Response DeleteVm(App& app, Request& req) {
  return PlainVmAction(app, req, domain::DeleteVm{});
}

Response ListOrgs(App& app, Request& req) {
  auto page = ParsePage(req);
  if (!page.ok()) return JsonError(page.status());
  auto ids = UserEntities(app, *req.principal, "organization", "view");
  if (!ids.ok()) return JsonError(ids.status());
  // Keyset paging on (name, id), like the VM list; limit + 1 rows say whether more follow.
  projections::OrgListRequest list{**ids, req.principal->user_id, page->after, page->limit + 1};
  auto orgs = app.queries->Organizations(list);
  if (!orgs.ok()) return JsonError(orgs.status());
  JsonWriter w;
  w.BeginObject().Key("organizations").BeginArray();
  const size_t shown = std::min<size_t>(orgs->size(), static_cast<size_t>(page->limit));
  for (size_t i = 0; i < shown; ++i) {
    const projections::OrgListItem& o = (*orgs)[i];
    w.BeginObject().Str("id", o.id).Str("name", o.name).Str("role", o.role).EndObject();
  }
  w.EndArray();
  if (orgs->size() > shown) {
    WriteNextCursor(w, std::make_pair(std::string_view((*orgs)[shown - 1].name),
                                      std::string_view((*orgs)[shown - 1].id)));
  } else {
    WriteNextCursor(w, std::nullopt);
  }
  w.EndObject();
  return Response::Json(200, w.Text());
}

// The organization as the API shows it, with the version it shows (projections::ReadOrganization
// reads both as of one snapshot).
Result<Versioned> OrgJson(App& app, const std::string& org_id) {
  auto org = app.queries->Organization(org_id);
  if (!org.ok()) return org.status();
  if (!*org) return Status::NotFound("there is no organization " + org_id);
  JsonWriter w;
  w.BeginObject().Str("id", (*org)->id).Str("name", (*org)->name);
  w.Int("vm_count", (*org)->vm_count);  // read with the row (the organization page shows it too)
  w.Key("members").BeginArray();
  for (const projections::OrgMember& m : (*org)->members) {
    w.BeginObject().Str("user_id", m.user_id).Str("username", m.username).Str("role", m.role);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return Versioned{w.Text(), (*org)->version};
}

// AfterCommand answering with the organization.
Response AfterOrgCommand(App& app, const Result<events::CommandOutcome>& outcome,
                         const std::string& org_id, int status) {
  return AfterCommand(app, outcome, status, [&] { return OrgJson(app, org_id); });
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
  return VersionedJson(200, *org);
}

Response AddMember(App& app, Request& req) {
  auto ctx = IfMatchContext(req);
  if (!ctx.ok()) return JsonError(ctx.status());
  auto body = JsonBody::Parse(req.body, {"username", "role"});
  if (!body.ok()) return JsonError(body.status());
  auto username = body->Str("username");
  if (!username.ok()) return JsonError(username.status());
  auto role_text = body->OptStr("role");
  if (!role_text.ok()) return JsonError(role_text.status());
  auto role = domain::ParseOrgRole(role_text->value_or("member"));
  if (!role.ok()) return JsonError(role.status());
  auto found = app.queries->UserIdByUsername(*username);
  if (!found.ok()) return JsonError(found.status());
  if (!*found) {
    return JsonError(
        Status::NotFound("there is no user named " + *username + "; they must register first"));
  }
  const std::string user_id = **found;
  std::string org_id = req.Param("id");
  auto outcome = app.commands.Organization(*ctx, org_id, domain::AddMember{user_id, *role});
  if (auto stale = RefuseIfStale(outcome, domain::OrganizationStreamId(org_id),
                                 [&] { return OrgNamed(app, org_id); })) {
    return *stale;
  }
  return AfterOrgCommand(app, outcome, org_id, 200);
}

Response RemoveMember(App& app, Request& req) {
  std::string org_id = req.Param("id");
  auto ctx = IfMatchContext(req);
  if (!ctx.ok()) return JsonError(ctx.status());
  auto outcome =
      app.commands.Organization(*ctx, org_id, domain::RemoveMember{req.Param("user_id")});
  if (auto stale = RefuseIfStale(outcome, domain::OrganizationStreamId(org_id),
                                 [&] { return OrgNamed(app, org_id); })) {
    return *stale;
  }
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
  router.Add(AppRoute("POST", "/api/v1/orgs/{id}/members", CommandAccess("organization.add_member"),
                      "Add a member by username", AddMember, app));
  router.Add(AppRoute("DELETE", "/api/v1/orgs/{id}/members/{user_id}",
                      CommandAccess("organization.remove_member"),
                      "Remove a member (never the last owner)", RemoveMember, app));
  router.Add(AppRoute("POST", "/api/v1/orgs/{id}/vms", CommandAccess("vm.create"),
                      "Create a VM in the organization", CreateVm, app));
  router.Add(AppRoute("GET", "/api/v1/vms", Access::SignedIn(),
                      "VMs the signed-in user may read (filters: org, state, q)", ListVms, app));
  router.Add(AppRoute("GET", "/api/v1/vms/{id}", Access::Permission("vm:{id}#read"), "One VM",
                      GetVm, app));
  router.Add(AppRoute("GET", "/api/v1/vms/{id}/events", Access::Permission("vm:{id}#read"),
                      "The VM's history: who did what, when", VmHistory, app));
  router.Add(AppRoute(
      "POST", "/api/v1/vms/{id}/start", CommandAccess("vm.start"), "Start the VM",
      [](App& a, Request& r) { return PlainVmAction(a, r, domain::StartVm{}); }, app));
  router.Add(AppRoute("POST", "/api/v1/vms/{id}/stop", CommandAccess("vm.stop"),
                      "Stop the VM (\"force\": true to power it off)", StopVm, app));
  router.Add(AppRoute(
      "POST", "/api/v1/vms/{id}/restart", CommandAccess("vm.restart"), "Restart the VM",
      [](App& a, Request& r) { return PlainVmAction(a, r, domain::RestartVm{}); }, app));
  router.Add(AppRoute(
      "POST", "/api/v1/vms/{id}/pause", CommandAccess("vm.pause"), "Pause the VM",
      [](App& a, Request& r) { return PlainVmAction(a, r, domain::PauseVm{}); }, app));
  router.Add(AppRoute(
      "POST", "/api/v1/vms/{id}/resume", CommandAccess("vm.resume"), "Resume the paused VM",
      [](App& a, Request& r) { return PlainVmAction(a, r, domain::ResumeVm{}); }, app));
  router.Add(AppRoute("DELETE", "/api/v1/vms/{id}", CommandAccess("vm.delete"), "Delete the VM",
                      DeleteVm, app));
}

}  // namespace strato::http
