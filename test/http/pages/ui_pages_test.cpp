// The dashboard's organization and VM pages over real HTTP against a real database: what each
// page shows its owner (escaped), what strangers are refused, and the forms (CSRF field, field
// messages, typed confirmation for deletion) posted as a browser without JavaScript would.
#include <doctest/doctest.h>
#include <httplib.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "test/support/web_fixture.h"

using namespace strato;
using namespace strato::test;

namespace {

struct World {
  std::string org_id, vm_id;
};

// alice owns Acme and its VM web-1 (stopped, with a description that looks like markup).
World AliceWithVm(WebFixture& f, WebClient& alice, SoftAuthenticator& key) {
  REQUIRE(alice.RegisterWith(key, "alice").status == 201);
  WebResponse org = alice.Post("/api/v1/orgs", R"({"name":"Acme <Labs>"})");
  REQUIRE_MESSAGE(org.status == 201, org.body);
  World w;
  w.org_id = JsonField(org.body, "id");
  WebResponse vm = alice.Post("/api/v1/orgs/" + w.org_id + "/vms",
                              R"({"name":"web-1","image":"debian-12","start":false,)"
                              R"("description":"<script>alert(1)</script>"})");
  REQUIRE_MESSAGE(vm.status == 201, vm.body);
  w.vm_id = JsonField(vm.body, "id");
  return w;
}

}  // namespace

TEST_CASE("the organization pages list organizations and manage members through forms") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin()), b("localhost", f.origin());
  WebClient alice(f), bob(f);
  World w = AliceWithVm(f, alice, a);
  WebResponse reg = bob.RegisterWith(b, "bob");
  REQUIRE(reg.status == 201);
  std::string bob_id = JsonField(reg.body, "user_id");

  WebResponse list = Page(alice, "/orgs");
  REQUIRE(list.status == 200);
  CHECK(Has(list.body, "Acme &lt;Labs&gt;"));
  CHECK_FALSE(Has(list.body, "Acme <Labs>"));
  CHECK(Has(list.body, "href=\"/orgs/" + w.org_id + "\""));
  CHECK(Has(list.body, "aria-current=\"page\">Organizations</a>"));
  CHECK(Has(list.body, ">Dashboard</a>"));
  CHECK(Has(list.body, "href=\"/vms\""));

  // Creating one through the form: 303 to its page, which names the creator as owner.
  WebResponse empty = PostForm(f, alice, "/orgs", {{"name", ""}});
  CHECK(empty.status == 400);
  CHECK(Has(empty.body, "Give the organization a name"));
  WebResponse created = PostForm(f, alice, "/orgs", {{"name", "Beta"}});
  REQUIRE(created.status == 303);
  std::string beta = created.Header("Location");
  CHECK(beta.rfind("/orgs/", 0) == 0);
  WebResponse beta_page = Page(alice, beta);
  CHECK(beta_page.status == 200);
  CHECK(Has(beta_page.body, "<h1>Beta</h1>"));
  CHECK(Has(beta_page.body, "The organization was created."));

  // Members: add bob by username, then remove him; unknown names get a sentence.
  const std::string acme = "/orgs/" + w.org_id;
  WebResponse unknown = PostForm(f, alice, acme + "/members", {{"username", "nobody"}});
  CHECK(unknown.status == 404);
  CHECK(Has(unknown.body, "There is no user named nobody"));
  CHECK(Page(bob, acme).status == 403);
  WebResponse added =
      PostForm(f, alice, acme + "/members", {{"username", "bob"}, {"role", "member"}});
  REQUIRE(added.status == 303);
  WebResponse org_page = Page(alice, acme);
  CHECK(Has(org_page.body, "data-user-id=\"" + bob_id + "\""));
  CHECK(Has(org_page.body, "id=\"add-member\""));
  // Members and the VM count refresh live; the add-member form is outside what is swapped.
  CHECK(Has(org_page.body, "<div id=\"org-members\" hx-get=\"" + acme + "\""));
  CHECK(Has(org_page.body,
            "hx-trigger=\"live-org-" + w.org_id + " from:body, live-reset from:body\""));
  CHECK(Has(org_page.body, "</table>\n</div>\n</div>\n<h3>Add a member</h3>"));
  CHECK(Has(Page(alice, "/orgs").body, "<div id=\"org-list\" hx-get=\"/orgs\""));
  // bob sees the organization now, but may not manage it: no forms, and the routes refuse.
  WebResponse bobs_view = Page(bob, acme);
  CHECK(bobs_view.status == 200);
  CHECK_FALSE(Has(bobs_view.body, "id=\"add-member\""));
  CHECK(PostForm(f, bob, acme + "/members", {{"username", "bob"}, {"role", "owner"}}).status ==
        403);
  WebResponse removed = PostForm(f, alice, acme + "/members/" + bob_id + "/remove", {});
  REQUIRE(removed.status == 303);
  CHECK_FALSE(Has(Page(alice, acme).body, "data-user-id=\"" + bob_id + "\""));
  CHECK(Page(bob, acme).status == 403);
  // The last owner cannot be removed.
  std::string alice_id = f.Query("SELECT user_id FROM users WHERE username = 'alice'");
  WebResponse last = PostForm(f, alice, acme + "/members/" + alice_id + "/remove", {});
  CHECK(last.status == 409);
  CHECK(Has(last.body, "role=\"alert\""));
}

TEST_CASE("the VM pages show what the owner may read escaped and refuse strangers") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin()), m("localhost", f.origin());
  WebClient alice(f), mallory(f);
  World w = AliceWithVm(f, alice, a);
  REQUIRE(mallory.RegisterWith(m, "mallory").status == 201);

  WebResponse list = Page(alice, "/vms");
  REQUIRE(list.status == 200);
  CHECK(Has(list.body, ">web-1</a>"));
  CHECK(Has(list.body, "href=\"/vms/" + w.vm_id + "\""));
  CHECK(Has(list.body, "Acme &lt;Labs&gt;"));
  CHECK(Has(list.body, "pending — not placed on a host yet"));
  CHECK(Has(list.body, "href=\"/vms/new\""));
  CHECK_FALSE(Has(Page(alice, "/vms?q=nomatch").body, ">web-1</a>"));
  CHECK(Has(Page(alice, "/vms?q=web").body, ">web-1</a>"));
  CHECK_FALSE(Has(Page(alice, "/vms?state=running").body, ">web-1</a>"));
  CHECK(
      Has(Page(alice, "/vms?state=pending&org=" + w.org_id + "&sort=created").body, ">web-1</a>"));
  CHECK(Has(Page(alice, "/vms?state=bogus").body, "is not a VM state"));

  WebResponse vm = Page(alice, "/vms/" + w.vm_id);
  REQUIRE(vm.status == 200);
  CHECK(Has(vm.body, "<h1>VM web-1</h1>"));
  CHECK(Has(vm.body, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  CHECK_FALSE(Has(vm.body, "<script>alert"));
  CHECK(Has(vm.body, "<dd id=\"desired\">stopped</dd>"));
  CHECK(Has(vm.body, "action=\"/vms/" + w.vm_id + "/start\""));
  CHECK_FALSE(Has(vm.body, "action=\"/vms/" + w.vm_id + "/restart\""));
  CHECK(Has(vm.body, "action=\"/vms/" + w.vm_id + "/delete\""));
  CHECK(Has(vm.body, "id=\"history\""));
  CHECK(Has(vm.body, "data-type=\"VmCreated\""));
  CHECK(Has(vm.body, "<td>alice</td><td>created</td>"));

  // A stranger sees none of it.
  CHECK_FALSE(Has(Page(mallory, "/vms").body, "web-1"));
  WebResponse refused = Page(mallory, "/vms/" + w.vm_id);
  CHECK(refused.status == 403);
  CHECK(Has(refused.body, "you may not read this vm"));
  for (const char* action : {"start", "stop", "restart", "pause", "resume", "delete"}) {
    CAPTURE(action);
    WebResponse r =
        PostForm(f, mallory, "/vms/" + w.vm_id + "/" + action, {{"confirm_name", "web-1"}});
    CHECK(r.status == 403);
  }
  CHECK(f.Query("SELECT desired FROM vms WHERE vm_id = $1", {w.vm_id}) == "stopped");
  // Not signed in: pages send the browser to sign in.
  WebClient anonymous(f);
  WebResponse signin = Page(anonymous, "/vms");
  CHECK(signin.status == 303);
  CHECK(signin.Header("Location").rfind("/signin?next=", 0) == 0);
}

TEST_CASE("the create VM form shows messages beside fields and creates through the command") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin()), m("localhost", f.origin());
  WebClient alice(f), mallory(f);
  World w = AliceWithVm(f, alice, a);
  REQUIRE(mallory.RegisterWith(m, "mallory").status == 201);

  WebResponse form = Page(alice, "/vms/new");
  REQUIRE(form.status == 200);
  CHECK(Has(form.body, "<option value=\"" + w.org_id + "\" selected>Acme &lt;Labs&gt;</option>"));
  CHECK(Has(form.body, "name=\"csrf_token\""));
  CHECK(Has(Page(mallory, "/vms/new").body, "You may not create VMs in any organization yet"));

  std::vector<std::pair<std::string, std::string>> bad = {
      {"org_id", w.org_id}, {"name", "Bad Name!"}, {"image", "debian-12"},
      {"cpu_count", "1"},   {"memory_mb", "512"},  {"disk_gb", "10"}};
  WebResponse refused = PostForm(f, alice, "/vms", bad);
  CHECK(refused.status == 400);
  CHECK(Has(refused.body, "id=\"vm-name-error\""));
  CHECK(Has(refused.body, "A VM name must be 1 to 63 lowercase letters"));
  CHECK(Has(refused.body, "value=\"Bad Name!\""));
  CHECK(f.Query("SELECT count(*) FROM vms") == "1");
  CHECK(f.Query("SELECT count(*) FROM events WHERE type = 'VmCreated'") == "1");

  std::vector<std::pair<std::string, std::string>> numbers = {
      {"org_id", w.org_id}, {"name", "db-1"},     {"image", "debian-12"},
      {"cpu_count", "999"}, {"memory_mb", "abc"}, {"disk_gb", "10"}};
  WebResponse range = PostForm(f, alice, "/vms", numbers);
  CHECK(range.status == 400);
  CHECK(Has(range.body, "CPUs must be a whole number from 1 to 64"));
  CHECK(Has(range.body, "Memory must be a whole number from 128 to 262144 MiB"));
  CHECK(f.Query("SELECT count(*) FROM vms") == "1");

  // The name is taken in this organization: said beside the name.
  std::vector<std::pair<std::string, std::string>> taken = {
      {"org_id", w.org_id}, {"name", "web-1"},    {"image", "debian-12"},
      {"cpu_count", "1"},   {"memory_mb", "512"}, {"disk_gb", "10"}};
  WebResponse dup = PostForm(f, alice, "/vms", taken);
  CHECK(dup.status == 409);
  CHECK(Has(dup.body, "A VM named web-1 already exists in this organization"));

  // Another user's organization: refused with a sentence, nothing stored.
  std::vector<std::pair<std::string, std::string>> theirs = {
      {"org_id", w.org_id}, {"name", "sneaky"},   {"image", "debian-12"},
      {"cpu_count", "1"},   {"memory_mb", "512"}, {"disk_gb", "10"}};
  WebResponse stranger = PostForm(f, mallory, "/vms", theirs);
  CHECK(stranger.status == 403);
  CHECK(Has(stranger.body, "You may not create VMs in the organization"));
  CHECK(f.Query("SELECT count(*) FROM vms") == "1");

  std::vector<std::pair<std::string, std::string>> good = {
      {"org_id", w.org_id}, {"name", "db-1"},   {"description", "primary <db>"},
      {"image", "pg-16"},   {"cpu_count", "2"}, {"memory_mb", "2048"},
      {"disk_gb", "40"}};
  WebResponse created = PostForm(f, alice, "/vms", good);
  REQUIRE_MESSAGE(created.status == 303, created.body);
  std::string location = created.Header("Location");
  REQUIRE(location.rfind("/vms/", 0) == 0);
  std::string id = location.substr(5, location.find('?') - 5);
  // Read-your-writes: the page shows it at once; no "start" box means stopped.
  CHECK(f.Query("SELECT desired FROM vms WHERE vm_id = $1", {id}) == "stopped");
  CHECK(f.Query("SELECT cpu_count FROM vms WHERE vm_id = $1", {id}) == "2");
  WebResponse page = Page(alice, location);
  CHECK(page.status == 200);
  CHECK(Has(page.body, "<h1>VM db-1</h1>"));
  CHECK(Has(page.body, "primary &lt;db&gt;"));
  CHECK(Has(page.body, "The VM was created."));
}

TEST_CASE("VM actions through forms change the VM and need the CSRF field") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin());
  WebClient alice(f);
  World w = AliceWithVm(f, alice, a);
  const std::string vm = "/vms/" + w.vm_id;
  auto desired = [&] { return f.Query("SELECT desired FROM vms WHERE vm_id = $1", {w.vm_id}); };

  WebResponse no_token = PostForm(f, alice, vm + "/start", {}, /*with_csrf=*/false);
  CHECK(no_token.status == 403);
  CHECK(Has(no_token.body, "security token"));
  CHECK(desired() == "stopped");

  WebResponse started = PostForm(f, alice, vm + "/start", {});
  CHECK(started.status == 303);
  CHECK(started.Header("Location") == vm + "?notice=start");
  CHECK(desired() == "running");
  WebResponse page = Page(alice, vm);
  CHECK(Has(page.body, "<dd id=\"desired\">running</dd>"));
  CHECK(Has(page.body, "action=\"" + vm + "/restart\""));
  CHECK(Has(page.body, "action=\"" + vm + "/pause\""));
  CHECK_FALSE(Has(page.body, "action=\"" + vm + "/start\""));
  CHECK(Has(page.body, "<td>alice</td><td>asked it to start</td>"));

  CHECK(PostForm(f, alice, vm + "/pause", {}).status == 303);
  CHECK(desired() == "paused");
  CHECK(Has(Page(alice, vm).body, "action=\"" + vm + "/resume\""));
  CHECK(PostForm(f, alice, vm + "/resume", {}).status == 303);
  CHECK(desired() == "running");
  CHECK(PostForm(f, alice, vm + "/restart", {}).status == 303);
  // Force stop asks first, naming the VM, behind a disclosure that works without JavaScript.
  WebResponse running = Page(alice, vm);
  CHECK(Has(running.body, "<details class=\"confirm danger-zone\" id=\"force-stop\""));
  CHECK(Has(running.body, "Force stop powers VM <strong>web-1</strong> off at once"));
  CHECK(Has(running.body, "aria-label=\"Force stop VM web-1\""));
  CHECK(PostForm(f, alice, vm + "/stop", {{"force", "1"}}).status == 303);
  CHECK(desired() == "stopped");

  // An action that makes no sense now: a sentence naming the VM, nothing changed.
  WebResponse restart = PostForm(f, alice, vm + "/restart", {});
  CHECK(restart.status == 409);
  CHECK(Has(restart.body, "Could not restart VM web-1"));
  CHECK(desired() == "stopped");
}

TEST_CASE("VM actions through htmx answer with the page after the change and refusals in it") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin());
  WebClient alice(f);
  World w = AliceWithVm(f, alice, a);
  const std::string vm = "/vms/" + w.vm_id;
  const httplib::Headers htmx = {{"HX-Request", "true"}};
  auto desired = [&] { return f.Query("SELECT desired FROM vms WHERE vm_id = $1", {w.vm_id}); };

  // The buttons post in the background and name what they swap.
  WebResponse page = Page(alice, vm);
  CHECK(Has(page.body, "hx-post=\"" + vm + "/start\" hx-target=\"#vm-live\""));
  CHECK(Has(page.body, "hx-select-oob=\"#history,#vm-notice\""));

  // The answer is the page as it is after the command (read-your-writes), not a redirect.
  WebResponse started = PostForm(f, alice, vm + "/start", {}, true, htmx);
  CHECK(started.status == 200);
  CHECK(started.Header("HX-Replace-Url") == vm + "?notice=start");
  CHECK(desired() == "running");
  CHECK(Has(started.body, "<div id=\"vm-live-body\">"));
  CHECK(Has(started.body, "<dd id=\"desired\">running</dd>"));
  CHECK(Has(started.body, "The VM was asked to start."));
  CHECK(Has(started.body, "<td>alice</td><td>asked it to start</td>"));
  CHECK(Has(started.body, "hx-post=\"" + vm + "/stop\""));

  // A refusal is said in the page (htmx swaps only 2xx answers in); nothing changed.
  REQUIRE(PostForm(f, alice, vm + "/stop", {}, true, htmx).status == 200);
  WebResponse refused = PostForm(f, alice, vm + "/restart", {}, true, htmx);
  CHECK(refused.status == 200);
  CHECK(Has(refused.body, "Could not restart VM web-1"));
  CHECK(refused.Header("HX-Replace-Url").empty());
  CHECK(desired() == "stopped");
}

TEST_CASE("deleting a VM through the form needs its name typed") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin());
  WebClient alice(f);
  World w = AliceWithVm(f, alice, a);
  const std::string vm = "/vms/" + w.vm_id;
  auto deleted = [&] { return f.Query("SELECT deleted FROM vms WHERE vm_id = $1", {w.vm_id}); };

  WebResponse nothing = PostForm(f, alice, vm + "/delete", {});
  CHECK(nothing.status == 400);
  WebResponse wrong = PostForm(f, alice, vm + "/delete", {{"confirm_name", "web-2"}});
  CHECK(wrong.status == 400);
  CHECK(Has(wrong.body, "VM web-1 was not deleted"));
  CHECK(deleted() == "f");

  WebResponse ok = PostForm(f, alice, vm + "/delete", {{"confirm_name", "web-1"}});
  CHECK(ok.status == 303);
  CHECK(ok.Header("Location") == "/vms?notice=deleted");
  CHECK(deleted() == "t");
  WebResponse list = Page(alice, "/vms?notice=deleted");
  CHECK(Has(list.body, "The VM was deleted."));
  CHECK_FALSE(Has(list.body, ">web-1</a>"));
  // A deleted VM takes its permissions with it: no page, no actions.
  CHECK(Page(alice, vm).status == 403);
  CHECK(PostForm(f, alice, vm + "/start", {}).status == 403);
}

TEST_CASE("the VM list shows 50 a page with links to the others and keeps the filters") {
  WebFixture f;
  SoftAuthenticator key("localhost", f.origin());
  WebClient alice(f);
  World w = AliceWithVm(f, alice, key);  // web-1
  for (int i = 0; i < 54; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "node-%02d", i);
    WebResponse r = alice.Post("/api/v1/orgs/" + w.org_id + "/vms",
                               std::string(R"({"name":")") + name + R"(","image":"debian-12"})");
    REQUIRE_MESSAGE(r.status == 201, r.body);
  }
  WebResponse first = Page(alice, "/vms");
  REQUIRE(first.status == 200);
  CHECK(first.body.find("VMs 1–50 of 55") != std::string::npos);
  CHECK(first.body.find(">node-00<") != std::string::npos);
  CHECK(first.body.find(">web-1<") == std::string::npos);  // sorted by name: on page 2
  CHECK(first.body.find(
            "rel=\"next\" href=\"/vms?q=&amp;state=&amp;org=&amp;sort=name&amp;page=2\"") !=
        std::string::npos);
  CHECK(first.body.find("rel=\"prev\"") == std::string::npos);

  WebResponse second = Page(alice, "/vms?sort=name&page=2");
  REQUIRE(second.status == 200);
  CHECK(second.body.find("VMs 51–55 of 55") != std::string::npos);
  CHECK(second.body.find(">web-1<") != std::string::npos);
  CHECK(second.body.find(">node-00<") == std::string::npos);
  CHECK(second.body.find("rel=\"prev\"") != std::string::npos);
  CHECK(second.body.find("rel=\"next\"") == std::string::npos);

  // A filter narrows the count; the links keep it.
  WebResponse filtered = Page(alice, "/vms?q=node-0");
  CHECK(filtered.body.find("VMs 1–10 of 10") != std::string::npos);
  // The dashboard's counts link to the desired state: the 54 nodes were asked to run, web-1 not.
  CHECK(Page(alice, "/vms?desired=running").body.find("VMs 1–50 of 54") != std::string::npos);
  WebResponse stopped = Page(alice, "/vms?desired=stopped");
  CHECK(stopped.body.find("VMs 1–1 of 1") != std::string::npos);
  CHECK(stopped.body.find(">web-1<") != std::string::npos);
  CHECK(Page(alice, "/vms?desired=sideways").body.find("is not a desired state") !=
        std::string::npos);
  // Beyond the last page, and a page that is not a number, are said in words.
  CHECK(Page(alice, "/vms?page=9").body.find("There is no page 9") != std::string::npos);
  WebResponse bad = Page(alice, "/vms?page=two");
  CHECK(bad.status == 200);
  CHECK(bad.body.find("&quot;two&quot; is not a page number") != std::string::npos);
}
