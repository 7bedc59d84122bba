// `strato serve` as a process: health, readiness, and configuration errors.
#include <doctest/doctest.h>
#include <httplib.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/domain/organization.h"
#include "core/domain/user.h"
#include "core/domain/vm.h"
#include "core/ids.h"
#include "events/bus/nats_bus.h"
#include "events/commands/domain_commands.h"
#include "events/hosts/host_protocol.h"
#include "test/support/process.h"
#include "test/support/test_env.h"

using namespace strato;

namespace {

std::string StratoBinary() {
  return STRATO_BINARY_DIR "/strato";
}

using test::ReadFile;

std::unique_ptr<test::ChildProcess> Spawn(std::vector<std::string> argv,
                                          std::map<std::string, std::string> env,
                                          const std::string& name) {
  auto dir = test::MakeTempDir(name);
  REQUIRE_MESSAGE(dir.ok(), dir.status().ToString());
  auto child = test::ChildProcess::Spawn({std::move(argv), std::move(env), *dir + "/out.log"});
  REQUIRE_MESSAGE(child.ok(), child.status().ToString());
  return std::move(*child);
}

// `strato serve` in development mode on 127.0.0.1:port.
std::unique_ptr<test::ChildProcess> SpawnServe(const std::string& database_url,
                                               const std::string& nats_url, int port,
                                               const std::string& name) {
  return Spawn({StratoBinary(), "serve"},
               {{"DATABASE_URL", database_url},
                {"NATS_URL", nats_url},
                {"STRATO_ENV", "development"},
                {"STRATO_HTTP_ADDR", "127.0.0.1:" + std::to_string(port)}},
               name);
}

// `strato serve` in production mode on 127.0.0.1:port with the relying party set, plus `extra`.
std::unique_ptr<test::ChildProcess> SpawnProductionServe(const std::string& database_url,
                                                         const std::string& nats_url, int port,
                                                         std::map<std::string, std::string> extra,
                                                         const std::string& name) {
  std::map<std::string, std::string> env = {
      {"DATABASE_URL", database_url},
      {"NATS_URL", nats_url},
      {"WEBAUTHN_RELYING_PARTY_ID", "cloud.example.com"},
      {"WEBAUTHN_RELYING_PARTY_ORIGIN", "https://cloud.example.com"},
      {"STRATO_HTTP_ADDR", "127.0.0.1:" + std::to_string(port)}};
  for (auto& [k, v] : extra) env[k] = v;
  return Spawn({StratoBinary(), "serve"}, std::move(env), name);
}

// POST /auth/login/options (a rate-limited ceremony start) with X-Forwarded-For `forwarded`
// (none when empty); the status.
int StartSignIn(httplib::Client& c, const std::string& forwarded) {
  httplib::Headers headers;
  if (!forwarded.empty()) headers.emplace("X-Forwarded-For", forwarded);
  auto r = c.Post("/auth/login/options", headers, "{}", "application/json");
  REQUIRE(r);
  return r->status;
}

// Polls GET path until it answers with `want` or the deadline passes; returns the last answer.
httplib::Result WaitFor(httplib::Client& c, const char* path, int want, int seconds = 30) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  for (;;) {
    auto r = c.Get(path);
    if ((r && r->status == want) || std::chrono::steady_clock::now() > deadline) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace

TEST_CASE(
    "serve answers healthz and is ready with PostgreSQL and NATS and not ready without NATS") {
  test::TestDatabase db;
  test::NatsServerProcess nats;
  REQUIRE(nats.Start().ok());
  int port = test::FreePort();
  auto serve = SpawnServe(db.url(), nats.url(), port, "serve");
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(1);
  auto health = WaitFor(c, "/healthz", 200);
  REQUIRE_MESSAGE(health, ReadFile(serve->log_path()));
  CHECK(health->status == 200);
  CHECK(health->body == "{\"status\":\"ok\"}");

  auto ready = WaitFor(c, "/readyz", 200);
  REQUIRE(ready);
  CHECK_MESSAGE(ready->status == 200, ready->body);
  CHECK(ready->body.find("\"status\":\"ready\"") != std::string::npos);

  REQUIRE(nats.Stop().ok());
  auto down = WaitFor(c, "/readyz", 503);
  REQUIRE(down);
  CHECK(down->status == 503);
  CHECK(down->body.find("\"postgresql\":\"ok\"") != std::string::npos);
  CHECK(down->body.find("\"status\":\"not ready\"") != std::string::npos);

  auto missing = c.Get("/no/such/page");
  REQUIRE(missing);
  CHECK(missing->status == 404);

  REQUIRE(serve->Kill(SIGTERM).ok());
  auto code = serve->Wait(std::chrono::seconds(20));
  REQUIRE(code.ok());
  CHECK(*code == 0);
}

TEST_CASE("serve counts the leader's scheduler commands in its metrics") {
  test::TestDatabase db;
  test::NatsServerProcess nats;
  REQUIRE(nats.Start().ok());
  int port = test::FreePort();
  auto serve = SpawnServe(db.url(), nats.url(), port, "serve-metrics");
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(1);
  REQUIRE_MESSAGE(WaitFor(c, "/healthz", 200), ReadFile(serve->log_path()));

  // A VM with no host to go to: the scheduler (in the leader) records why it cannot place it.
  events::DomainCommands commands(db.store());
  events::CommandContext system;
  system.actor = "system";
  const std::string user = Uuid::NewV4().ToString(), org = Uuid::NewV4().ToString(),
                    vm = Uuid::NewV4().ToString();
  REQUIRE(commands.User(system, user, domain::RegisterUser{user, "ann", "Ann", std::nullopt}).ok());
  events::CommandContext ann;
  ann.actor = user;
  REQUIRE(commands.Organization(ann, org, domain::CreateOrganization{org, "Acme"}).ok());
  domain::CreateVm create;
  create.vm_id = vm;
  create.org_id = org;
  create.name = "web-1";
  create.image = "debian-12";
  REQUIRE(commands.Vm(ann, vm, create).ok());

  const std::string counted =
      "strato_commands_total{command=\"vm.report_placement_failure\",outcome=\"ok\"} ";
  std::string metrics;
  for (int i = 0; i < 300 && metrics.find(counted) == std::string::npos; ++i) {
    if (auto r = c.Get("/metrics"); r && r->status == 200) metrics = r->body;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK_MESSAGE(metrics.find(counted) != std::string::npos, metrics);
  REQUIRE(serve->Kill(SIGTERM).ok());
  REQUIRE(serve->Wait(std::chrono::seconds(20)).ok());
}

TEST_CASE("serve refuses to start with bad configuration and names the variable") {
  auto serve = Spawn({StratoBinary(), "serve"},
                     {{"DATABASE_URL", "postgresql://127.0.0.1:1/x"},
                      {"NATS_URL", "http://wrong"},
                      {"STRATO_HTTP_ADDR", "127.0.0.1:1"}},
                     "serve-bad");
  auto code = serve->Wait(std::chrono::seconds(20));
  REQUIRE(code.ok());
  CHECK(*code == 2);
  CHECK(ReadFile(serve->log_path()).find("NATS_URL has \"http://wrong\"") != std::string::npos);
}

TEST_CASE("strato events prints the log as JSON lines by stream and from a position") {
  test::TestDatabase db;
  for (int i = 0; i < 5; ++i) {
    events::AppendRequest r;
    r.streams.push_back({i % 2 ? "vm-odd" : "vm-even",
                         events::ExpectedVersion::Any(),
                         {{"VmStarted", "{\"i\": " + std::to_string(i) + "}", "{}"}}});
    REQUIRE(db.store().Append(r).ok());
  }
  auto all = Spawn({StratoBinary(), "events", "--from", "3"}, {{"DATABASE_URL", db.url()}}, "ev");
  REQUIRE(*all->Wait(std::chrono::seconds(20)) == 0);
  std::string out = ReadFile(all->log_path());
  CHECK(out.find("\"position\":3,") != std::string::npos);
  CHECK(out.find("\"position\":5,") != std::string::npos);
  CHECK(out.find("\"position\":2,") == std::string::npos);

  auto odd =
      Spawn({StratoBinary(), "events", "--stream", "vm-odd"}, {{"DATABASE_URL", db.url()}}, "ev");
  REQUIRE(*odd->Wait(std::chrono::seconds(20)) == 0);
  std::string odd_out = ReadFile(odd->log_path());
  CHECK(odd_out.find("\"data\":{\"i\": 1}") != std::string::npos);
  CHECK(odd_out.find("\"data\":{\"i\": 3}") != std::string::npos);
  CHECK(odd_out.find("vm-even") == std::string::npos);

  auto bad = Spawn({StratoBinary(), "events", "--from", "x"}, {{"DATABASE_URL", db.url()}}, "ev");
  CHECK(*bad->Wait(std::chrono::seconds(20)) == 2);
  CHECK(ReadFile(bad->log_path()).find("--from needs a whole number") != std::string::npos);
}

TEST_CASE(
    "serve reports a relay that cannot publish to a stream holding another log as not ready") {
  test::NatsServerProcess nats;
  REQUIRE(nats.Start().ok());
  test::TestDatabase first;
  for (int i = 0; i < 3; ++i) {
    events::AppendRequest r;
    r.streams.push_back(
        {"test-a", events::ExpectedVersion::Any(), {{"SomethingHappened", "{}", "{}"}}});
    REQUIRE(first.store().Append(r).ok());
  }
  int port_a = test::FreePort();
  auto a = Spawn({StratoBinary(), "serve"},
                 {{"DATABASE_URL", first.url()},
                  {"NATS_URL", nats.url()},
                  {"WEBAUTHN_RELYING_PARTY_ID", "cloud.example.com"},
                  {"WEBAUTHN_RELYING_PARTY_ORIGIN", "https://cloud.example.com"},
                  {"STRATO_HTTP_ADDR", "127.0.0.1:" + std::to_string(port_a)}},
                 "serve-a");
  httplib::Client ca("127.0.0.1", port_a);
  auto ready_a = WaitFor(ca, "/readyz", 200);
  REQUIRE(ready_a);
  CHECK(ready_a->status == 200);

  // A second control plane with its own, empty log, pointed at the same NATS by mistake.
  test::TestDatabase second;
  int port_b = test::FreePort();
  auto b = Spawn({StratoBinary(), "serve"},
                 {{"DATABASE_URL", second.url()},
                  {"NATS_URL", nats.url()},
                  {"WEBAUTHN_RELYING_PARTY_ID", "cloud.example.com"},
                  {"WEBAUTHN_RELYING_PARTY_ORIGIN", "https://cloud.example.com"},
                  {"STRATO_HTTP_ADDR", "127.0.0.1:" + std::to_string(port_b)}},
                 "serve-b");
  httplib::Client cb("127.0.0.1", port_b);
  auto health_b = WaitFor(cb, "/healthz", 200);
  REQUIRE(health_b);
  int status_b = 0;
  std::string body_b;
  for (int i = 0; i < 300; ++i) {  // until the relay has met the other log
    auto r = cb.Get("/readyz");
    if (r) {
      status_b = r->status;
      body_b = r->body;
      if (body_b.find("the relay stopped") != std::string::npos) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(status_b == 503);
  CHECK_MESSAGE(body_b.find("the relay stopped") != std::string::npos, body_b);
}

TEST_CASE("strato events --follow prints events appended after it started") {
  test::TestDatabase db;
  auto follow =
      Spawn({StratoBinary(), "events", "--follow"}, {{"DATABASE_URL", db.url()}}, "ev-follow");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (int i = 0; i < 3; ++i) {
    events::AppendRequest r;
    r.streams.push_back({"host-h1",
                         events::ExpectedVersion::Any(),
                         {{"HostHeartbeat", "{\"n\": " + std::to_string(i) + "}", "{}"}}});
    REQUIRE(db.store().Append(r).ok());
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::string out;
  while (std::chrono::steady_clock::now() < deadline) {
    out = ReadFile(follow->log_path());
    if (out.find("\"position\":3,") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(out.find("\"position\":1,") != std::string::npos);
  CHECK(out.find("\"position\":3,") != std::string::npos);
  CHECK(out.find("\"data\":{\"n\": 2}") != std::string::npos);
  CHECK(follow->Running());
  REQUIRE(follow->Kill(SIGTERM).ok());
}

TEST_CASE("strato events filters by type and actor and time") {
  test::TestDatabase db;
  const char* types[] = {"VmStarted", "VmStopped", "VmStarted"};
  const char* actors[] = {"user-a", "user-b", "user-b"};
  for (int i = 0; i < 3; ++i) {
    events::AppendRequest r;
    r.streams.push_back({"vm-f",
                         events::ExpectedVersion::Any(),
                         {{types[i], "{}", std::string("{\"actor\":\"") + actors[i] + "\"}"}}});
    REQUIRE(db.store().Append(r).ok());
  }
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {StratoBinary(), "events"});
    auto p = Spawn(args, {{"DATABASE_URL", db.url()}}, "ev-filter");
    auto code = p->Wait(std::chrono::seconds(20));
    REQUIRE(code.ok());
    return std::make_pair(*code, ReadFile(p->log_path()));
  };
  auto [c1, started] = run({"--type", "VmStarted"});
  CHECK(c1 == 0);
  CHECK(started.find("\"position\":1,") != std::string::npos);
  CHECK(started.find("\"position\":2,") == std::string::npos);
  CHECK(started.find("\"position\":3,") != std::string::npos);
  auto [c2, by_b] = run({"--actor", "user-b", "--type", "VmStarted"});
  CHECK(c2 == 0);
  CHECK(by_b.find("\"position\":3,") != std::string::npos);
  CHECK(by_b.find("\"position\":1,") == std::string::npos);
  auto [c3, future] = run({"--since", "2200-01-01T00:00:00Z"});
  CHECK(c3 == 0);
  CHECK(future.find("\"position\"") == std::string::npos);
  auto [c4, bad] = run({"--until", "soon"});
  CHECK(c4 == 2);
  CHECK(bad.find("--until \"soon\" is not an RFC 3339 time") != std::string::npos);
}

TEST_CASE("without a trusted proxy a spoofed X-Forwarded-For does not escape the rate limit") {
  test::TestDatabase db;
  test::NatsServerProcess nats;
  REQUIRE(nats.Start().ok());
  int port = test::FreePort();
  auto serve = SpawnProductionServe(db.url(), nats.url(), port, {}, "serve-spoof");
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(1);
  REQUIRE_MESSAGE(WaitFor(c, "/readyz", 200), ReadFile(serve->log_path()));
  // The attack: a new made-up address on every request, hoping each gets its own budget (a
  // burst of 10). Without STRATO_TRUSTED_PROXIES the header is ignored: one peer, one budget.
  int admitted = 0;
  int refused = 0;
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 15; ++i) {
    int status = StartSignIn(c, "198.51.100." + std::to_string(i + 1));
    (status == 429 ? refused : admitted)++;
  }
  // The burst, plus one more for every 2 s the loop took (30 a minute refill the one budget).
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  CHECK(admitted <= 10 + 1 + static_cast<int>(seconds / 2));
  CHECK(refused >= 1);
  REQUIRE(serve->Kill(SIGTERM).ok());
  REQUIRE(serve->Wait(std::chrono::seconds(20)).ok());
}

TEST_CASE("behind a trusted proxy each forwarded client gets its own sign-in budget") {
  test::TestDatabase db;
  test::NatsServerProcess nats;
  REQUIRE(nats.Start().ok());
  int port = test::FreePort();
  auto serve = SpawnProductionServe(db.url(), nats.url(), port,
                                    {{"STRATO_TRUSTED_PROXIES", "127.0.0.1, ::1"}}, "serve-proxy");
  httplib::Client proxy("127.0.0.1", port);  // this test plays the proxy
  proxy.set_connection_timeout(1);
  REQUIRE_MESSAGE(WaitFor(proxy, "/readyz", 200), ReadFile(serve->log_path()));

  // Client A spends its budget: at least the burst of 10 passes, then it is refused.
  int admitted_a = 0;
  bool refused_a = false;
  for (int i = 0; i < 20 && !refused_a; ++i) {
    if (StartSignIn(proxy, "198.51.100.1") == 429) {
      refused_a = true;
    } else {
      ++admitted_a;
    }
  }
  CHECK(refused_a);
  CHECK(admitted_a >= 10);
  // What A writes itself left of what the proxy appended changes nothing: still A.
  // (Two tries: a token may refill between A's refusal and the first.)
  CHECK((StartSignIn(proxy, "203.0.113.77, 198.51.100.1") == 429 ||
         StartSignIn(proxy, "203.0.113.77, 198.51.100.1") == 429));
  // Client B, behind the same proxy, has its whole budget.
  for (int i = 0; i < 10; ++i) {
    CAPTURE(i);
    CHECK(StartSignIn(proxy, "198.51.100.2") != 429);
  }
  // A request from the proxy without the header is the proxy's own.
  CHECK(StartSignIn(proxy, "") != 429);
  REQUIRE(serve->Kill(SIGTERM).ok());
  REQUIRE(serve->Wait(std::chrono::seconds(20)).ok());
}

TEST_CASE("metrics answer only to the metrics token and not at all in production without one") {
  test::TestDatabase db;
  test::NatsServerProcess nats;
  REQUIRE(nats.Start().ok());
  const std::string token = "0123456789abcdef0123456789abcdef-metrics";
  {
    int port = test::FreePort();
    auto serve = SpawnProductionServe(db.url(), nats.url(), port, {{"STRATO_METRICS_TOKEN", token}},
                                      "serve-metrics-token");
    httplib::Client c("127.0.0.1", port);
    c.set_connection_timeout(1);
    REQUIRE_MESSAGE(WaitFor(c, "/readyz", 200), ReadFile(serve->log_path()));
    auto anonymous = c.Get("/metrics");
    REQUIRE(anonymous);
    CHECK(anonymous->status == 401);
    CHECK(anonymous->body.find("STRATO_METRICS_TOKEN") != std::string::npos);
    CHECK(anonymous->body.find("strato_") == std::string::npos);
    CHECK(anonymous->get_header_value("WWW-Authenticate").rfind("Bearer", 0) == 0);
    for (const std::string& wrong : std::vector<std::string>{
             std::string("Bearer ") + token.substr(0, token.size() - 1), "Bearer " + token + "x",
             std::string("Bearer "), "Basic " + token, token}) {
      CAPTURE(wrong);
      auto r = c.Get("/metrics", {{"Authorization", wrong}});
      REQUIRE(r);
      CHECK(r->status == 401);
    }
    auto scraped = c.Get("/metrics", {{"Authorization", "Bearer " + token}});
    REQUIRE(scraped);
    CHECK(scraped->status == 200);
    CHECK(scraped->body.find("strato_log_position ") != std::string::npos);
    REQUIRE(serve->Kill(SIGTERM).ok());
    REQUIRE(serve->Wait(std::chrono::seconds(20)).ok());
  }
  {
    int port = test::FreePort();
    auto serve = SpawnProductionServe(db.url(), nats.url(), port, {}, "serve-metrics-none");
    httplib::Client c("127.0.0.1", port);
    c.set_connection_timeout(1);
    REQUIRE_MESSAGE(WaitFor(c, "/readyz", 200), ReadFile(serve->log_path()));
    auto refused = c.Get("/metrics", {{"Authorization", "Bearer " + token}});
    REQUIRE(refused);
    CHECK(refused->status == 403);
    CHECK_MESSAGE(refused->body.find("set STRATO_METRICS_TOKEN") != std::string::npos,
                  refused->body);
    REQUIRE(serve->Kill(SIGTERM).ok());
    REQUIRE(serve->Wait(std::chrono::seconds(20)).ok());
  }
}

TEST_CASE("serve refuses a bad trusted proxy or a short metrics token and names them") {
  auto run = [](std::map<std::string, std::string> extra) {
    std::map<std::string, std::string> env = {{"DATABASE_URL", "postgresql://127.0.0.1:1/x"},
                                              {"NATS_URL", "nats://127.0.0.1:1"},
                                              {"STRATO_ENV", "development"},
                                              {"STRATO_HTTP_ADDR", "127.0.0.1:1"}};
    for (auto& [k, v] : extra) env[k] = v;
    auto serve = Spawn({StratoBinary(), "serve"}, std::move(env), "serve-bad-proxy");
    auto code = serve->Wait(std::chrono::seconds(20));
    REQUIRE(code.ok());
    CHECK(*code == 2);
    return ReadFile(serve->log_path());
  };
  std::string proxy = run({{"STRATO_TRUSTED_PROXIES", "10.0.0.5, 10.0.0.0/33"}});
  CHECK_MESSAGE(proxy.find("STRATO_TRUSTED_PROXIES holds \"10.0.0.0/33\"") != std::string::npos,
                proxy);
  std::string token = run({{"STRATO_METRICS_TOKEN", "short"}});
  CHECK_MESSAGE(token.find("STRATO_METRICS_TOKEN is 5 characters long") != std::string::npos,
                token);
  std::string streams = run({{"STRATO_LIVE_STREAMS_PER_USER", "0"}});
  CHECK(streams.find("STRATO_LIVE_STREAMS_PER_USER") != std::string::npos);
}

namespace {

// The leader lock's key (kLeaderLockKey in events/leader/leader.h); pg_locks shows a bigint
// advisory key as classid (its high 32 bits) and objid (its low 32 bits), objsubid 1.
constexpr int64_t kLeaderLockKey = 0x5354524154'4f0003;

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A plain (core NATS, not JetStream) subscriber on the event subjects, as the were: it
// sees every message any relay publishes, also those the stream then refuses as out of order
// (a stream consumer would hide a second relay's copies).
class PlainEventCounter {
 public:
  explicit PlainEventCounter(events::NatsConnection& conn) {
    events::MessageSubscription::Options o;
    o.subject = events::kEventSubjects;
    auto sub = events::MessageSubscription::Start(conn, o, [this](const events::BusMessage& m) {
      std::string id = m.Header("Nats-Msg-Id");
      std::lock_guard<std::mutex> lock(mu_);
      ++copies_[id.empty() ? "(no id)" : id];
    });
    REQUIRE_MESSAGE(sub.ok(), sub.status().ToString());
    sub_ = std::move(*sub);
    REQUIRE(conn.Flush(std::chrono::seconds(5)).ok());
  }
  // Copies received per Nats-Msg-Id (the event id).
  std::map<std::string, int> copies() {
    std::lock_guard<std::mutex> lock(mu_);
    return copies_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, int> copies_;
  std::unique_ptr<events::MessageSubscription> sub_;  // last: it ends before the map does
};

}  // namespace

TEST_CASE(
    "serve stops its leader work when the leader lock's session is lost and never leads beside "
    "the next leader") {
  test::TestDatabase db;
  test::NatsServerProcess nats;
  REQUIRE(nats.Start().ok());
  events::NatsOptions nats_options;
  nats_options.url = nats.url();
  nats_options.name = "serve-test-plain";
  auto bus = events::NatsConnection::Connect(nats_options);
  REQUIRE_MESSAGE(bus.ok(), bus.status().ToString());
  PlainEventCounter counter(**bus);

  // Events keep coming in the background, through the takeover.
  std::atomic<bool> stop_appending{false};
  std::atomic<int> appended{0};
  std::thread appender([&] {
    while (!stop_appending) {
      events::AppendRequest r;
      r.streams.push_back(
          {"test-fence", events::ExpectedVersion::Any(), {{"SomethingHappened", "{}", "{}"}}});
      if (db.store().Append(r).ok()) ++appended;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  struct JoinAppender {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~JoinAppender() {
      stop = true;
      if (thread.joinable()) thread.join();
    }
  } join_appender{stop_appending, appender};

  int port_a = test::FreePort(), port_b = test::FreePort();
  auto a = SpawnServe(db.url(), nats.url(), port_a, "serve-fence-a");
  auto b = SpawnServe(db.url(), nats.url(), port_b, "serve-fence-b");
  const std::string leads = "this instance leads";
  const std::string stopped = "lost the leader lock's PostgreSQL session; leader work stopped";
  auto leads_in_all = [&] {
    return Count(ReadFile(a->log_path()), leads) + Count(ReadFile(b->log_path()), leads);
  };
  auto wait_until = [](const std::function<bool()>& done, int seconds) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
  };
  REQUIRE_MESSAGE(wait_until([&] { return leads_in_all() == 1; }, 15),
                  ReadFile(a->log_path()) << ReadFile(b->log_path()));
  test::ChildProcess* old_leader = Count(ReadFile(a->log_path()), leads) == 1 ? a.get() : b.get();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the leader publishes a while

  // Cut the leader's lock session, as a PostgreSQL restart or a network fault would.
  auto admin = db.Connect();
  auto killed = admin->Exec(
      "SELECT pid, pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND "
      "database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND "
      "classid = $1::bigint::oid AND objid = $2::bigint::oid AND objsubid = 1 AND granted",
      {std::to_string(static_cast<uint64_t>(kLeaderLockKey) >> 32),
       std::to_string(static_cast<uint64_t>(kLeaderLockKey) & 0xffffffffu)});
  REQUIRE_MESSAGE(killed.ok(), killed.status().ToString());
  REQUIRE(killed->rows() == 1);
  CHECK(killed->Get(0, 1) == "t");
  auto cut_at = std::chrono::steady_clock::now();

  // The old leader notices and stops its relay, scheduler and host control plane promptly.
  REQUIRE_MESSAGE(
      wait_until(
          [&] { return ReadFile(old_leader->log_path()).find(stopped) != std::string::npos; }, 10),
      ReadFile(old_leader->log_path()));
  auto noticed_in = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - cut_at);
  MESSAGE("leader work stopped " << noticed_in.count() << " ms after the session was cut");
  CHECK(noticed_in < std::chrono::milliseconds(3000));

  // An instance (either) takes the lock on a fresh session and leads, in a new term.
  REQUIRE_MESSAGE(wait_until([&] { return leads_in_all() == 2; }, 15),
                  ReadFile(a->log_path()) << ReadFile(b->log_path()));
  auto terms = admin->Exec("SELECT string_agg(term::text, ',' ORDER BY term) FROM leader_terms");
  REQUIRE(terms.ok());
  CHECK(terms->Get(0, 0) == "1,2");
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  stop_appending = true;
  appender.join();
  REQUIRE(appended > 20);

  // Every event reached the plain subscriber exactly once: no two relays ever ran together.
  auto log = db.store().ReadAll(0, 100000);
  REQUIRE(log.ok());
  const auto total = static_cast<int64_t>(log->size());
  REQUIRE(total == appended);
  REQUIRE_MESSAGE(wait_until(
                      [&] {
                        auto last = events::StreamLastSequence(**bus, events::kEventStreamName);
                        return last.ok() && *last == total;
                      },
                      15),
                  ReadFile(a->log_path()) << ReadFile(b->log_path()));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a late copy would arrive now
  std::map<std::string, int> copies = counter.copies();
  int twice = 0;
  for (const events::RecordedEvent& e : *log) {
    auto it = copies.find(e.event_id.ToString());
    int n = it == copies.end() ? 0 : it->second;
    if (n != 1 && ++twice <= 5) CHECK_MESSAGE(n == 1, "event " << e.position << " came " << n);
  }
  CHECK(twice == 0);
  CHECK(copies.size() == log->size());
  auto state = events::GetStreamState(**bus, events::kEventStreamName);
  REQUIRE(state.ok());
  CHECK(state->messages == total);
  CHECK(state->last_sequence == total);

  REQUIRE(a->Kill(SIGTERM).ok());
  REQUIRE(b->Kill(SIGTERM).ok());
  auto code_a = a->Wait(std::chrono::seconds(20));
  auto code_b = b->Wait(std::chrono::seconds(20));
  REQUIRE(code_a.ok());
  REQUIRE(code_b.ok());
  CHECK(*code_a == 0);
  CHECK(*code_b == 0);
}

TEST_CASE(
    "every serve instance answers host requests so a host registers at once after the leader "
    "dies") {
  test::TestDatabase db;
  test::NatsServerProcess nats;
  REQUIRE(nats.Start().ok());
  events::NatsOptions nats_options;
  nats_options.url = nats.url();
  nats_options.name = "serve-test-host";
  auto bus = events::NatsConnection::Connect(nats_options);
  REQUIRE_MESSAGE(bus.ok(), bus.status().ToString());

  const int port_a = test::FreePort(), port_b = test::FreePort();
  auto a = SpawnServe(db.url(), nats.url(), port_a, "serve-hosts-a");
  auto b = SpawnServe(db.url(), nats.url(), port_b, "serve-hosts-b");
  const std::string leads = "this instance leads";
  const std::string serving = "serving host requests";
  auto wait_until = [](const std::function<bool()>& done, int seconds) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
  };
  // Both answer requests; one of them leads.
  REQUIRE_MESSAGE(wait_until(
                      [&] {
                        return Count(ReadFile(a->log_path()), serving) >= 1 &&
                               Count(ReadFile(b->log_path()), serving) >= 1 &&
                               Count(ReadFile(a->log_path()) + ReadFile(b->log_path()), leads) == 1;
                      },
                      20),
                  ReadFile(a->log_path()) << ReadFile(b->log_path()));
  const bool a_leads = Count(ReadFile(a->log_path()), leads) == 1;
  test::ChildProcess* leader = a_leads ? a.get() : b.get();
  test::ChildProcess* follower = a_leads ? b.get() : a.get();

  // /readyz and /metrics say which instance leads, in which term and since when.
  auto get = [](int port, const char* path) {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(10, 0);
    auto r = c.Get(path);
    REQUIRE(r);
    return r->body;
  };
  const int leader_port = a_leads ? port_a : port_b, follower_port = a_leads ? port_b : port_a;
  std::string ready = get(leader_port, "/readyz");
  CHECK_MESSAGE(
      ready.find("\"leader\":{\"leading\":true,\"term\":1,\"since\":\"") != std::string::npos,
      ready);
  CHECK(get(follower_port, "/readyz").find("\"leader\":{\"leading\":false}") != std::string::npos);
  CHECK(get(leader_port, "/metrics").find("\nstrato_leader 1\n") != std::string::npos);
  CHECK(get(leader_port, "/metrics").find("\nstrato_leader_term 1\n") != std::string::npos);
  CHECK(get(follower_port, "/metrics").find("\nstrato_leader 0\n") != std::string::npos);

  auto register_host = [&](const std::string& id) {
    const std::string body = events::EncodeRegistration(
        {"hv-" + id.substr(0, 8), "10.0.0.7", 8, 16384, 200, "cloud-hypervisor", "38.0", 1000});
    return (*bus)->Request(events::HostRpcSubject(id, "register"), body, std::chrono::seconds(2));
  };
  auto first = register_host(Uuid::NewV4().ToString());
  REQUIRE_MESSAGE(first.ok(), first.status().ToString());
  CHECK(events::ReplyStatus(*first).ok());

  // The leader dies; before anyone could take its place (a new leader waits 2 s after taking
  // the lock), the follower already answers.
  REQUIRE(leader->Kill(SIGKILL).ok());
  (void)leader->Wait(std::chrono::seconds(10));
  auto killed_at = std::chrono::steady_clock::now();
  auto second = register_host(Uuid::NewV4().ToString());
  auto answered_in = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - killed_at);
  REQUIRE_MESSAGE(second.ok(), second.status().ToString() << ReadFile(follower->log_path()));
  CHECK(events::ReplyStatus(*second).ok());
  MESSAGE("a host registered " << answered_in.count() << " ms after the leader was killed");
  CHECK(answered_in < std::chrono::milliseconds(2000));
  auto registered = db.Connect()->Exec("SELECT count(*) FROM events WHERE type = 'HostRegistered'");
  REQUIRE(registered.ok());
  CHECK(registered->Get(0, 0) == "2");

  REQUIRE(follower->Kill(SIGTERM).ok());
  auto code = follower->Wait(std::chrono::seconds(20));
  REQUIRE(code.ok());
  CHECK(*code == 0);
}
