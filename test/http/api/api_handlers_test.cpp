// The JSON API's handlers without PostgreSQL: the log in memory (MemoryEventStore), the
// permission engine's tuples following it (TupleFeed::FromStart), and the read models as an
// in-memory fake of projections::Queries (fake_queries.h). Each test calls a route's handler
// as the pipeline would after its checks, and checks the answer against the route's declared
// contract (http/api/api_contracts.h) as well as its content.
#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>

#include "core/authz/schema.h"
#include "core/domain/host.h"
#include "core/domain/organization.h"
#include "core/domain/platform.h"
#include "core/domain/vm.h"
#include "events/commands/domain_commands.h"
#include "events/log/memory_event_store.h"
#include "events/pg/pg_pool.h"
#include "http/api/api_contracts.h"
#include "http/api/api_hosts.h"
#include "http/api/api_routes.h"
#include "http/app/app.h"
#include "http/app/vm_directory.h"
#include "http/auth/auth_store.h"
#include "http/cli/web.h"
#include "projections/queries/tuple_feed.h"
#include "projections/runner/runner.h"
#include "test/http/api/fake_queries.h"

namespace strato::test {
namespace {

// Nothing listens here: a handler that reached for PostgreSQL would fail, not pass.
constexpr const char* kNoDatabase = "postgresql://127.0.0.1:1/none?connect_timeout=1";

events::CommandContext As(const std::string& actor) {
  events::CommandContext c;
  c.actor = actor;
  return c;
}

struct Answer {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
  rapidjson::Document json;
};

class HandlerWorld {
 public:
  HandlerWorld() {
    projections::RunnerOptions options;
    options.database_url = kNoDatabase;
    auto runner = projections::ProjectionRunner::Create(store_, nullptr, {}, options);
    REQUIRE_MESSAGE(runner.ok(), runner.status().ToString());
    runner_ = std::move(*runner);
    auto schema = authz::LoadSchema(http::EmbeddedPermissionSchema());
    REQUIRE_MESSAGE(schema.ok(), schema.status().ToString());
    auto feed = projections::TupleFeed::FromStart(*schema, store_);
    REQUIRE_MESSAGE(feed.ok(), feed.status().ToString());
    feed_ = std::move(*feed);
    app_.reset(new http::App{pool_, commands_, auth_, *runner_, webauthn::RelyingParty{}});
    app_->queries = queries_;
    app_->tuples = feed_.get();
    directory_ = std::make_unique<http::VmDirectory>(
        *queries_, [this]() -> Result<int64_t> { return committed_; });
    app_->vm_directory = directory_.get();
    http::AddApiRoutes(router_, *app_);
    http::AddHostApiRoutes(router_, *app_);
  }

  events::DomainCommands& commands() { return commands_; }
  FakeQueries& queries() { return *queries_; }

  // The tuples follow the log; the read models (the fake) say they have committed `position`.
  void CatchUp(int64_t position) {
    REQUIRE(feed_->CatchUp().ok());
    committed_ = position;
  }

  // Calls the handler of METHOD target ("/api/v1/vms?state=running") as `user_id`.
  Answer Call(const std::string& method, const std::string& target, const std::string& user_id) {
    http::Request req;
    req.method = method;
    const size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) {
      std::string rest = target.substr(q + 1);
      while (!rest.empty()) {
        const size_t amp = rest.find('&');
        const std::string pair = rest.substr(0, amp);
        const size_t eq = pair.find('=');
        req.query.emplace(pair.substr(0, eq),
                          eq == std::string::npos ? "" : *http::UrlDecode(pair.substr(eq + 1)));
        rest = amp == std::string::npos ? "" : rest.substr(amp + 1);
      }
    }
    http::Principal who;
    who.user_id = user_id;
    who.username = user_id;
    req.principal = who;
    http::Router::Match match = router_.Find(method, req.path);
    REQUIRE_MESSAGE(match.route != nullptr, method << " " << target);
    req.params = match.params;
    http::Response r = match.route->handler(req);
    Status agrees =
        http::CheckAnswer(method, match.route->pattern, r.status, r.content_type, r.body);
    CHECK_MESSAGE(agrees.ok(), agrees.message());
    Answer a;
    a.status = r.status;
    a.body = r.body;
    for (const auto& [k, v] : r.headers) a.headers[k] = v;
    a.json.Parse(r.body.c_str());
    return a;
  }

 private:
  events::MemoryEventStore store_;
  events::DomainCommands commands_{store_};
  events::PgPool pool_{kNoDatabase, 1, std::chrono::milliseconds(10)};
  http::AuthStore auth_{pool_};
  std::unique_ptr<projections::ProjectionRunner> runner_;
  std::unique_ptr<projections::TupleFeed> feed_;
  std::shared_ptr<FakeQueries> queries_ = std::make_shared<FakeQueries>();
  std::unique_ptr<http::App> app_;
  std::unique_ptr<http::VmDirectory> directory_;
  int64_t committed_ = 0;
  http::Router router_;
};

projections::VersionedVm VmRow(const std::string& id, const std::string& org,
                               const std::string& name, const std::string& observed,
                               int64_t position, int64_t version) {
  projections::VersionedVm v;
  v.vm.id = id;
  v.vm.org_id = org;
  v.vm.owner_id = "alice";
  v.vm.name = name;
  v.vm.image = "debian-12";
  v.vm.cpu_count = 2;
  v.vm.memory_mb = 2048;
  v.vm.disk_gb = 20;
  v.vm.desired = observed == "running" ? "running" : "stopped";
  v.vm.observed = observed;
  v.vm.host_id = observed == "running" ? "host-1" : "";
  v.vm.created_at = "2026-12-01T10:00:00.000000Z";
  v.vm.updated_at = "2026-12-01T10:00:01.000000Z";
  v.vm.position = position;
  v.version = version;
  return v;
}

// alice owns Acme with web-2 and web-1 (in that order of creation); bob owns Other with db-1.
struct Tenants {
  std::string acme = "11111111-1111-4111-8111-111111111111";
  std::string other = "22222222-2222-4222-8222-222222222222";
  std::string web1 = "33333333-3333-4333-8333-333333333331";
  std::string web2 = "33333333-3333-4333-8333-333333333332";
  std::string db1 = "33333333-3333-4333-8333-333333333333";
};

Tenants Build(HandlerWorld& w) {
  Tenants t;
  auto& c = w.commands();
  REQUIRE(
      c.Organization(As("user-alice"), t.acme, domain::CreateOrganization{t.acme, "Acme"}).ok());
  REQUIRE(
      c.Organization(As("user-bob"), t.other, domain::CreateOrganization{t.other, "Other"}).ok());
  int64_t last = 0;
  for (auto [id, org, name, who] :
       {std::tuple{t.web2, t.acme, "web-2", "alice"}, std::tuple{t.web1, t.acme, "web-1", "alice"},
        std::tuple{t.db1, t.other, "db-1", "bob"}}) {
    domain::CreateVm vm;
    vm.vm_id = id;
    vm.org_id = org;
    vm.owner_id = who;
    vm.name = name;
    vm.image = "debian-12";
    vm.start = false;
    auto outcome = c.Vm(As(std::string("user-") + who), id, vm);
    REQUIRE_MESSAGE(outcome.ok(), outcome.status().ToString());
    last = outcome->position;
  }
  FakeQueries& q = w.queries();
  q.vms[t.web2] = VmRow(t.web2, t.acme, "web-2", "stopped", 3, 1);
  q.vms[t.web1] = VmRow(t.web1, t.acme, "web-1", "running", 4, 7);
  q.vms[t.db1] = VmRow(t.db1, t.other, "db-1", "running", 5, 1);
  q.orgs[t.acme] = projections::OrgDetail{t.acme, "Acme", 1, {{"alice", "alice", "", "owner"}}, 2};
  q.orgs[t.other] = projections::OrgDetail{t.other, "Other", 1, {{"bob", "bob", "", "owner"}}, 1};
  w.CatchUp(last);
  return t;
}

std::vector<std::string> NamesOf(const rapidjson::Value& list) {
  std::vector<std::string> out;
  for (const auto& v : list.GetArray()) out.push_back(v["name"].GetString());
  return out;
}

TEST_CASE(
    "the VM list handler shows the queries' VMs the user may read by name without a database") {
  HandlerWorld w;
  Tenants t = Build(w);

  Answer alice = w.Call("GET", "/api/v1/vms", "alice");
  REQUIRE_MESSAGE(alice.status == 200, alice.body);
  CHECK(NamesOf(alice.json["vms"]) == std::vector<std::string>{"web-1", "web-2"});
  CHECK(alice.json["next_cursor"].IsNull());
  const auto& web1 = alice.json["vms"][0];
  CHECK(std::string(web1["id"].GetString()) == t.web1);
  CHECK(std::string(web1["host_id"].GetString()) == "host-1");
  CHECK(web1["memory_mb"].GetInt64() == 2048);
  CHECK(alice.json["vms"][1]["host_id"].IsNull());  // not scheduled: null, not ""

  Answer bob = w.Call("GET", "/api/v1/vms", "bob");
  CHECK(NamesOf(bob.json["vms"]) == std::vector<std::string>{"db-1"});
  Answer nobody = w.Call("GET", "/api/v1/vms", "mallory");
  CHECK(nobody.json["vms"].Size() == 0);

  // Filters and paging.
  CHECK(NamesOf(w.Call("GET", "/api/v1/vms?state=running", "alice").json["vms"]) ==
        std::vector<std::string>{"web-1"});
  CHECK(NamesOf(w.Call("GET", "/api/v1/vms?q=2", "alice").json["vms"]) ==
        std::vector<std::string>{"web-2"});
  Answer first = w.Call("GET", "/api/v1/vms?limit=1", "alice");
  CHECK(NamesOf(first.json["vms"]) == std::vector<std::string>{"web-1"});
  REQUIRE(first.json["next_cursor"].IsString());
  Answer second = w.Call(
      "GET", std::string("/api/v1/vms?limit=1&cursor=") + first.json["next_cursor"].GetString(),
      "alice");
  CHECK(NamesOf(second.json["vms"]) == std::vector<std::string>{"web-2"});
  CHECK(second.json["next_cursor"].IsNull());

  // Bad input is 400 in the error shape.
  CHECK(w.Call("GET", "/api/v1/vms?state=sleeping", "alice").status == 400);
  CHECK(w.Call("GET", "/api/v1/vms?limit=0", "alice").status == 400);
  CHECK(w.Call("GET", "/api/v1/vms?limit=+5", "alice").status == 400);
  CHECK(w.Call("GET", "/api/v1/vms?cursor=nonsense", "alice").status == 400);

  // A row the read model changes is shown once the read models say they committed it.
  w.queries().vms[t.web2].vm.observed = "running";
  w.queries().vms[t.web2].vm.position = 99;
  CHECK(NamesOf(w.Call("GET", "/api/v1/vms?state=running", "alice").json["vms"]) ==
        std::vector<std::string>{"web-1"});
  w.CatchUp(99);
  CHECK(NamesOf(w.Call("GET", "/api/v1/vms?state=running", "alice").json["vms"]) ==
        std::vector<std::string>{"web-1", "web-2"});
}

TEST_CASE("the VM handler answers one VM with its version as the ETag and 404 for none") {
  HandlerWorld w;
  Tenants t = Build(w);
  Answer vm = w.Call("GET", "/api/v1/vms/" + t.web1, "alice");
  REQUIRE_MESSAGE(vm.status == 200, vm.body);
  CHECK(vm.headers["ETag"] == "\"7\"");
  CHECK(std::string(vm.json["name"].GetString()) == "web-1");
  CHECK(std::string(vm.json["observed"].GetString()) == "running");
  CHECK(vm.json["deleted"].GetBool() == false);

  Answer missing = w.Call("GET", "/api/v1/vms/44444444-4444-4444-8444-444444444444", "alice");
  CHECK(missing.status == 404);
  CHECK(std::string(missing.json["error"]["code"].GetString()) == "not_found");

  // The history is the queries' entries of the VM's stream.
  w.queries().histories[domain::VmStreamId(t.web1)] = {{1, "2026-12-01T10:00:00.000000Z",
                                                        "user-alice", domain::VmStreamId(t.web1),
                                                        "VmCreated", "created web-1"}};
  Answer history = w.Call("GET", "/api/v1/vms/" + t.web1 + "/events", "alice");
  REQUIRE(history.status == 200);
  REQUIRE(history.json["events"].Size() == 1);
  CHECK(std::string(history.json["events"][0]["summary"].GetString()) == "created web-1");
  CHECK_FALSE(history.json["events"][0].HasMember("stream_id"));
}

TEST_CASE("the organization handlers render the queries' organizations and their members") {
  HandlerWorld w;
  Tenants t = Build(w);
  Answer list = w.Call("GET", "/api/v1/orgs", "alice");
  REQUIRE(list.status == 200);
  REQUIRE(list.json["organizations"].Size() == 1);
  CHECK(std::string(list.json["organizations"][0]["role"].GetString()) == "owner");
  Answer org = w.Call("GET", "/api/v1/orgs/" + t.acme, "alice");
  REQUIRE(org.status == 200);
  CHECK(org.headers["ETag"] == "\"1\"");
  CHECK(org.json["vm_count"].GetInt64() == 2);
  CHECK(std::string(org.json["members"][0]["username"].GetString()) == "alice");
}

TEST_CASE("the hosts handlers show platform operators the hosts and admins what they may manage") {
  HandlerWorld w;
  auto& c = w.commands();
  const std::string host = "55555555-5555-4555-8555-555555555555";
  domain::RegisterHost h;
  h.host_id = host;
  h.name = "rack-1";
  h.address = "10.0.0.5";
  h.cpu_count = 32;
  h.memory_mb = 131072;
  h.disk_gb = 2000;
  h.hypervisor_kind = "cloud-hypervisor";
  h.hypervisor_version = "38.0";
  REQUIRE(c.Host(As("host-" + host), host, h).ok());
  REQUIRE(
      c.Platform(As("system"), domain::GrantPlatformRole{"carol", domain::PlatformRole::kOperator})
          .ok());
  auto last =
      c.Platform(As("system"), domain::GrantPlatformRole{"dave", domain::PlatformRole::kAdmin});
  REQUIRE_MESSAGE(last.ok(), last.status().ToString());
  projections::HostRow row;
  row.id = host;
  row.name = "rack-1";
  row.address = "10.0.0.5";
  row.hypervisor_kind = "cloud-hypervisor";
  row.hypervisor_version = "38.0";
  row.capacity = {32, 131072, 2000};
  row.allocated = {40, 2048, 20};  // overcommitted CPUs: nothing free, never below 0
  row.vm_count = 3;
  row.registered_at = row.updated_at = "2026-12-01T10:00:00Z";
  row.position = 1;
  w.queries().hosts[host] = row;
  w.CatchUp(last->position);

  Answer carol = w.Call("GET", "/api/v1/hosts", "carol");
  REQUIRE_MESSAGE(carol.status == 200, carol.body);
  REQUIRE(carol.json["hosts"].Size() == 1);
  const auto& listed = carol.json["hosts"][0];
  CHECK(std::string(listed["name"].GetString()) == "rack-1");
  CHECK(listed["may_manage"].GetBool() == false);
  CHECK(listed["capacity"]["cpu_count"]["free"].GetInt64() == 0);
  CHECK(listed["capacity"]["memory_mb"]["free"].GetInt64() == 131072 - 2048);
  CHECK(listed["vm_count"].GetInt64() == 3);
  CHECK(std::string(listed["hypervisor"]["kind"].GetString()) == "cloud-hypervisor");

  // Physical at 1:1 unless the host says otherwise; no accelerator said.
  CHECK(std::string(listed["hypervisor"]["accelerator"].GetString()).empty());
  CHECK(listed["capacity"]["cpu_count"]["physical"].GetInt64() == 32);
  CHECK(listed["capacity"]["cpu_count"]["allocation_ratio"].GetInt64() == 1);
  CHECK(listed["capacity"]["cpu_count"]["total"].GetInt64() == 32);

  Answer dave = w.Call("GET", "/api/v1/hosts/" + host, "dave");
  REQUIRE(dave.status == 200);
  CHECK(dave.json["may_manage"].GetBool() == true);

  // With its accelerator and ratios: totals are physical x ratio, disk 1:1.
  row.accelerator = "kvm";
  row.cpu_allocation_ratio = 4;
  row.memory_allocation_ratio = 2;
  w.queries().hosts[host] = row;
  Answer dense = w.Call("GET", "/api/v1/hosts/" + host, "carol");
  REQUIRE_MESSAGE(dense.status == 200, dense.body);
  CHECK(std::string(dense.json["hypervisor"]["accelerator"].GetString()) == "kvm");
  const auto& cpu = dense.json["capacity"]["cpu_count"];
  CHECK(cpu["physical"].GetInt64() == 32);
  CHECK(cpu["allocation_ratio"].GetInt64() == 4);
  CHECK(cpu["total"].GetInt64() == 128);
  CHECK(cpu["allocated"].GetInt64() == 40);
  CHECK(cpu["free"].GetInt64() == 88);
  CHECK(dense.json["capacity"]["memory_mb"]["total"].GetInt64() == 262144);
  CHECK(dense.json["capacity"]["memory_mb"]["free"].GetInt64() == 262144 - 2048);
  CHECK(dense.json["capacity"]["disk_gb"]["allocation_ratio"].GetInt64() == 1);
  CHECK(dense.json["capacity"]["disk_gb"]["total"].GetInt64() == 2000);

  CHECK(w.Call("GET", "/api/v1/hosts", "alice").json["hosts"].Size() == 0);
  CHECK(w.Call("GET", "/api/v1/hosts/66666666-6666-4666-8666-666666666666", "dave").status == 404);
}

}  // namespace
}  // namespace strato::test
