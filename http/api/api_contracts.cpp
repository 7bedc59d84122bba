#include "http/api/api_contracts.h"

#include <map>
#include <set>

namespace strato::http {

namespace {

Shape Str() {
  return Shape::String();
}
Shape Int() {
  return Shape::Integer();
}
Shape Bool() {
  return Shape::Boolean();
}

// ---- Shapes shared by several routes -------------------------------------------------------

Shape ObservedState() {
  return Shape::Enum({"pending", "scheduled", "starting", "running", "stopping", "stopped",
                      "paused", "crashed", "failed", "unknown"});
}

Shape VmShape() {
  return Shape::Object(
             {
                 Required("id", Str()),
                 Required("org_id", Str()),
                 Required("owner_id", Str()),
                 Required("name", Str()),
                 Required("description", Str()),
                 Required("image", Str()),
                 Required("cpu_count", Int()),
                 Required("memory_mb", Int()),
                 Required("disk_gb", Int()),
                 Required("desired", Shape::Enum({"running", "stopped", "paused", "deleted"})),
                 Required("generation", Int()),
                 Required("host_id", Str().OrNull().Described("null until scheduled")),
                 Required("placement_failure", Str()),
                 Required("observed", ObservedState()),
                 Required("observed_generation", Int()),
                 Required("observed_error", Str()),
                 Required("created_at", Str()),
                 Required("updated_at", Str()),
                 Required("position", Int()),
                 Required("deleted", Bool()),
             })
      .Named("Vm");
}

Shape OrgShape() {
  return Shape::Object(
             {
                 Required("id", Str()),
                 Required("name", Str()),
                 Required("vm_count", Int()),
                 Required("members", Shape::Array(Shape::Object({
                                         Required("user_id", Str()),
                                         Required("username", Str()),
                                         Required("role", Shape::Enum({"owner", "member"})),
                                     }))),
             })
      .Named("Organization");
}

Shape HostShape() {
  const Shape resource =
      Shape::Object(
          {Required("physical", Int().Described("what the host has, as it registered")),
           Required("allocation_ratio",
                    Int().Described("N for N:1 overcommit, the host's setting (disk: 1)")),
           Required("total", Int().Described("physical x allocation_ratio: what the scheduler "
                                             "may place")),
           Required("allocated", Int().Described("the sum over the VMs placed on the host")),
           Required("free", Int().Described("total - allocated, never below 0"))})
          .Named("HostResource");
  return Shape::Object(
             {
                 Required("id", Str()),
                 Required("name", Str()),
                 Required("address", Str()),
                 Required("hypervisor",
                          Shape::Object({
                              Required("kind", Str().Described("cloud-hypervisor or qemu")),
                              Required("version", Str()),
                              Required("accelerator", Str().Described("kvm or tcg; empty when the "
                                                                      "host did not say")),
                          })),
                 Required("capacity", Shape::Object({Required("cpu_count", resource),
                                                     Required("memory_mb", resource),
                                                     Required("disk_gb", resource)})),
                 Required("reachable", Bool()),
                 Required("unreachable_reason", Str()),
                 Required("cordoned", Bool()),
                 Required("cordon_reason", Str()),
                 Required("vm_count", Int()),
                 Required("may_manage", Bool()),
                 Required("registered_at", Str()),
                 Required("updated_at", Str()),
                 Required("position", Int()),
             })
      .Named("Host");
}

Shape AuditEntryShape() {
  return Shape::Object({Required("position", Int()), Required("recorded_at", Str()),
                        Required("actor", Str()), Required("stream_id", Str()),
                        Required("type", Str()), Required("summary", Str())})
      .Named("AuditEntry");
}

Shape SignedInShape() {
  return Shape::Object({Required("user_id", Str()), Required("username", Str()),
                        Required("csrf_token", Str())})
      .Named("SignedIn");
}

Shape CredentialListShape() {
  return Shape::Array(
      Shape::Object({Required("type", Shape::Enum({"public-key"})), Required("id", Str()),
                     Required("transports", Shape::Array(Str()))}));
}

Shape NextCursor() {
  return Str().OrNull().Described("the cursor of the next page; null on the last");
}

Shape Empty() {
  return Shape::Object({});
}

// ---- The table -----------------------------------------------------------------------------

ApiAnswer Ok(int status, Shape body, std::string description = "success") {
  return ApiAnswer{status, std::move(body), std::move(description)};
}
ApiAnswer NoBody(std::string description = "done; no body") {
  return ApiAnswer{204, std::nullopt, std::move(description)};
}

RouteContract Contract(std::string method, std::string pattern, std::optional<Shape> request,
                       std::vector<ApiAnswer> answers) {
  RouteContract c;
  c.method = std::move(method);
  c.pattern = std::move(pattern);
  c.request = std::move(request);
  c.answers = std::move(answers);
  return c;
}

RouteContract OptionalBody(RouteContract c) {
  c.request_optional = true;
  return c;
}
RouteContract Versioned(RouteContract c, bool if_match) {
  c.etag = true;
  c.if_match = if_match;
  return c;
}
RouteContract Paged(RouteContract c) {
  c.paged = true;
  return c;
}

std::vector<RouteContract> Build() {
  const Shape vm = VmShape(), org = OrgShape(), host = HostShape();
  std::vector<RouteContract> t;

  // Sign-in and the account (http/auth/auth_routes.cpp).
  t.push_back(OptionalBody(Contract(
      "POST", "/auth/register/options",
      Shape::Object({Optional("username", Str()), Optional("display_name", Str())}),
      {Ok(200,
          Shape::Object(
              {Required("challenge", Str()),
               Required("rp", Shape::Object({Required("id", Str()), Required("name", Str())})),
               Required("user", Shape::Object({Required("id", Str()), Required("name", Str()),
                                               Required("displayName", Str())})),
               Required("pubKeyCredParams",
                        Shape::Array(Shape::Object({Required("type", Shape::Enum({"public-key"})),
                                                    Required("alg", Int())}))),
               Required("timeout", Int()), Required("attestation", Str()),
               Required("authenticatorSelection",
                        Shape::Object({Required("residentKey", Str()),
                                       Required("requireResidentKey", Bool()),
                                       Required("userVerification", Str())})),
               Required("excludeCredentials", CredentialListShape())})
              .Named("CredentialCreationOptions"),
          "options for navigator.credentials.create")})));
  t.push_back(Contract(
      "POST", "/auth/register/verify",
      Shape::Object({Required("credential", Shape::OpenObject()), Optional("name", Str())}),
      {Ok(201,
          Shape::OneOf({SignedInShape(), Shape::Object({Required("credential_id", Str()),
                                                        Required("position", Int())})
                                             .Named("PasskeyAdded")}),
          "a new user, signed in; or a passkey added to the signed-in user")}));
  t.push_back(OptionalBody(
      Contract("POST", "/auth/login/options", Shape::Object({Optional("username", Str())}),
               {Ok(200,
                   Shape::Object({Required("challenge", Str()), Required("rpId", Str()),
                                  Required("timeout", Int()), Required("userVerification", Str()),
                                  Required("allowCredentials", CredentialListShape())})
                       .Named("CredentialRequestOptions"),
                   "options for navigator.credentials.get")})));
  t.push_back(Contract("POST", "/auth/login/verify",
                       Shape::Object({Required("credential", Shape::OpenObject())}),
                       {Ok(200, SignedInShape(), "signed in")}));
  t.push_back(Contract("POST", "/auth/logout", std::nullopt, {NoBody("signed out")}));
  t.push_back(Contract(
      "GET", "/auth/session", std::nullopt,
      {Ok(200, Shape::Object({Required("signed_in", Bool()), Optional("user_id", Str()),
                              Optional("username", Str()), Optional("csrf_token", Str())}))}));
  t.push_back(Contract(
      "GET", "/api/v1/account/passkeys", std::nullopt,
      {Ok(200, Shape::Object({Required("passkeys", Shape::Array(Shape::Object({
                                                       Required("credential_id", Str()),
                                                       Required("name", Str()),
                                                       Required("algorithm", Int()),
                                                       Required("sign_count", Int()),
                                                       Required("transports", Str()),
                                                       Required("backup_eligible", Bool()),
                                                       Required("backup_state", Bool()),
                                                       Required("aaguid", Str()),
                                                       Required("attestation_format", Str()),
                                                       Required("created_at", Str()),
                                                       Required("last_used_at", Str().OrNull()),
                                                   })))}))}));
  t.push_back(
      Contract("DELETE", "/api/v1/account/passkeys/{credential_id}", std::nullopt, {NoBody()}));
  t.push_back(
      Contract("GET", "/api/v1/account/sessions", std::nullopt,
               {Ok(200, Shape::Object({Required("sessions", Shape::Array(Shape::Object({
                                                                Required("session_id", Str()),
                                                                Required("created_at", Str()),
                                                                Required("last_seen_at", Str()),
                                                                Required("expires_at", Str()),
                                                                Required("client_address", Str()),
                                                                Required("user_agent", Str()),
                                                                Required("current", Bool()),
                                                            })))}))}));
  t.push_back(
      Contract("DELETE", "/api/v1/account/sessions/{session_id}", std::nullopt, {NoBody()}));
  t.push_back(Contract(
      "GET", "/api/v1/account/tokens", std::nullopt,
      {Ok(200, Shape::Object({Required("tokens", Shape::Array(Shape::Object({
                                                     Required("id", Str()),
                                                     Required("name", Str()),
                                                     Required("created_at", Str()),
                                                     Required("last_used_at", Str().OrNull()),
                                                 })))}))}));
  t.push_back(Contract("POST", "/api/v1/account/tokens", Shape::Object({Required("name", Str())}),
                       {Ok(201,
                           Shape::Object({Required("id", Str()), Required("name", Str()),
                                          Required("token", Str().Described("shown this once"))}),
                           "the token, shown this once")}));
  t.push_back(Contract("DELETE", "/api/v1/account/tokens/{token_id}", std::nullopt, {NoBody()}));

  // Organizations, members and VMs (api_routes.cpp).
  t.push_back(Paged(Contract(
      "GET", "/api/v1/orgs", std::nullopt,
      {Ok(200, Shape::Object({Required("organizations",
                                       Shape::Array(Shape::Object(
                                           {Required("id", Str()), Required("name", Str()),
                                            Required("role", Str().Described(
                                                                 "yours: owner, member, or \"\" "
                                                                 "when you are not a member"))}))),
                              Required("next_cursor", NextCursor())}))})));
  t.push_back(Versioned(Contract("POST", "/api/v1/orgs", Shape::Object({Required("name", Str())}),
                                 {Ok(201, org, "created")}),
                        false));
  t.push_back(Versioned(Contract("GET", "/api/v1/orgs/{id}", std::nullopt, {Ok(200, org)}), false));
  t.push_back(
      Versioned(Contract("POST", "/api/v1/orgs/{id}/members",
                         Shape::Object({Required("username", Str()),
                                        Optional("role", Shape::Enum({"owner", "member"}))}),
                         {Ok(200, org, "the organization with its members now")}),
                true));
  t.push_back(Versioned(Contract("DELETE", "/api/v1/orgs/{id}/members/{user_id}", std::nullopt,
                                 {Ok(200, org, "the organization with its members now")}),
                        true));
  t.push_back(Versioned(
      Contract(
          "POST", "/api/v1/orgs/{id}/vms",
          Shape::Object({Required("name", Str()), Optional("description", Str()),
                         Required("image", Str()), Optional("cpu_count", Int()),
                         Optional("memory_mb", Int()), Optional("disk_gb", Int()),
                         Optional("start", Bool().Described("start it at once (default true)"))}),
          {Ok(201, vm, "created")}),
      false));
  {
    RouteContract vms =
        Paged(Contract("GET", "/api/v1/vms", std::nullopt,
                       {Ok(200, Shape::Object({Required("vms", Shape::Array(vm)),
                                               Required("next_cursor", NextCursor())}))}));
    vms.query = {
        {"org", Str(), "only the VMs of this organization (its id)"},
        {"state", ObservedState(), "only the VMs in this observed state"},
        {"q", Str(), "only the VMs whose name contains this"},
    };
    t.push_back(std::move(vms));
  }
  t.push_back(Versioned(Contract("GET", "/api/v1/vms/{id}", std::nullopt, {Ok(200, vm)}), false));
  t.push_back(Contract(
      "GET", "/api/v1/vms/{id}/events", std::nullopt,
      {Ok(200, Shape::Object({Required(
                   "events", Shape::Array(Shape::Object(
                                 {Required("position", Int()), Required("recorded_at", Str()),
                                  Required("actor", Str()), Required("type", Str()),
                                  Required("summary", Str())})))}))}));
  for (const char* action : {"start", "restart", "pause", "resume"}) {
    t.push_back(OptionalBody(Versioned(Contract("POST", std::string("/api/v1/vms/{id}/") + action,
                                                Empty(), {Ok(200, vm, "the VM now")}),
                                       true)));
  }
  t.push_back(OptionalBody(
      Versioned(Contract("POST", "/api/v1/vms/{id}/stop",
                         Shape::Object({Optional("force", Bool().Described("power it off"))}),
                         {Ok(200, vm, "the VM now")}),
                true)));
  t.push_back(OptionalBody(Versioned(
      Contract("DELETE", "/api/v1/vms/{id}", Empty(), {Ok(200, vm, "the VM now")}), true)));

  // Hosts (api_hosts.cpp).
  t.push_back(Contract("GET", "/api/v1/hosts", std::nullopt,
                       {Ok(200, Shape::Object({Required("hosts", Shape::Array(host))}))}));
  t.push_back(Contract("GET", "/api/v1/hosts/{id}", std::nullopt, {Ok(200, host)}));
  t.push_back(OptionalBody(Contract("POST", "/api/v1/hosts/{id}/cordon",
                                    Shape::Object({Optional("reason", Str())}),
                                    {Ok(200, host, "the host now")})));
  t.push_back(OptionalBody(
      Contract("POST", "/api/v1/hosts/{id}/uncordon", Empty(), {Ok(200, host, "the host now")})));

  // The audit trail (api_events.cpp) and live updates (http/live/live_routes.cpp).
  {
    RouteContract events =
        Contract("GET", "/api/v1/events", std::nullopt,
                 {Ok(200,
                     Shape::Object({Required("events", Shape::Array(AuditEntryShape())),
                                    Required("next_cursor", NextCursor())}),
                     "newest first; \"next_cursor\" (a position, for before=) is null on the "
                     "last page")});
    events.query = {
        {"actor", Str(), "a username, \"system\", or user-<id> / host-<id>"},
        {"stream", Str(), "a stream id: vm-<id>, org-<id>, host-<id>, user-<id>"},
        {"type", Str(), "an event type (VmCreated, ...)"},
        {"from", Str(), "RFC 3339 or 2026-11-27T10:31 (UTC), inclusive"},
        {"to", Str(), "RFC 3339 or 2026-11-27T10:31 (UTC), exclusive"},
        {"limit", Int(), "1 to 1000 (default 50)"},
        {"before", Int(), "only entries older than this position (the next_cursor)"},
    };
    t.push_back(std::move(events));
  }
  t.push_back(
      Contract("GET", "/api/v1/audit/verify", std::nullopt,
               {Ok(200, Shape::Object({Required("ok", Bool()), Required("events_checked", Int()),
                                       Required("head_position", Int()),
                                       Required("first_bad_position", Int().OrNull()),
                                       Required("problem", Str().OrNull())}))}));
  {
    RouteContract live =
        Contract("GET", "/api/v1/events/stream", std::nullopt,
                 {ApiAnswer{200, std::nullopt,
                            "server-sent events: `event: change` with data {\"position\", "
                            "\"stream\", \"kind\", \"id\", \"type\"}; `event: reset`; "
                            "`event: signed-out`"}});
    live.event_stream = true;
    live.query = {
        {"after", Int(), "resume after this position (as the Last-Event-ID header does)"}};
    t.push_back(std::move(live));
  }
  t.push_back(Contract("GET", "/api/v1/openapi.json", std::nullopt,
                       {Ok(200, Shape::OpenObject(), "this document")}));
  return t;
}

std::string Key(std::string_view method, std::string_view pattern) {
  return std::string(method) + " " + std::string(pattern);
}

struct Table {
  std::vector<RouteContract> contracts = Build();
  std::map<std::string, size_t, std::less<>> index;
  Table() {
    for (size_t i = 0; i < contracts.size(); ++i) {
      index.emplace(Key(contracts[i].method, contracts[i].pattern), i);
    }
  }
};

const Table& TheTable() {
  static const Table table;
  return table;
}

}  // namespace

bool Documented(const Route& r) {
  return r.pattern.rfind("/api/", 0) == 0 || r.pattern.rfind("/auth/", 0) == 0;
}

const std::vector<RouteContract>& RouteContracts() {
  return TheTable().contracts;
}

const RouteContract* FindContract(std::string_view method, std::string_view pattern) {
  const Table& t = TheTable();
  auto it = t.index.find(Key(method, pattern));
  return it == t.index.end() ? nullptr : &t.contracts[it->second];
}

const Shape& ErrorShape() {
  static const Shape error =
      Shape::Object(
          {Required("error", Shape::Object({Required("code", Str()), Required("message", Str()),
                                            Required("details", Shape::OpenObject())}))})
          .Named("Error");
  return error;
}

Status CheckRouteContracts(const Router& router) {
  std::string problems;
  std::set<std::string> routed;
  for (const Route& r : router.routes()) {
    if (!Documented(r)) continue;
    routed.insert(Key(r.method, r.pattern));
    if (FindContract(r.method, r.pattern) == nullptr) {
      problems += (problems.empty() ? "" : "; ") + Key(r.method, r.pattern) +
                  " has no contract (declare its request and answers in "
                  "http/api/api_contracts.cpp)";
    }
  }
  for (const RouteContract& c : RouteContracts()) {
    if (!routed.count(Key(c.method, c.pattern))) {
      problems += (problems.empty() ? "" : "; ") + Key(c.method, c.pattern) +
                  " has a contract but no route";
    }
  }
  if (problems.empty()) return Status::Ok();
  return Status::FailedPrecondition(problems);
}

Status CheckAnswer(std::string_view method, std::string_view pattern, int status,
                   std::string_view content_type, std::string_view body) {
  const RouteContract* c = FindContract(method, pattern);
  const std::string route = Key(method, pattern);
  if (c == nullptr) return Status::InvalidArgument(route + " has no contract");
  const bool json = content_type.rfind("application/json", 0) == 0;
  if (status >= 400) {
    if (!json) {
      return Status::InvalidArgument(route + " answered " + std::to_string(status) + " with " +
                                     std::string(content_type) + ", not the JSON error shape");
    }
    Status s = CheckShapeText(ErrorShape(), body);
    if (!s.ok()) {
      return Status::InvalidArgument(route + " answered " + std::to_string(status) +
                                     " without the error shape: " + s.message());
    }
    return Status::Ok();
  }
  if (!json) return Status::Ok();  // a redirect or a page for a browser, or a stream
  for (const ApiAnswer& a : c->answers) {
    if (a.status != status) continue;
    if (!a.body) {
      if (body.empty()) return Status::Ok();
      return Status::InvalidArgument(route + " answered " + std::to_string(status) +
                                     " with a body; its contract declares none");
    }
    Status s = CheckShapeText(*a.body, body);
    if (!s.ok()) {
      return Status::InvalidArgument(route + " answered " + std::to_string(status) +
                                     " with a body that is not its declared shape: " + s.message());
    }
    return Status::Ok();
  }
  return Status::InvalidArgument(route + " answered " + std::to_string(status) +
                                 ", a status its contract does not declare");
}

}  // namespace strato::http
