// Hosts and platform roles over real HTTP against a real database: operators are made with the
// `strato platform` command line, see hosts in the API and the hosts page, admins cordon and
// uncordon them (and the scheduler then leaves a cordoned host alone), everyone else sees no
// host and is refused; and the dashboard at / counts exactly the signed-in user's VMs.
#include <doctest/doctest.h>
#include <httplib.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/domain/host.h"
#include "core/ids.h"
#include "events/commands/domain_commands.h"
#include "events/commands/scheduler_service.h"
#include "events/hosts/host_protocol.h"
#include "events/hosts/host_rpc.h"
#include "projections/models/registry.h"
#include "projections/runner/rebuild.h"
#include "projections/runner/runner.h"
#include "test/support/test_env.h"
#include "test/support/web_fixture.h"

using namespace strato;
using namespace strato::test;

TEST_CASE("an operator made with strato platform grant sees hosts and a plain user sees none") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin()), b("localhost", f.origin());
  WebClient alice(f), bob(f);
  REQUIRE(alice.RegisterWith(a, "alice").status == 201);
  REQUIRE(bob.RegisterWith(b, "bob").status == 201);
  const std::string host = RegisterHost(f, "hv-1");
  const std::string alice_id = f.Query("SELECT user_id FROM users WHERE username = 'alice'");

  // Nobody is an operator yet: an empty list, 403 on the host, the sentence on the page.
  WebResponse none = alice.Get("/api/v1/hosts");
  REQUIRE(none.status == 200);
  CHECK(Json(none.body)["hosts"].Size() == 0);
  WebResponse refused = alice.Get("/api/v1/hosts/" + host);
  CHECK(refused.status == 403);
  CHECK(Has(refused.body, "\"code\""));
  WebResponse page = Page(alice, "/hosts");
  REQUIRE(page.status == 200);
  CHECK(Has(page.body, "Hosts are visible to platform operators"));
  CHECK(Has(page.body, "strato platform grant --username alice --role operator"));
  CHECK_FALSE(Has(page.body, "hv-1"));
  CHECK(Has(page.body, "aria-current=\"page\">Hosts</a>"));

  // The command line names what is wrong.
  auto [unknown_user, unknown_out] = Platform(f, "grant", "nobody", "operator");
  CHECK(unknown_user != 0);
  CHECK(Has(unknown_out, "there is no user named nobody"));
  auto [unknown_role, role_out] = Platform(f, "grant", "alice", "root");
  CHECK(unknown_role == 2);
  CHECK(Has(role_out, "\"root\" is not a platform role; the roles are admin and operator"));
  CHECK(f.Query("SELECT count(*) FROM events WHERE stream_id = 'platform-strato'") == "0");

  auto [granted, granted_out] = Platform(f, "grant", "alice", "operator");
  CHECK_MESSAGE(granted == 0, granted_out);
  CHECK(Has(granted_out, "granted the platform role operator to alice"));
  CHECK(f.Query("SELECT count(*) FROM relationship_tuples WHERE entity_type = 'platform' AND "
                "entity_id = 'strato' AND relation = 'operator' AND subject_type = 'user' AND "
                "subject_id = $1",
                {alice_id}) == "1");
  CHECK(f.Query("SELECT metadata->>'actor' FROM events WHERE type = 'PlatformRoleGranted'") ==
        "system");
  auto [again, again_out] = Platform(f, "grant", "alice", "operator");
  CHECK(again == 0);
  CHECK(Has(again_out, "alice already holds the platform role operator; nothing changed"));

  // alice now sees the host with its capacity, may not cordon it (that takes an admin).
  WebResponse list = alice.Get("/api/v1/hosts");
  REQUIRE(list.status == 200);
  rapidjson::Document d = Json(list.body);
  REQUIRE(d["hosts"].Size() == 1);
  const auto& h = d["hosts"][0];
  CHECK(std::string(h["id"].GetString()) == host);
  CHECK(std::string(h["name"].GetString()) == "hv-1");
  CHECK(h["capacity"]["cpu_count"]["total"].GetInt64() == 32);
  CHECK(h["capacity"]["cpu_count"]["allocated"].GetInt64() == 0);
  CHECK(h["capacity"]["memory_mb"]["free"].GetInt64() == 131072);
  CHECK(h["capacity"]["disk_gb"]["total"].GetInt64() == 2000);
  CHECK(h["reachable"].GetBool());
  CHECK_FALSE(h["cordoned"].GetBool());
  CHECK(h["vm_count"].GetInt64() == 0);
  CHECK_FALSE(h["may_manage"].GetBool());
  WebResponse one = alice.Get("/api/v1/hosts/" + host);
  CHECK(one.status == 200);
  CHECK(JsonField(one.body, "name") == "hv-1");
  CHECK(alice.Post("/api/v1/hosts/" + host + "/cordon", R"({"reason":"mine"})").status == 403);
  WebResponse seen = Page(alice, "/hosts");
  REQUIRE(seen.status == 200);
  CHECK(Has(seen.body, "hv-1"));
  CHECK(Has(seen.body, "<meter id=\"host-" + host + "-cpu\""));
  CHECK(Has(seen.body, "0 of 32 CPUs allocated (0%), 32 free"));
  CHECK(Has(seen.body, "takes new VMs"));
  CHECK_FALSE(Has(seen.body, "action=\"/hosts/" + host + "/cordon\""));

  // bob is nobody on the platform.
  CHECK(Json(bob.Get("/api/v1/hosts").body)["hosts"].Size() == 0);
  CHECK(bob.Get("/api/v1/hosts/" + host).status == 403);
  CHECK(bob.Post("/api/v1/hosts/" + host + "/cordon", "{}").status == 403);
  CHECK(PostForm(f, bob, "/hosts/" + host + "/cordon", {{"reason", "x"}}).status == 403);
  CHECK(Has(Page(bob, "/hosts").body, "Hosts are visible to platform operators"));

  // Revoked: alice sees nothing again, at once.
  auto [revoked, revoked_out] = Platform(f, "revoke", "alice", "operator");
  CHECK_MESSAGE(revoked == 0, revoked_out);
  CHECK(Has(revoked_out, "revoked the platform role operator from alice"));
  CHECK(Json(alice.Get("/api/v1/hosts").body)["hosts"].Size() == 0);
  CHECK(alice.Get("/api/v1/hosts/" + host).status == 403);
  CHECK(f.Query("SELECT count(*) FROM relationship_tuples WHERE entity_type = 'platform'") == "0");
}

TEST_CASE("an admin cordons a host with a reason and the scheduler places no VM there") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin());
  WebClient alice(f);
  REQUIRE(alice.RegisterWith(a, "alice").status == 201);
  const std::string host = RegisterHost(f, "hv-1");
  auto [granted, granted_out] = Platform(f, "grant", "alice", "admin");
  REQUIRE_MESSAGE(granted == 0, granted_out);
  const std::string path = "/api/v1/hosts/" + host;

  // Bad input is refused with a sentence naming the field, and nothing is recorded.
  WebResponse not_string = alice.Post(path + "/cordon", R"({"reason":5})");
  CHECK(not_string.status == 400);
  CHECK(Has(not_string.body, "reason"));
  WebResponse too_long =
      alice.Post(path + "/cordon", R"({"reason":")" + std::string(501, 'x') + R"("})");
  CHECK(too_long.status == 400);
  CHECK(Has(too_long.body, "a reason must be 1 to 500 characters long; got 501"));
  CHECK(alice.Post(path + "/cordon", R"({"why":"typo"})").status == 400);
  CHECK(alice.Post(path + "/uncordon", R"({"reason":"no"})").status == 400);
  CHECK(f.Query("SELECT count(*) FROM events WHERE type = 'HostCordoned'") == "0");
  // The page refreshes live; the cordon form (and a reason half typed in it) is kept as it is.
  WebResponse before = Page(alice, "/hosts");
  CHECK(Has(before.body, "<div id=\"host-list\" hx-get=\"/hosts\""));
  CHECK(Has(before.body,
            "hx-trigger=\"live-host from:body, live-vm from:body, live-reset from:body\""));
  CHECK(Has(before.body, "id=\"cordon-" + host + "\" hx-preserve=\"true\""));

  WebResponse cordoned = alice.Post(path + "/cordon", R"({"reason":"disk swap <tuesday>"})");
  REQUIRE_MESSAGE(cordoned.status == 200, cordoned.body);
  rapidjson::Document c = Json(cordoned.body);
  CHECK(c["cordoned"].GetBool());
  CHECK(std::string(c["cordon_reason"].GetString()) == "disk swap <tuesday>");
  CHECK(c["may_manage"].GetBool());
  WebResponse page = Page(alice, "/hosts");
  CHECK(Has(page.body, "cordoned, takes no new VMs — reason: disk swap &lt;tuesday&gt;"));
  CHECK(Has(page.body, "action=\"/hosts/" + host + "/uncordon\""));

  // A VM created now stays pending: the only host is cordoned.
  std::string org = CreateOrg(alice, "Acme");
  std::string vm = CreateVm(alice, org, "web-1", true);
  events::DomainCommands commands(f.db().store());
  events::SchedulerService scheduler(f.db().store(), nullptr, commands);
  auto placed = scheduler.Step();
  REQUIRE_MESSAGE(placed.ok(), placed.status().ToString());
  CHECK(*placed == 0);
  CatchUp(f);
  rapidjson::Document pending = Json(alice.Get("/api/v1/vms/" + vm).body);
  CHECK(pending["host_id"].IsNull());
  CHECK(std::string(pending["placement_failure"].GetString()) != "");

  // Uncordoned, the host takes it.
  WebResponse uncordoned = alice.Post(path + "/uncordon", "");
  REQUIRE_MESSAGE(uncordoned.status == 200, uncordoned.body);
  CHECK_FALSE(Json(uncordoned.body)["cordoned"].GetBool());
  placed = scheduler.Step();
  REQUIRE(placed.ok());
  CHECK(*placed == 1);
  CatchUp(f);
  CHECK(JsonField(alice.Get("/api/v1/vms/" + vm).body, "host_id") == host);
  rapidjson::Document after = Json(alice.Get(path).body);
  CHECK(after["vm_count"].GetInt64() == 1);
  CHECK(after["capacity"]["cpu_count"]["allocated"].GetInt64() == 1);
  CHECK(after["capacity"]["cpu_count"]["free"].GetInt64() == 31);

  // The same through the page's forms.
  WebResponse form_long =
      PostForm(f, alice, "/hosts/" + host + "/cordon", {{"reason", std::string(501, 'y')}});
  CHECK(form_long.status == 400);
  CHECK(Has(form_long.body, "aria-invalid=\"true\""));
  CHECK(Has(form_long.body, "A reason must be 1 to 500 characters long; got 501."));
  WebResponse form_cordon =
      PostForm(f, alice, "/hosts/" + host + "/cordon", {{"reason", "kernel update"}});
  CHECK(form_cordon.status == 303);
  CHECK(form_cordon.Header("Location") == "/hosts?notice=cordoned");
  WebResponse shown = Page(alice, "/hosts?notice=cordoned");
  CHECK(Has(shown.body, "The host was cordoned"));
  CHECK(Has(shown.body, "reason: kernel update"));
  CHECK(Has(shown.body, "1 of 32 CPUs allocated (3%), 31 free"));
  WebResponse form_uncordon = PostForm(f, alice, "/hosts/" + host + "/uncordon", {});
  CHECK(form_uncordon.status == 303);
  CHECK(Has(Page(alice, "/hosts").body, "takes new VMs"));
  CHECK_FALSE(Json(alice.Get(path).body)["cordoned"].GetBool());
}

TEST_CASE(
    "a host registered over the host protocol shows its accelerator and ratios in the API and on "
    "the page") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin());
  WebClient alice(f);
  REQUIRE(alice.RegisterWith(a, "alice").status == 201);
  auto [granted, granted_out] = Platform(f, "grant", "alice", "operator");
  REQUIRE_MESSAGE(granted == 0, granted_out);

  // What hostd sends at start on a 2-core laptop running QEMU under TCG at the default 4:1.
  events::HostControlOptions options;
  options.database_url = f.db().url();
  events::HostControl control(f.db().store(), options);
  const std::string host = "laptop-1";
  events::HostRegistration reg;
  reg.name = "laptop";
  reg.address = "127.0.0.1";
  reg.cpu_count = 2;
  reg.memory_mb = 16384;
  reg.disk_gb = 500;
  reg.hypervisor_kind = "qemu";
  reg.hypervisor_version = "7.2.19";
  reg.heartbeat_interval_ms = 3000;
  reg.accelerator = "tcg";
  reg.cpu_allocation_ratio = 4;
  reg.memory_allocation_ratio = 1;
  Status registered =
      events::ReplyStatus(control.HandleRegister(host, events::EncodeRegistration(reg)));
  REQUIRE_MESSAGE(registered.ok(), registered.ToString());
  CatchUp(f);
  CHECK(f.Query("SELECT data->>'accelerator' || ' ' || (data->>'cpu_allocation_ratio') || ' ' || "
                "(data->>'memory_allocation_ratio') FROM events WHERE type = 'HostRegistered'") ==
        "tcg 4 1");

  const std::string path = "/api/v1/hosts/" + host;
  WebResponse got = alice.Get(path);
  REQUIRE_MESSAGE(got.status == 200, got.body);
  rapidjson::Document h = Json(got.body);
  CHECK(std::string(h["hypervisor"]["kind"].GetString()) == "qemu");
  CHECK(std::string(h["hypervisor"]["version"].GetString()) == "7.2.19");
  CHECK(std::string(h["hypervisor"]["accelerator"].GetString()) == "tcg");
  const auto& cpu = h["capacity"]["cpu_count"];
  CHECK(cpu["physical"].GetInt64() == 2);
  CHECK(cpu["allocation_ratio"].GetInt64() == 4);
  CHECK(cpu["total"].GetInt64() == 8);
  CHECK(cpu["allocated"].GetInt64() == 0);
  CHECK(cpu["free"].GetInt64() == 8);
  CHECK(h["capacity"]["memory_mb"]["allocation_ratio"].GetInt64() == 1);
  CHECK(h["capacity"]["memory_mb"]["total"].GetInt64() == 16384);
  CHECK(h["capacity"]["disk_gb"]["allocation_ratio"].GetInt64() == 1);
  CHECK(h["capacity"]["disk_gb"]["total"].GetInt64() == 500);

  WebResponse page = Page(alice, "/hosts");
  REQUIRE(page.status == 200);
  CHECK(Has(page.body, "<dd class=\"hypervisor\">qemu 7.2.19</dd>"));
  CHECK(Has(page.body, "<dd class=\"accelerator\">tcg</dd>"));
  CHECK(Has(page.body, "CPU 4:1, memory 1:1, disk 1:1"));
  CHECK(Has(page.body, "<meter id=\"host-" + host + "-cpu\" min=\"0\" max=\"8\""));
  CHECK(Has(page.body, "0 of 8 CPUs allocated (0%), 8 free"));
  CHECK(Has(page.body, "(2 physical CPUs at 4:1; 0 allocated is 0% of physical)"));

  // The laptop takes eight 1-vCPU VMs, not two, and says why it refuses the ninth.
  std::string org = CreateOrg(alice, "Acme");
  events::DomainCommands commands(f.db().store());
  events::SchedulerService scheduler(f.db().store(), nullptr, commands);
  std::vector<std::string> vms;
  for (int i = 1; i <= 9; ++i)
    vms.push_back(CreateVm(alice, org, "vm-" + std::to_string(i), false));
  auto placed = scheduler.Step();
  REQUIRE_MESSAGE(placed.ok(), placed.status().ToString());
  CHECK(*placed == 8);
  CatchUp(f);
  rapidjson::Document full = Json(alice.Get(path).body);
  CHECK(full["vm_count"].GetInt64() == 8);
  CHECK(full["capacity"]["cpu_count"]["allocated"].GetInt64() == 8);
  CHECK(full["capacity"]["cpu_count"]["free"].GetInt64() == 0);
  CHECK(f.Query("SELECT placement_failure FROM vms WHERE host_id IS NULL") ==
        "no host has room for 1 CPU, 512 MiB and 10 GiB: the largest free is laptop with 0 CPUs, "
        "12288 MiB and 420 GiB");
  WebResponse busy = Page(alice, "/hosts");
  CHECK(Has(busy.body, "8 of 8 CPUs allocated (100%), 0 free"));
  CHECK(Has(busy.body, "(2 physical CPUs at 4:1; 8 allocated is 400% of physical)"));
  CHECK(Has(busy.body, "4096 of 16384 MiB allocated (25%), 12288 free"));

  // Registering again at 1:1 (an operator lowered the ratio) is recorded; placed VMs stay, and
  // nothing is free.
  reg.cpu_allocation_ratio = 1;
  REQUIRE(events::ReplyStatus(control.HandleRegister(host, events::EncodeRegistration(reg))).ok());
  CatchUp(f);
  rapidjson::Document lowered = Json(alice.Get(path).body);
  CHECK(lowered["capacity"]["cpu_count"]["allocation_ratio"].GetInt64() == 1);
  CHECK(lowered["capacity"]["cpu_count"]["total"].GetInt64() == 2);
  CHECK(lowered["capacity"]["cpu_count"]["allocated"].GetInt64() == 8);
  CHECK(lowered["capacity"]["cpu_count"]["free"].GetInt64() == 0);
  CHECK(f.Query("SELECT count(*) FROM events WHERE type = 'HostRegistered'") == "2");
}

TEST_CASE("the dashboard counts the user's own VMs by state and sends strangers to sign in") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin()), b("localhost", f.origin());
  WebClient alice(f), bob(f), anonymous(f);
  WebResponse to_signin = Page(anonymous, "/");
  CHECK(to_signin.status == 303);
  CHECK(to_signin.Header("Location").rfind("/signin?next=", 0) == 0);

  REQUIRE(alice.RegisterWith(a, "alice").status == 201);
  REQUIRE(bob.RegisterWith(b, "bob").status == 201);
  std::string acme = CreateOrg(alice, "Acme");
  CreateVm(alice, acme, "web-1", true);
  CreateVm(alice, acme, "web-2", false);
  std::string gone = CreateVm(alice, acme, "old-1", false);
  REQUIRE(alice.Delete("/api/v1/vms/" + gone).status == 200);
  std::string bobs = CreateOrg(bob, "Bob Co");
  CreateVm(bob, bobs, "bobs-1", true);

  WebResponse home = Page(alice, "/");
  REQUIRE(home.status == 200);
  CHECK(Has(home.body, "data-testid=\"display-name\">alice</span>"));
  CHECK(Has(home.body, "id=\"vm-counts\""));
  CHECK(Has(home.body, "<a href=\"/vms\"><span class=\"count\">2</span> VMs you may see</a>"));
  CHECK(Has(home.body, "<a href=\"/vms?state=pending\"><span class=\"count\">2</span> pending"));
  CHECK(Has(home.body, "<a href=\"/vms?desired=running\"><span class=\"count\">1</span>"));
  CHECK(Has(home.body, "<a href=\"/vms?desired=stopped\"><span class=\"count\">1</span>"));
  CHECK(Has(home.body, "<a href=\"/orgs\"><span class=\"count\">1</span> organization</a>"));
  CHECK_FALSE(Has(home.body, "id=\"host-capacity\""));
  CHECK(Has(home.body, "id=\"recent-activity\""));
  CHECK((Has(home.body, "Recent activity is not available: ") ||
         Has(home.body, "<ol class=\"activity\">")));
  CHECK(Has(home.body, "aria-current=\"page\">Dashboard</a>"));
  CHECK_FALSE(Has(home.body, "bobs-1"));  // not in alice's counts, nor in her activity

  WebResponse bobs_home = Page(bob, "/");
  REQUIRE(bobs_home.status == 200);
  CHECK(Has(bobs_home.body, "<span class=\"count\">1</span> VM you may see</a>"));
  CHECK_FALSE(Has(bobs_home.body, "web-1"));

  // An operator also sees the capacity of the hosts, summed.
  RegisterHost(f, "hv-1");
  RegisterHost(f, "hv-2");
  auto [granted, out] = Platform(f, "grant", "bob", "operator");
  REQUIRE_MESSAGE(granted == 0, out);
  WebResponse operators_home = Page(bob, "/");
  CHECK(Has(operators_home.body, "id=\"host-capacity\""));
  CHECK(Has(operators_home.body, "<a href=\"/hosts\"><span class=\"count\">2</span> hosts</a>"));
  CHECK(Has(operators_home.body, "0 of 64 CPUs allocated (0%), 64 free"));
}

TEST_CASE("platform role tuples are the same folded live and rebuilt in bulk from the log") {
  TestDatabase db;
  events::DomainCommands commands(db.store());
  std::vector<std::string> ids;
  for (const char* name : {"ann", "ben", "cat"}) {
    std::string id = Uuid::NewV4().ToString();
    events::CommandContext ctx;
    ctx.actor = "system";
    REQUIRE(commands.User(ctx, id, domain::RegisterUser{id, name, name, std::nullopt}).ok());
    ids.push_back(id);
  }
  projections::RunnerOptions o;
  o.database_url = db.url();
  auto live =
      projections::ProjectionRunner::Create(db.store(), nullptr, projections::AllProjections(), o);
  REQUIRE(live.ok());
  REQUIRE((*live)->CatchUp().ok());  // the users read model knows the names now

  for (auto [verb, user, role] :
       std::vector<std::tuple<std::string, std::string, std::string>>{{"grant", "ann", "admin"},
                                                                      {"grant", "ben", "operator"},
                                                                      {"grant", "ann", "operator"},
                                                                      {"grant", "cat", "admin"},
                                                                      {"revoke", "ann", "admin"},
                                                                      {"revoke", "cat", "admin"}}) {
    auto [code, out] = RunStrato({"platform", verb, "--username", user, "--role", role}, db.url());
    REQUIRE_MESSAGE(code == 0, verb << " " << user << " " << role << ": " << out);
  }
  REQUIRE((*live)->CatchUp().ok());
  auto conn = db.Connect();
  auto tuples = conn->Exec(
      "SELECT relation || '@' || subject_id FROM relationship_tuples WHERE entity_type = "
      "'platform' AND entity_id = 'strato' ORDER BY 1");
  REQUIRE(tuples.ok());
  std::vector<std::string> got;
  for (int i = 0; i < tuples->rows(); ++i) got.emplace_back(tuples->Get(i, 0));
  std::vector<std::string> want = {"operator@" + ids[0], "operator@" + ids[1]};
  std::sort(want.begin(), want.end());
  CHECK(got == want);

  projections::RebuildOptions rebuild;
  rebuild.database_url = db.url();
  auto report = projections::Rebuild(db.store(), projections::AllProjections(), rebuild);
  REQUIRE_MESSAGE(report.ok(), report.status().ToString());
  CHECK(report->path == "bulk");
  CHECK(report->identical());
}
