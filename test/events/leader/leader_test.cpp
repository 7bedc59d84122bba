// Leader election and fencing (events/leader/) against a real PostgreSQL (TestDatabase) and a
// nats-server of the test's own. The end-to-end fencing of `strato serve` instances is in
// test/http/cli/serve_test.cpp; these check the library's parts directly. Every wait is bounded.
#include "events/leader/leader.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "test/support/process.h"
#include "test/support/test_env.h"

using namespace strato;
using namespace strato::events;
using namespace std::chrono_literals;

namespace {

bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

}  // namespace

TEST_CASE("the leader's session watch returns when its time is up or it is stopped") {
  test::TestDatabase db;
  auto conn = ConnectLeaderSession(db.url());
  REQUIRE(conn.ok());
  std::atomic<bool> stop{false};
  auto t0 = std::chrono::steady_clock::now();
  CHECK(WatchLeaderSession(**conn, t0 + 1200ms, stop).ok());
  CHECK(std::chrono::steady_clock::now() - t0 >= 1200ms);
  stop = true;
  t0 = std::chrono::steady_clock::now();
  CHECK(WatchLeaderSession(**conn, std::chrono::steady_clock::time_point::max(), stop).ok());
  CHECK(std::chrono::steady_clock::now() - t0 < 500ms);
}

TEST_CASE("the leader's session watch fails within about a second when the session is cut") {
  test::TestDatabase db;
  auto conn = ConnectLeaderSession(db.url());
  REQUIRE(conn.ok());
  auto pid = (*conn)->Exec("SELECT pg_backend_pid()");
  REQUIRE(pid.ok());
  const std::string backend(pid->Get(0, 0));
  std::atomic<bool> stop{false};
  Status watched;
  std::chrono::steady_clock::time_point returned;
  std::thread watcher([&] {
    watched = WatchLeaderSession(**conn, std::chrono::steady_clock::now() + 30s, stop);
    returned = std::chrono::steady_clock::now();
  });
  std::this_thread::sleep_for(700ms);
  auto admin = db.Connect();
  auto cut = std::chrono::steady_clock::now();
  REQUIRE(admin->Exec("SELECT pg_terminate_backend($1::int)", {backend}).ok());
  watcher.join();
  CHECK_FALSE(watched.ok());
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(returned - cut);
  MESSAGE("the watch failed " << took.count() << " ms after the session was cut");
  CHECK(took < kLeaderCheckEvery + kLeaderCheckTimeout + 500ms);
}

TEST_CASE("one of two leaders leads in a recorded term and the other takes over when it stops") {
  test::TestDatabase db;
  test::NatsServerProcess nats;
  REQUIRE(nats.Start().ok());
  auto options = [&](const std::string& instance) {
    LeaderOptions o;
    o.database_url = db.url();
    o.nats_url = nats.url();
    o.instance = instance;
    return o;
  };
  auto a = std::make_unique<Leader>(db.store(), options("leader-a"));
  Leader b(db.store(), options("leader-b"));
  auto t0 = std::chrono::steady_clock::now();
  a->Start();
  REQUIRE(WaitUntil([&] { return a->state().Get().leading; }, 30s));
  // A new leader waits kLeaderTakeover after taking the lock before it acts.
  CHECK(std::chrono::steady_clock::now() - t0 >= kLeaderTakeover);
  LeaderStatus first = a->state().Get();
  CHECK(first.term == 1);
  CHECK(first.since.size() == 20);  // YYYY-MM-DDTHH:MM:SSZ
  b.Start();
  std::this_thread::sleep_for(kLeaderTakeover + 1s);
  CHECK_FALSE(b.state().Get().leading);
  CHECK(b.relay().Published() == std::nullopt);
  CHECK(WaitUntil([&] { return a->relay().Published().has_value(); }, 10s));

  a->Stop();
  CHECK_FALSE(a->state().Get().leading);
  a.reset();
  REQUIRE(WaitUntil([&] { return b.state().Get().leading; }, 30s));
  CHECK(b.state().Get().term == 2);
  auto admin = db.Connect();
  auto terms = admin->Exec(
      "SELECT string_agg(term::text || ' ' || instance, ',' ORDER BY term) "
      "FROM leader_terms");
  REQUIRE(terms.ok());
  CHECK(terms->Get(0, 0) == "1 leader-a,2 leader-b");
  b.Stop();
}
