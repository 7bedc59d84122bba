// The audit log over real HTTP against a real database: who reads which entries (the page
// GET /audit and the API GET /api/v1/events), a deleted VM's history staying with its
// organization, the filters and their 400s, cursor paging, the state of a VM as of a time, and
// the hash chain's verification (GET /api/v1/audit/verify).
#include <doctest/doctest.h>
#include <httplib.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "events/commands/domain_commands.h"
#include "http/app/visibility.h"
#include "test/support/test_env.h"
#include "test/support/web_fixture.h"

using namespace strato;
using namespace strato::test;

namespace {

std::string Enc(const std::string& s) {
  return httplib::detail::encode_query_param(s);
}

struct Entry {
  int64_t position = 0;
  std::string recorded_at, actor, stream_id, type;
};

struct EventsPage {
  int status = 0;
  std::vector<Entry> events;
  std::string next_cursor;  // "" for null
  std::string body;
};

EventsPage Events(WebClient& c, const std::string& query = "") {
  WebResponse r = c.Get("/api/v1/events" + (query.empty() ? "" : "?" + query));
  EventsPage out;
  out.status = r.status;
  out.body = r.body;
  REQUIRE_MESSAGE(r.status == 200, query << ": " << r.body);
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  REQUIRE_MESSAGE(d.IsObject(), r.body);
  REQUIRE(d.HasMember("events"));
  REQUIRE(d.HasMember("next_cursor"));
  for (const auto& e : d["events"].GetArray()) {
    out.events.push_back({e["position"].GetInt64(), e["recorded_at"].GetString(),
                          e["actor"].GetString(), e["stream_id"].GetString(),
                          e["type"].GetString()});
  }
  if (d["next_cursor"].IsString()) out.next_cursor = d["next_cursor"].GetString();
  return out;
}

std::set<std::string> Streams(const EventsPage& p) {
  std::set<std::string> s;
  for (const Entry& e : p.events) s.insert(e.stream_id);
  return s;
}

int CountType(const EventsPage& p, const std::string& type) {
  return static_cast<int>(std::count_if(p.events.begin(), p.events.end(),
                                        [&](const Entry& e) { return e.type == type; }));
}

// The data-position values of the page's entry rows, in order.
std::vector<int64_t> Positions(const std::string& html) {
  std::vector<int64_t> out;
  std::regex row("<tr data-position=\"([0-9]+)\"");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), row); it != std::sregex_iterator();
       ++it) {
    out.push_back(std::stoll((*it)[1].str()));
  }
  return out;
}

// The "Older" link's address, unescaped; "" when there is none.
std::string OlderLink(const std::string& html) {
  std::smatch m;
  if (!std::regex_search(html, m, std::regex("<a href=\"([^\"]*)\" id=\"older\""))) return "";
  std::string href = m[1].str();
  for (size_t p; (p = href.find("&amp;")) != std::string::npos;) href.replace(p, 5, "&");
  return href;
}

struct Person {
  std::string id, org_id, vm_id;
};

// Registers `name`, creates an organization and a stopped VM in it.
Person WithOrgAndVm(WebClient& c, SoftAuthenticator& key, const std::string& name,
                    const std::string& org, const std::string& vm) {
  WebResponse reg = c.RegisterWith(key, name);
  REQUIRE(reg.status == 201);
  Person p;
  p.id = JsonField(reg.body, "user_id");
  WebResponse o = c.Post("/api/v1/orgs", R"({"name":")" + org + R"("})");
  REQUIRE_MESSAGE(o.status == 201, o.body);
  p.org_id = JsonField(o.body, "id");
  WebResponse v = c.Post("/api/v1/orgs/" + p.org_id + "/vms",
                         R"({"name":")" + vm + R"(","image":"debian-12","start":false})");
  REQUIRE_MESSAGE(v.status == 201, v.body);
  p.vm_id = JsonField(v.body, "id");
  return p;
}

std::string NewVm(WebClient& c, const std::string& org_id, const std::string& name) {
  WebResponse v = c.Post("/api/v1/orgs/" + org_id + "/vms",
                         R"({"name":")" + name + R"(","image":"debian-12","start":false})");
  REQUIRE_MESSAGE(v.status == 201, v.body);
  return JsonField(v.body, "id");
}

}  // namespace

TEST_CASE(
    "users in different organizations see only their own audit entries on the page and in the "
    "API") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin()), b("localhost", f.origin());
  WebClient alice(f), bob(f);
  Person al = WithOrgAndVm(alice, a, "alice", "Acme", "web-1");
  Person bo = WithOrgAndVm(bob, b, "bob", "Bob Co", "bobs-vm");

  EventsPage mine = Events(alice);
  REQUIRE(mine.status == 200);
  CHECK(Streams(mine) ==
        std::set<std::string>{"vm-" + al.vm_id, "org-" + al.org_id, "user-" + al.id});
  CHECK(CountType(mine, "VmCreated") == 1);
  CHECK(CountType(mine, "OrganizationCreated") == 1);
  CHECK(mine.next_cursor.empty());
  for (const Entry& e : mine.events) CHECK(e.recorded_at.back() == 'Z');
  EventsPage theirs = Events(bob);
  CHECK(Streams(theirs) ==
        std::set<std::string>{"vm-" + bo.vm_id, "org-" + bo.org_id, "user-" + bo.id});

  WebResponse page = Page(alice, "/audit");
  REQUIRE(page.status == 200);
  CHECK(Has(page.body, "aria-current=\"page\">Audit log</a>"));
  CHECK(Has(page.body, "<code class=\"stream\">vm-" + al.vm_id + "</code>"));
  CHECK(Has(page.body, "<a href=\"/vms/" + al.vm_id + "\">VM web-1</a>"));
  CHECK(Has(page.body, "<a href=\"/orgs/" + al.org_id + "\">organization Acme</a>"));
  CHECK(Has(page.body, ">alice</span>"));  // the actor as a username
  CHECK_FALSE(Has(page.body, bo.vm_id));
  CHECK_FALSE(Has(page.body, bo.org_id));
  CHECK_FALSE(Has(page.body, "bobs-vm"));
  CHECK(Positions(page.body).size() == mine.events.size());
  CHECK_FALSE(Has(Page(bob, "/audit").body, al.vm_id));

  // Not signed in: the page sends the browser to sign in, the API answers 401.
  WebClient anonymous(f);
  CHECK(Page(anonymous, "/audit").status == 303);
  CHECK(anonymous.Get("/api/v1/events").status == 401);
}

TEST_CASE(
    "a new member reads the organization's VM events and a deleted VM's history stays with its "
    "organization") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin()), b("localhost", f.origin()),
      m("localhost", f.origin());
  WebClient alice(f), bob(f), mallory(f);
  Person al = WithOrgAndVm(alice, a, "alice", "Acme", "web-1");
  REQUIRE(bob.RegisterWith(b, "bob").status == 201);
  REQUIRE(mallory.RegisterWith(m, "mallory").status == 201);
  const std::string vm_stream = "vm-" + al.vm_id;

  CHECK(Streams(Events(bob)).count(vm_stream) == 0);
  REQUIRE(alice.Post("/api/v1/orgs/" + al.org_id + "/members", R"({"username":"bob"})").status ==
          200);
  EventsPage member = Events(bob);
  CHECK(Streams(member).count(vm_stream) == 1);
  CHECK(Streams(member).count("org-" + al.org_id) == 1);
  CHECK(CountType(member, "MemberAdded") == 1);
  CHECK(Has(Page(bob, "/audit").body, "<code class=\"stream\">" + vm_stream + "</code>"));

  // The VM is deleted: its tuples go, its history stays readable to the organization.
  REQUIRE(alice.Delete("/api/v1/vms/" + al.vm_id).status == 200);
  CHECK(bob.Get("/api/v1/vms/" + al.vm_id).status == 403);  // no VM to read any more
  EventsPage history = Events(bob, "stream=" + vm_stream);
  REQUIRE(history.status == 200);
  CHECK(CountType(history, "VmCreated") == 1);
  CHECK(CountType(history, "VmDeleteRequested") == 1);
  CHECK(Streams(history) == std::set<std::string>{vm_stream});
  WebResponse page = Page(bob, "/audit?stream=" + vm_stream);
  REQUIRE(page.status == 200);
  CHECK(Has(page.body, "data-type=\"VmDeleteRequested\""));
  CHECK(Has(page.body, "data-type=\"VmCreated\""));
  CHECK(Has(page.body, "VM web-1 (deleted)"));
  CHECK_FALSE(Has(page.body, "href=\"/vms/" + al.vm_id + "\""));  // its page is gone
  CHECK(Has(Page(alice, "/audit?stream=" + vm_stream).body, "data-type=\"VmDeleteRequested\""));
  // An outsider sees nothing of it, on the page or in the API.
  WebResponse outsider = Page(mallory, "/audit?stream=" + vm_stream);
  CHECK(outsider.status == 200);
  CHECK(Has(outsider.body, "id=\"no-entries\""));
  CHECK(Positions(outsider.body).empty());
  CHECK(Events(mallory, "stream=" + vm_stream).events.empty());
  CHECK(Streams(Events(mallory)).count(vm_stream) == 0);

  // Leaving the organization ends it.
  std::string bob_id = f.Query("SELECT user_id FROM users WHERE username = 'bob'");
  REQUIRE(alice.Delete("/api/v1/orgs/" + al.org_id + "/members/" + bob_id).status == 200);
  CHECK(Events(bob, "stream=" + vm_stream).events.empty());
}

TEST_CASE(
    "the audit log gives a user who may read many streams and one who may read few the newest "
    "entries alike") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin()), b("localhost", f.origin());
  WebClient alice(f), bob(f);
  Person al = WithOrgAndVm(alice, a, "alice", "Acme", "web-0");
  Person bo = WithOrgAndVm(bob, b, "bob", "Bob Co", "bobs-vm");
  // A thousand more VMs in alice's organization: more streams than are read one by one
  // (http/app/visibility.cpp), so alice's entries come from the log's end, and bob's stream by
  // stream. Bob's VM is started half-way, so his entries are spread through the log.
  events::DomainCommands commands(f.db().store());
  for (int i = 1; i <= 1000; ++i) {
    if (i == 500) REQUIRE(bob.Post("/api/v1/vms/" + bo.vm_id + "/start", "{}").status == 200);
    domain::CreateVm c;
    c.vm_id = Uuid::NewV4().ToString();
    c.org_id = al.org_id;
    c.owner_id = al.id;
    c.name = "web-" + std::to_string(i);
    c.image = "debian-12";
    c.cpu_count = 1;
    c.memory_mb = 512;
    c.disk_gb = 10;
    c.start = false;
    events::CommandContext ctx;
    ctx.command_id = Uuid::NewV4();
    ctx.actor = "user-" + al.id;
    auto created = commands.Vm(ctx, c.vm_id, c);
    REQUIRE_MESSAGE(created.ok(), created.status().ToString());
  }
  CatchUp(f);

  // The newest readable positions, as SQL over the read models finds them.
  auto newest = [&](const std::string& where, int limit) {
    std::vector<int64_t> out;
    std::string list = f.Query(
        "SELECT string_agg(global_position::text, ',' ORDER BY global_position DESC) FROM "
        "(SELECT global_position FROM events WHERE " +
        where + " ORDER BY global_position DESC LIMIT " + std::to_string(limit) + ") x");
    for (size_t at = 0; at < list.size();) {
      size_t comma = list.find(',', at);
      if (comma == std::string::npos) comma = list.size();
      out.push_back(std::stoll(list.substr(at, comma - at)));
      at = comma + 1;
    }
    return out;
  };
  auto positions = [](const EventsPage& p) {
    std::vector<int64_t> out;
    for (const Entry& e : p.events) out.push_back(e.position);
    return out;
  };
  const std::string alices = "(stream_id IN (SELECT 'vm-' || vm_id FROM vms WHERE org_id = '" +
                             al.org_id + "') OR stream_id IN ('org-" + al.org_id + "', 'user-" +
                             al.id + "'))";
  const std::string bobs =
      "stream_id IN ('vm-" + bo.vm_id + "', 'org-" + bo.org_id + "', 'user-" + bo.id + "')";
  REQUIRE(f.Query("SELECT count(*) FROM vms WHERE org_id = '" + al.org_id + "'") == "1001");

  CHECK(positions(Events(alice, "limit=100")) == newest(alices, 100));
  std::vector<int64_t> bob_all = newest(bobs, 1000);
  REQUIRE(bob_all.size() >= 5);
  CHECK(positions(Events(bob, "limit=100")) == bob_all);
  // The same with a filter, and page by page.
  CHECK(positions(Events(alice, "type=VmCreated&limit=20")) ==
        newest(alices + " AND type = 'VmCreated'", 20));
  CHECK(positions(Events(bob, "type=VmStartRequested")) ==
        newest(bobs + " AND type = 'VmStartRequested'", 50));
  for (auto* who : {&alice, &bob}) {
    const std::string& where = who == &alice ? alices : bobs;
    std::vector<int64_t> paged;
    std::string cursor;
    for (int page = 0; page < 3; ++page) {
      EventsPage p = Events(*who, "limit=2" + (cursor.empty() ? "" : "&before=" + cursor));
      for (int64_t pos : positions(p)) paged.push_back(pos);
      if (p.next_cursor.empty()) break;
      cursor = p.next_cursor;
    }
    CHECK(paged == newest(where, 6));
  }
}

TEST_CASE("filters narrow the audit entries by actor and type and stream and time") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin()), b("localhost", f.origin());
  WebClient alice(f), bob(f);
  Person al = WithOrgAndVm(alice, a, "alice", "Acme", "web-1");
  std::string vm2 = NewVm(alice, al.org_id, "web-2");
  REQUIRE(alice.Post("/api/v1/vms/" + al.vm_id + "/start", "{}").status == 200);
  WebResponse breg = bob.RegisterWith(b, "bob");
  std::string bob_id = JsonField(breg.body, "user_id");
  REQUIRE(alice.Post("/api/v1/orgs/" + al.org_id + "/members", R"({"username":"bob"})").status ==
          200);
  REQUIRE(bob.Post("/api/v1/vms/" + vm2 + "/start", "{}").status == 200);

  EventsPage all = Events(alice);
  REQUIRE(all.status == 200);
  REQUIRE(all.events.size() >= 6);

  // Actor: bob's command only (alice may not read bob's own user stream).
  EventsPage by_bob = Events(alice, "actor=bob");
  REQUIRE(by_bob.events.size() == 1);
  CHECK(by_bob.events[0].actor == "user-" + bob_id);
  CHECK(by_bob.events[0].type == "VmStartRequested");
  CHECK(by_bob.events[0].stream_id == "vm-" + vm2);
  // The actor as entries show it works too.
  CHECK(Events(alice, "actor=user-" + bob_id).events.size() == 1);
  EventsPage by_alice = Events(alice, "actor=alice");
  CHECK(by_alice.events.size() + by_bob.events.size() <= all.events.size());
  for (const Entry& e : by_alice.events) CHECK(e.actor == "user-" + al.id);
  CHECK(CountType(by_alice, "VmCreated") == 2);

  // Type.
  EventsPage created = Events(alice, "type=VmCreated");
  CHECK(created.events.size() == 2);
  CHECK(CountType(created, "VmCreated") == 2);
  // Stream.
  EventsPage one = Events(alice, "stream=vm-" + al.vm_id);
  CHECK(Streams(one) == std::set<std::string>{"vm-" + al.vm_id});
  CHECK(CountType(one, "VmCreated") == 1);
  CHECK(CountType(one, "VmStartRequested") == 1);
  // Filters combine.
  EventsPage both = Events(alice, "stream=vm-" + vm2 + "&type=VmStartRequested&actor=bob");
  CHECK(both.events.size() == 1);
  CHECK(Events(alice, "stream=vm-" + al.vm_id + "&actor=bob").events.empty());

  // Time: from is inclusive, to exclusive, so [from, pivot) and [pivot, ...) split the log.
  const Entry& pivot = created.events[0];  // the newer VmCreated (web-2)
  EventsPage after = Events(alice, "from=" + Enc(pivot.recorded_at));
  EventsPage before = Events(alice, "to=" + Enc(pivot.recorded_at));
  CHECK(after.events.size() + before.events.size() == all.events.size());
  CHECK_FALSE(after.events.empty());
  CHECK_FALSE(before.events.empty());
  for (const Entry& e : after.events) CHECK(e.recorded_at >= pivot.recorded_at);
  for (const Entry& e : before.events) CHECK(e.recorded_at < pivot.recorded_at);
  CHECK(std::any_of(after.events.begin(), after.events.end(),
                    [&](const Entry& e) { return e.position == pivot.position; }));
  CHECK(Events(alice, "from=" + Enc(pivot.recorded_at) + "&to=" + Enc(pivot.recorded_at))
            .events.empty());
  // A datetime-local value far in the past or future, taken as UTC.
  CHECK(Events(alice, "from=2000-01-01T00:00").events.size() == all.events.size());
  CHECK(Events(alice, "from=2199-12-31T23:59").events.empty());

  // The page's form gives the same narrowing.
  WebResponse page = Page(alice, "/audit?type=VmCreated");
  REQUIRE(page.status == 200);
  CHECK(Positions(page.body).size() == 2);
  CHECK_FALSE(Has(page.body, "data-type=\"VmStartRequested\""));
  CHECK(Has(page.body, "<option value=\"VmCreated\" selected>"));
  WebResponse by_actor = Page(alice, "/audit?actor=bob");
  CHECK(Positions(by_actor.body) == std::vector<int64_t>{by_bob.events[0].position});
  CHECK(Has(by_actor.body, "value=\"bob\""));
  WebResponse ranged = Page(alice, "/audit?from=" + Enc(pivot.recorded_at));
  CHECK(Positions(ranged.body).size() == after.events.size());
  CHECK(Has(ranged.body, "Times are in UTC."));
}

TEST_CASE("paging returns every entry exactly once across pages") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin());
  WebClient alice(f);
  Person al = WithOrgAndVm(alice, a, "alice", "Acme", "web-1");
  for (int i = 2; i <= 5; ++i) NewVm(alice, al.org_id, "web-" + std::to_string(i));
  for (int i = 0; i < 3; ++i) {
    REQUIRE(alice.Post("/api/v1/vms/" + al.vm_id + "/start", "{}").status == 200);
    REQUIRE(alice.Post("/api/v1/vms/" + al.vm_id + "/stop", "{}").status == 200);
  }
  EventsPage all = Events(alice, "limit=1000");
  REQUIRE(all.events.size() >= 12);
  CHECK(all.next_cursor.empty());

  // The API, 5 at a time.
  std::vector<int64_t> seen;
  std::string cursor;
  int pages = 0;
  do {
    EventsPage p = Events(alice, "limit=5" + (cursor.empty() ? "" : "&before=" + cursor));
    REQUIRE(p.status == 200);
    CHECK(p.events.size() <= 5);
    for (const Entry& e : p.events) seen.push_back(e.position);
    cursor = p.next_cursor;
    if (!cursor.empty()) CHECK(cursor == std::to_string(p.events.back().position));
    REQUIRE(++pages < 50);
  } while (!cursor.empty());
  CHECK(pages == static_cast<int>((all.events.size() + 4) / 5));
  std::vector<int64_t> expected;
  for (const Entry& e : all.events) expected.push_back(e.position);
  CHECK(seen == expected);  // newest first, each once
  CHECK(std::is_sorted(seen.rbegin(), seen.rend()));
  CHECK(std::set<int64_t>(seen.begin(), seen.end()).size() == seen.size());

  // The page, following its "Older" links.
  std::vector<int64_t> shown;
  std::string next = "/audit?limit=5";
  pages = 0;
  while (!next.empty()) {
    WebResponse p = Page(alice, next);
    REQUIRE(p.status == 200);
    for (int64_t pos : Positions(p.body)) shown.push_back(pos);
    next = OlderLink(p.body);
    if (!next.empty()) CHECK(Has(next, "limit=5"));
    REQUIRE(++pages < 50);
  }
  CHECK(shown == expected);

  // Filters stay across pages.
  EventsPage starts = Events(alice, "type=VmStartRequested&limit=2");
  CHECK(starts.events.size() == 2);
  REQUIRE_FALSE(starts.next_cursor.empty());
  EventsPage rest = Events(alice, "type=VmStartRequested&limit=2&before=" + starts.next_cursor);
  CHECK(rest.events.size() == 1);
  CHECK(rest.next_cursor.empty());
  CHECK(CountType(rest, "VmStartRequested") == 1);
}

TEST_CASE("bad filter values get status 400 and a sentence naming them") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin());
  WebClient alice(f);
  Person al = WithOrgAndVm(alice, a, "alice", "Acme", "web-1");

  struct Bad {
    std::string query, sentence;
  };
  const std::vector<Bad> bad = {
      {"actor=nobody", "there is no user named \"nobody\""},
      {"from=yesterday", "from \"yesterday\" is not a time"},
      {"to=2026-13-45T99:00", "to \"2026-13-45T99:00\" is not a time"},
      {"from=2999-01-01T00:00", "from \"2999-01-01T00:00\" is outside the years 1970 to 2200"},
      {"stream=not%20a%20stream", "is not a stream id"},
      {"type=NoSuchEvent", "type \"NoSuchEvent\" is not an event type"},
      {"before=-3", "before \"-3\" is not a position"},
      {"limit=1001", "limit \"1001\" is not a number from 1 to 1000"},
      {"limit=0", "limit \"0\" is not a number from 1 to 1000"},
      {"limit=many", "limit \"many\" is not a number from 1 to 1000"},
  };
  for (const Bad& b : bad) {
    CAPTURE(b.query);
    WebResponse api = alice.Get("/api/v1/events?" + b.query);
    CHECK(api.status == 400);
    rapidjson::Document error;
    error.Parse(api.body.c_str());
    REQUIRE(error.IsObject());
    CHECK(Has(error["error"]["message"].GetString(), b.sentence));
    WebResponse page = Page(alice, "/audit?" + b.query);
    CHECK(page.status == 400);
    CHECK(Has(page.body, "role=\"alert\""));
    std::string escaped = b.sentence;
    for (size_t p; (p = escaped.find('"')) != std::string::npos;) escaped.replace(p, 1, "&quot;");
    CHECK(Has(page.body, escaped));
    CHECK(Positions(page.body).empty());
  }
  CHECK(alice.Get("/api/v1/events?limit=1000").status == 200);

  // The state-as-of form's values too.
  WebResponse no_vm = Page(alice, "/audit?state_vm=not-a-vm&state_at=2026-01-01T00:00");
  CHECK(no_vm.status == 400);
  CHECK(Has(no_vm.body, "is not a VM id"));
  WebResponse no_time = Page(alice, "/audit?state_vm=" + al.vm_id + "&state_at=soon");
  CHECK(no_time.status == 400);
  CHECK(Has(no_time.body, "&quot;soon&quot; is not a time"));
  WebResponse missing = Page(alice, "/audit?state_vm=" + al.vm_id);
  CHECK(missing.status == 400);
  CHECK(Has(missing.body, "Give the time to show the VM&#39;s state at."));
}

TEST_CASE("the state as of a time between two commands shows the earlier state") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin()), m("localhost", f.origin());
  WebClient alice(f), mallory(f);
  REQUIRE(mallory.RegisterWith(m, "mallory").status == 201);
  const std::string before_vm = FormatRfc3339(SystemClock::Instance().Now());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Person al = WithOrgAndVm(alice, a, "alice", "Acme", "web-1");  // stopped
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const std::string between = FormatRfc3339(SystemClock::Instance().Now());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(alice.Post("/api/v1/vms/" + al.vm_id + "/start", "{}").status == 200);

  WebResponse then = Page(alice, "/audit?state_vm=" + al.vm_id + "&state_at=" + Enc(between));
  REQUIRE(then.status == 200);
  CHECK(Has(then.body, "<dd id=\"asof-desired\">stopped</dd>"));
  CHECK(Has(then.body, "<dd id=\"asof-name\">web-1</dd>"));
  WebResponse now = Page(alice, "/audit?state_vm=vm-" + al.vm_id + "&state_at=" +
                                    Enc(FormatRfc3339(SystemClock::Instance().Now())));
  REQUIRE(now.status == 200);
  CHECK(Has(now.body, "<dd id=\"asof-desired\">running</dd>"));
  WebResponse earlier = Page(alice, "/audit?state_vm=" + al.vm_id + "&state_at=" + Enc(before_vm));
  CHECK(earlier.status == 200);
  CHECK(Has(earlier.body, "did not exist yet"));

  // Someone who may not read the VM's history learns nothing of it.
  WebResponse refused = Page(mallory, "/audit?state_vm=" + al.vm_id + "&state_at=" + Enc(between));
  CHECK(refused.status == 404);
  CHECK(Has(refused.body, "whose history you may read"));
  CHECK_FALSE(Has(refused.body, "asof-desired"));

  // A stream filter on a VM fills in the form's VM.
  WebResponse prefilled = Page(alice, "/audit?stream=vm-" + al.vm_id);
  CHECK(Has(prefilled.body, "name=\"state_vm\" type=\"text\" value=\"" + al.vm_id + "\""));
}

TEST_CASE("audit verify reports an untampered chain as ok and names a tampered event") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin());
  WebClient alice(f);
  WithOrgAndVm(alice, a, "alice", "Acme", "web-1");
  // Verification reads every tenant's events: platform operators only.
  CHECK(alice.Get("/api/v1/audit/verify").status == 403);
  auto [granted, said] = Platform(f, "grant", "alice", "operator");
  REQUIRE_MESSAGE(granted == 0, said);
  const std::string head = f.Query("SELECT max(global_position) FROM events");

  WebResponse ok = alice.Get("/api/v1/audit/verify");
  REQUIRE(ok.status == 200);
  rapidjson::Document d;
  d.Parse(ok.body.c_str());
  REQUIRE(d.IsObject());
  CHECK(d["ok"].GetBool());
  CHECK(std::to_string(d["events_checked"].GetInt64()) == head);
  CHECK(std::to_string(d["head_position"].GetInt64()) == head);
  CHECK(d["first_bad_position"].IsNull());

  {
    auto c = f.db().Connect();
    REQUIRE(c->Run("BEGIN").ok());
    REQUIRE(c->Run("SET LOCAL session_replication_role = replica").ok());
    REQUIRE(c->Run("UPDATE events SET data = data || '{\"name\": \"evil\"}'::jsonb "
                   "WHERE global_position = 3")
                .ok());
    REQUIRE(c->Run("COMMIT").ok());
  }
  WebResponse bad = alice.Get("/api/v1/audit/verify");
  REQUIRE(bad.status == 200);
  rapidjson::Document t;
  t.Parse(bad.body.c_str());
  REQUIRE(t.IsObject());
  CHECK_FALSE(t["ok"].GetBool());
  CHECK(t["first_bad_position"].GetInt64() == 3);
  CHECK(t["events_checked"].GetInt64() == 2);
  CHECK(std::to_string(t["head_position"].GetInt64()) == head);
  CHECK(t["problem"].IsString());

  WebClient anonymous(f);
  CHECK(anonymous.Get("/api/v1/audit/verify").status == 401);
}

TEST_CASE("MayReadStream applies the same rule to one stream including a deleted VM") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin()), b("localhost", f.origin()),
      m("localhost", f.origin());
  WebClient alice(f), bob(f), mallory(f);
  Person al = WithOrgAndVm(alice, a, "alice", "Acme", "web-1");
  http::Principal bob_p, mallory_p, alice_p;
  bob_p.user_id = JsonField(bob.RegisterWith(b, "bob").body, "user_id");
  mallory_p.user_id = JsonField(mallory.RegisterWith(m, "mallory").body, "user_id");
  alice_p.user_id = al.id;
  const http::App& app = f.web().app();
  const std::string vm = "vm-" + al.vm_id, org = "org-" + al.org_id;

  CHECK(http::MayReadStream(app, alice_p, vm));
  CHECK(http::MayReadStream(app, alice_p, org));
  CHECK(http::MayReadStream(app, alice_p, "user-" + al.id));
  CHECK_FALSE(http::MayReadStream(app, alice_p, "user-" + bob_p.user_id));
  CHECK_FALSE(http::MayReadStream(app, alice_p, "username-alice"));  // reservations: nobody
  CHECK_FALSE(http::MayReadStream(app, alice_p, "vmname-" + al.org_id + "-web-1"));
  CHECK_FALSE(http::MayReadStream(app, alice_p, "nonsense"));
  CHECK_FALSE(http::MayReadStream(app, bob_p, vm));

  REQUIRE(alice.Post("/api/v1/orgs/" + al.org_id + "/members", R"({"username":"bob"})").status ==
          200);
  CHECK(http::MayReadStream(app, bob_p, vm));
  REQUIRE(alice.Delete("/api/v1/vms/" + al.vm_id).status == 200);
  // The VM's tuples are gone; its organization still reads it, from the stream's mapping.
  CHECK(f.Query(
            "SELECT count(*) FROM relationship_tuples WHERE entity_type = 'vm' AND entity_id = $1",
            {al.vm_id}) == "0");
  CHECK(f.Query("SELECT organization_id FROM audit_stream_organizations WHERE stream_id = $1",
                {vm}) == al.org_id);
  CHECK(http::MayReadStream(app, bob_p, vm));
  CHECK(http::MayReadStream(app, alice_p, vm));
  CHECK_FALSE(http::MayReadStream(app, mallory_p, vm));
  // A second ask comes from memory and answers the same.
  CHECK(http::MayReadStream(app, bob_p, vm));
  CHECK_FALSE(http::MayReadStream(app, mallory_p, vm));
}
