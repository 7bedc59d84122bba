// bench_live: live updates and the VM list under load, against a real `strato serve` (spawned,
// on a scratch database) over real HTTP.
//
// 1. Fan-out: 100 users in 10 organizations (10 each) hold one live-update stream each
//    (GET /api/v1/events/stream); four threads issue 200 commands/s (start or stop one of the
//    1,000 VMs, 100 per organization) through DomainCommands for 10 s. Every client must
//    receive every event of its organization's VMs and none of another's; the latency is from
//    the command's return to the client's receipt (p50, p99, max). Baseline, measured in the
//    same run: the same load with one client. Target: p99 <= 50 ms with 100 clients.
// 2. The VM list page (GET /vms, HTML, 1,000 VMs shown) and the JSON list (GET /api/v1/vms)
//    under wrk (2 threads, 16 connections, 10 s), signed in as a member of all 10
//    organizations. Baseline: GET /healthz in the same run. Target: >= 2,000 requests/s for
//    the page.
//
//   DATABASE_URL=... NATS_URL=... bench_live
//   env: BENCH_LIVE_CLIENTS (100), BENCH_LIVE_RATE (200), BENCH_LIVE_SECONDS (10),
//        STRATO_BIN (build/strato), BENCH_WRK_SECONDS (10; 0 skips wrk)
//
// Not a test: nothing here passes or fails; it prints figures and what went missing.
#include <rapidjson/document.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/domain/organization.h"
#include "core/domain/user.h"
#include "core/domain/vm.h"
#include "core/ids.h"
#include "core/log.h"
#include "events/commands/domain_commands.h"
#include "events/pg/pg_event_store.h"
#include "events/pg/pg_pool.h"
#include "http/auth/auth_store.h"
#include "test/support/process.h"
#include "test/support/scratch_db.h"
#include "test/support/sse_client.h"

using namespace strato;
namespace d = strato::domain;
using Steady = std::chrono::steady_clock;

namespace {

[[noreturn]] void Die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "bench_live: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  int n = std::atoi(v);
  return n >= 0 ? n : fallback;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

events::CommandContext Ctx(const std::string& actor) {
  events::CommandContext c;
  c.command_id = Uuid::NewV4();
  c.actor = actor;
  return c;
}

struct World {
  std::vector<std::string> users;  // user ids
  std::vector<int> user_org;       // org index of each user
  std::vector<std::string> orgs;   // org ids
  std::vector<std::string> vms;    // vm ids
  std::vector<int> vm_org;         // org index of each VM
  std::string viewer;              // member of every organization
  // Desired state of each VM as the load left it (char, not bool: each load thread writes its
  // own elements).
  std::vector<char> running;
};

World Build(events::DomainCommands& commands, int orgs, int users_per_org, int vms_per_org) {
  World w;
  auto must = [](const Result<events::CommandOutcome>& r, const char* what) {
    if (!r.ok()) Die(what, r.status());
  };
  auto user = [&](const std::string& name) {
    std::string id = Uuid::NewV4().ToString();
    must(commands.User(Ctx("system"), id, d::RegisterUser{id, name, name, std::nullopt}),
         "registering a user");
    return id;
  };
  w.viewer = user("viewer");
  for (int o = 0; o < orgs; ++o) {
    std::string owner = user("owner-" + std::to_string(o));
    std::string org = Uuid::NewV4().ToString();
    must(commands.Organization(Ctx("user-" + owner), org,
                               d::CreateOrganization{org, "Org " + std::to_string(o)}),
         "creating an organization");
    w.orgs.push_back(org);
    w.users.push_back(owner);
    w.user_org.push_back(o);
    for (int u = 1; u < users_per_org; ++u) {
      std::string member = user("member-" + std::to_string(o) + "-" + std::to_string(u));
      must(commands.Organization(Ctx("user-" + owner), org, d::AddMember{member}),
           "adding a member");
      w.users.push_back(member);
      w.user_org.push_back(o);
    }
    must(commands.Organization(Ctx("user-" + owner), org, d::AddMember{w.viewer}),
         "adding the viewer");
    for (int v = 0; v < vms_per_org; ++v) {
      std::string vm = Uuid::NewV4().ToString();
      d::CreateVm c;
      c.vm_id = vm;
      c.org_id = org;
      c.name = "vm-" + std::to_string(o) + "-" + std::to_string(v);
      c.image = "debian-12";
      c.start = false;
      must(commands.Vm(Ctx("user-" + owner), vm, c), "creating a VM");
      w.vms.push_back(vm);
      w.vm_org.push_back(o);
    }
  }
  w.running.assign(w.vms.size(), 0);
  return w;
}

struct Sent {
  int org = 0;
  Steady::time_point returned;
};

struct FanOut {
  int commands = 0;
  double achieved_rate = 0;
  std::vector<double> latency_ms;
  long missing = 0;     // events a client may see that it did not receive
  long unexpected = 0;  // events a client received that it may not see
};

// Runs the command load with `clients` (indexes into world.users) connected.
FanOut RunFanOut(events::DomainCommands& commands, World& w, int port,
                 const std::vector<std::string>& cookies, const std::vector<int>& clients,
                 double rate, double seconds) {
  std::vector<std::unique_ptr<test::SseClient>> streams;
  for (int c : clients) {
    streams.push_back(std::make_unique<test::SseClient>(
        port, httplib::Headers{{"Cookie", cookies[static_cast<size_t>(c)]}}));
  }
  for (auto& s : streams) {
    int status = s->WaitStatus(std::chrono::seconds(30));
    if (status != 200) {
      Die("opening a live stream",
          Status::Unavailable("status " + std::to_string(status) + ": " + s->body()));
    }
  }

  std::mutex mu;
  std::map<int64_t, Sent> sent;
  constexpr int kThreads = 4;
  const auto interval = std::chrono::duration<double>(kThreads / rate);
  const auto begin = Steady::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t + 1));
      auto next = begin + std::chrono::duration_cast<Steady::duration>(interval * t / kThreads);
      while (std::chrono::duration<double>(Steady::now() - begin).count() < seconds) {
        std::this_thread::sleep_until(next);
        next += std::chrono::duration_cast<Steady::duration>(interval);
        // Each thread owns the VMs whose index is t modulo kThreads: no two commands race.
        size_t i = (rng() % (w.vms.size() / kThreads)) * kThreads + static_cast<size_t>(t);
        auto ctx = Ctx(
            "user-" + w.users[static_cast<size_t>(w.vm_org[i]) * (w.users.size() / w.orgs.size())]);
        auto out = w.running[i] ? commands.Vm(ctx, w.vms[i], d::StopVm{})
                                : commands.Vm(ctx, w.vms[i], d::StartVm{});
        auto returned = Steady::now();
        if (!out.ok()) Die("a command", out.status());
        w.running[i] = !w.running[i];
        std::lock_guard<std::mutex> lock(mu);
        for (const events::RecordedEvent& e : out->events) {
          sent[e.position] = Sent{w.vm_org[i], returned};
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  FanOut r;
  r.commands = static_cast<int>(sent.size());
  r.achieved_rate = sent.size() / std::chrono::duration<double>(Steady::now() - begin).count();

  // Each client expects its organization's events; wait for the last of them.
  for (size_t k = 0; k < streams.size(); ++k) {
    int org = w.user_org[static_cast<size_t>(clients[k])];
    int64_t last = 0;
    for (const auto& [p, s] : sent) {
      if (s.org == org) last = p;
    }
    if (last == 0) continue;
    (void)streams[k]->WaitFor(
        [last](const test::SseMessage& m) { return m.id == std::to_string(last); },
        std::chrono::seconds(15));
  }
  for (size_t k = 0; k < streams.size(); ++k) {
    int org = w.user_org[static_cast<size_t>(clients[k])];
    std::map<int64_t, Steady::time_point> got;
    for (const test::SseMessage& m : streams[k]->Messages()) {
      if (m.event != "change") continue;
      got[std::stoll(m.id)] = m.received;
    }
    for (const auto& [p, s] : sent) {
      auto it = got.find(p);
      if (s.org != org) {
        if (it != got.end()) r.unexpected++;
        continue;
      }
      if (it == got.end()) {
        r.missing++;
        continue;
      }
      double ms = std::chrono::duration<double, std::milli>(it->second - s.returned).count();
      r.latency_ms.push_back(std::max(0.0, ms));
    }
  }
  return r;
}

void PrintFanOut(const char* label, const FanOut& f, size_t clients) {
  std::printf(
      "%s: %zu clients, %d events at %.0f/s: %zu deliveries, p50 %.2f ms, p99 %.2f ms, max %.2f "
      "ms; missing %ld, not theirs %ld\n",
      label, clients, f.commands, f.achieved_rate, f.latency_ms.size(),
      Percentile(f.latency_ms, 0.5), Percentile(f.latency_ms, 0.99),
      f.latency_ms.empty() ? 0 : *std::max_element(f.latency_ms.begin(), f.latency_ms.end()),
      f.missing, f.unexpected);
}

// wrk's requests/s for `path` (0 when wrk failed), with its non-2xx count.
double Wrk(int port, const std::string& path, const std::string& cookie, int seconds,
           long* non_2xx) {
  std::string cmd = "wrk -t2 -c16 -d" + std::to_string(seconds) + "s -H 'Cookie: " + cookie +
                    "' http://127.0.0.1:" + std::to_string(port) + path + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return 0;
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
  pclose(p);
  *non_2xx = 0;
  size_t n = out.find("Non-2xx or 3xx responses:");
  if (n != std::string::npos) *non_2xx = std::atol(out.c_str() + n + 25);
  size_t r = out.find("Requests/sec:");
  if (r == std::string::npos) {
    std::fprintf(stderr, "bench_live: wrk said:\n%s\n", out.c_str());
    return 0;
  }
  return std::atof(out.c_str() + r + 13);
}

}  // namespace

int main() {
  log::SetMinLevel(log::Level::kWarn);
  const char* admin = std::getenv("DATABASE_URL");
  const char* nats = std::getenv("NATS_URL");
  if (admin == nullptr || *admin == '\0' || nats == nullptr || *nats == '\0') {
    std::fprintf(stderr, "bench_live: DATABASE_URL and NATS_URL must be set (./ops/bench does)\n");
    return 2;
  }
  const int clients = std::max(1, EnvInt("BENCH_LIVE_CLIENTS", 100));
  const double rate = std::max(1, EnvInt("BENCH_LIVE_RATE", 200));
  const double seconds = std::max(1, EnvInt("BENCH_LIVE_SECONDS", 10));
  const int wrk_seconds = EnvInt("BENCH_WRK_SECONDS", 10);
  const char* bin_env = std::getenv("STRATO_BIN");
  std::string bin = bin_env != nullptr && *bin_env ? bin_env : STRATO_BINARY_DIR "/strato";

  auto url = test::CreateScratchDatabase(admin, "strato_bench_live_");
  if (!url.ok()) Die("creating a database", url.status());
  auto store = events::PgEventStore::Open(*url);
  if (!store.ok()) Die("opening the store", store.status());
  events::DomainCommands commands(**store);
  const int orgs = 10;
  const int per_org = (clients + orgs - 1) / orgs;
  World w = Build(commands, orgs, per_org, 100);
  std::printf("world: %zu users in %zu organizations, %zu VMs\n", w.users.size(), w.orgs.size(),
              w.vms.size());

  auto dir = test::TempDir::Make("bench_live_");
  if (!dir.ok()) Die("a temp dir", dir.status());
  int port = test::FreePort();
  test::ChildOptions o;
  o.argv = {bin, "serve"};
  o.env = {{"DATABASE_URL", *url},
           {"NATS_URL", nats},
           {"STRATO_HTTP_ADDR", "127.0.0.1:" + std::to_string(port)},
           {"STRATO_ENV", "development"}};
  o.log_path = (*dir)->path() + "/serve.log";
  auto serve = test::ChildProcess::Spawn(o);
  if (!serve.ok()) Die("starting strato serve", serve.status());
  Status up = test::WaitForPort(port, std::chrono::seconds(60));
  if (!up.ok()) Die("waiting for strato serve (log: " + o.log_path + ")", up);

  // Sessions straight from the sign-in store (the passkey ceremonies are not what is measured).
  events::PgPool pool(*url, 2);
  http::AuthStore auth(pool);
  std::vector<std::string> cookies;
  for (const std::string& u : w.users) {
    auto s = auth.StartSession(u, "", "127.0.0.1", "bench_live");
    if (!s.ok()) Die("starting a session", s.status());
    cookies.push_back(std::string("strato_session=") + s->token);
  }
  auto viewer_session = auth.StartSession(w.viewer, "", "127.0.0.1", "bench_live");
  if (!viewer_session.ok()) Die("starting a session", viewer_session.status());
  std::string viewer_cookie = std::string("strato_session=") + viewer_session->token;
  // Wait until serve's read models know every user and VM (the session check reads users).
  httplib::Client http("127.0.0.1", port);
  for (int i = 0;; ++i) {
    auto r = http.Get("/api/v1/vms?limit=1000", {{"Cookie", viewer_cookie}});
    if (r && r->status == 200) {
      rapidjson::Document doc;
      doc.Parse(r->body.c_str());
      if (doc.IsObject() && doc.HasMember("vms") && doc["vms"].Size() == w.vms.size()) break;
    }
    if (i > 600) Die("waiting for the read models", Status::DeadlineExceeded("60 s"));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  std::vector<int> one = {0};
  std::vector<int> all;
  for (int i = 0; i < clients && i < static_cast<int>(w.users.size()); ++i) all.push_back(i);
  FanOut base = RunFanOut(commands, w, port, cookies, one, rate, std::min(seconds, 5.0));
  PrintFanOut("live updates, baseline", base, one.size());
  FanOut full = RunFanOut(commands, w, port, cookies, all, rate, seconds);
  PrintFanOut("live updates", full, all.size());
  double b99 = Percentile(base.latency_ms, 0.99), f99 = Percentile(full.latency_ms, 0.99);
  std::printf(
      "live updates p99: %.2f ms with %zu clients vs %.2f ms with 1 (ratio %.2f); "
      "target <= 50 ms\n",
      f99, all.size(), b99, b99 > 0 ? f99 / b99 : 0.0);

  if (wrk_seconds > 0) {
    long bad = 0;
    double health = Wrk(port, "/healthz", viewer_cookie, wrk_seconds, &bad);
    std::printf("GET /healthz (baseline): %.0f requests/s (non-2xx %ld)\n", health, bad);
    double page = Wrk(port, "/vms", viewer_cookie, wrk_seconds, &bad);
    std::printf(
        "GET /vms (HTML, %zu VMs): %.0f requests/s (non-2xx %ld), ratio to baseline %.3f; "
        "target >= 2000\n",
        w.vms.size(), page, bad, health > 0 ? page / health : 0.0);
    double api = Wrk(port, "/api/v1/vms?limit=1000", viewer_cookie, wrk_seconds, &bad);
    std::printf(
        "GET /api/v1/vms?limit=1000 (JSON): %.0f requests/s (non-2xx %ld), ratio to "
        "baseline %.3f\n",
        api, bad, health > 0 ? api / health : 0.0);
  }

  (void)(*serve)->Kill(SIGTERM);
  (void)(*serve)->Wait(std::chrono::seconds(20));
  test::DropDatabaseUnlessKept(admin, *url);
  return 0;
}
