// The projection runner against a real PostgreSQL (TestDatabase): checkpoints committed with
// the rows, a failing projection stopping alone, read-your-writes waits, rebuilds, two runners
// at once, wake-ups from the bus; and the audit projection through the declarative harness.
// Every wait is bounded.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "core/ids.h"
#include "events/bus/nats_bus.h"
#include "events/bus/relay.h"
#include "projections/models/audit_projection.h"
#include "projections/runner/runner.h"
#include "test/support/process.h"
#include "test/support/projection_harness.h"
#include "test/support/test_env.h"

using namespace strato;
using namespace strato::events;
using namespace strato::projections;
using namespace std::chrono_literals;

namespace {

constexpr auto kWait = 60s;

// What a CountingProjection does besides counting.
struct Behaviour {
  int64_t refuse_position = 0;         // refuses the event at this position (0: none)
  int64_t disconnect_position = 0;     // terminates its session at this position, once
  std::chrono::microseconds delay{0};  // per event
};

// A test projection: one row per event in its own table, with no key, so that an event
// applied twice shows as a duplicate row. It can refuse an event, kill its own connection
// once, or dawdle, as a test asks.
class CountingProjection final : public Projection {
 public:
  explicit CountingProjection(std::string name, Behaviour behaviour = {})
      : name_(std::move(name)), table_("test_" + name_), behaviour_(behaviour) {}

  static std::string CreateTableSql(const std::string& name) {
    return "CREATE TABLE IF NOT EXISTS test_" + name + " (position bigint NOT NULL, type text)";
  }

  const std::string& name() const override { return name_; }
  std::vector<std::string> tables() const override { return {table_}; }

  Status Apply(PgConnection& tx, const RecordedEvent& e) override {
    if (behaviour_.delay.count() > 0) std::this_thread::sleep_for(behaviour_.delay);
    if (e.position == behaviour_.refuse_position) {
      return Status::Internal("refused on purpose");
    }
    if (e.position == behaviour_.disconnect_position && !disconnected_.exchange(true)) {
      (void)tx.Run("SELECT pg_terminate_backend(pg_backend_pid())");
      return Status::Unavailable("the test cut the connection");
    }
    auto r = tx.ExecPrepared(
        name_ + "_insert",
        "INSERT INTO " + QuoteIdentifier(table_) + " (position, type) VALUES ($1, $2)",
        {std::to_string(e.position), e.type});
    return r.ok() ? Status::Ok() : r.status();
  }

  bool disconnected() const { return disconnected_.load(); }

 private:
  std::string name_;
  std::string table_;
  Behaviour behaviour_;
  std::atomic<bool> disconnected_{false};
};

void CreateTable(test::TestDatabase& db, const std::string& name) {
  auto conn = db.Connect();
  Status s = conn->Run(CountingProjection::CreateTableSql(name));
  REQUIRE_MESSAGE(s.ok(), s.ToString());
}

// Appends `total` events, `per_append` per append to one new stream each.
int64_t AppendMany(EventStore& store, int total, int per_append = 50) {
  int64_t last = 0;
  for (int done = 0; done < total; done += per_append) {
    AppendRequest req;
    StreamAppend sa;
    sa.stream_id = (done / per_append) % 2 == 0 ? "vm-" + Uuid::NewV4().ToString()
                                                : "host-" + Uuid::NewV4().ToString();
    for (int k = 0; k < per_append && done + k < total; ++k) {
      NewEvent e;
      e.type = k == 0 ? "Created" : "Changed";
      e.data = "{\"name\":\"thing-" + std::to_string(done + k) +
               "\",\"n\":" + std::to_string(done + k) + "}";
      e.metadata = "{\"actor\":\"user-" + std::to_string((done + k) % 3) + "\"}";
      sa.events.push_back(std::move(e));
    }
    req.streams.push_back(std::move(sa));
    auto r = store.Append(std::move(req));
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    last = r->last_position;
  }
  return last;
}

int64_t AppendOne(EventStore& store, const std::string& type, const std::string& data = "{}") {
  AppendRequest req;
  StreamAppend sa;
  sa.stream_id = "org-" + Uuid::NewV4().ToString();
  NewEvent e;
  e.type = type;
  e.data = data;
  sa.events.push_back(std::move(e));
  req.streams.push_back(std::move(sa));
  auto r = store.Append(std::move(req));
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return r->last_position;
}

std::unique_ptr<ProjectionRunner> MakeRunner(test::TestDatabase& db,
                                             std::vector<std::unique_ptr<Projection>> ps,
                                             size_t batch_size = 1000,
                                             NatsConnection* bus = nullptr, bool waiter = true) {
  RunnerOptions options;
  options.database_url = db.url();
  options.batch_size = batch_size;
  options.retry_wait = 100ms;
  options.bus = bus;
  if (!waiter) options.idle_wait = 60s;  // only the bus can wake it in time
  auto runner = ProjectionRunner::Create(db.store(), waiter ? db.NewWaiter() : nullptr,
                                         std::move(ps), options);
  REQUIRE_MESSAGE(runner.ok(), runner.status().ToString());
  return std::move(runner).value();
}

std::vector<std::unique_ptr<Projection>> Projections(std::unique_ptr<Projection> a,
                                                     std::unique_ptr<Projection> b = nullptr) {
  std::vector<std::unique_ptr<Projection>> out;
  out.push_back(std::move(a));
  if (b) out.push_back(std::move(b));
  return out;
}

int64_t QueryInt(PgConnection& conn, const std::string& sql,
                 const std::vector<std::string>& params = {}) {
  auto r = conn.Exec(sql, params);
  REQUIRE_MESSAGE(r.ok(), sql << ": " << r.status().ToString());
  REQUIRE(r->rows() == 1);
  return r->IsNull(0, 0) ? -1 : r->GetInt64(0, 0);
}

int64_t Checkpoint(PgConnection& conn, const std::string& name) {
  return QueryInt(conn, "SELECT position FROM projection_checkpoints WHERE name = $1", {name});
}

// The counting table holds exactly the events 1..checkpoint, each once.
void CheckCountsMatchCheckpoint(PgConnection& conn, const std::string& name) {
  int64_t checkpoint = Checkpoint(conn, name);
  INFO("projection " << name << " at checkpoint " << checkpoint);
  CHECK(QueryInt(conn, "SELECT count(*) FROM test_" + name) == checkpoint);
  CHECK(QueryInt(conn, "SELECT count(DISTINCT position) FROM test_" + name) == checkpoint);
  CHECK(QueryInt(conn, "SELECT coalesce(max(position), 0) FROM test_" + name) == checkpoint);
}

bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = kWait) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("projection runner stopped mid-way and restarted applies each event exactly once") {
  test::TestDatabase db;
  CreateTable(db, "counter");
  const int64_t total = AppendMany(db.store(), 3000);
  auto conn = db.Connect();
  for (int round = 0; round < 3; ++round) {
    Behaviour slow;
    slow.delay = 50us;
    auto runner =
        MakeRunner(db, Projections(std::make_unique<CountingProjection>("counter", slow)), 100);
    REQUIRE(runner->Start().ok());
    const int64_t target = 700 * (round + 1);
    REQUIRE(WaitUntil([&] { return *runner->Position("counter") >= target; }));
    runner->Stop();
    int64_t stopped_at = *runner->Position("counter");
    MESSAGE("round " << round << ": stopped at position " << stopped_at);
    CHECK(stopped_at < total);  // it really stopped mid-way
    CHECK(Checkpoint(*conn, "counter") == stopped_at);
    CheckCountsMatchCheckpoint(*conn, "counter");
  }
  auto runner = MakeRunner(db, Projections(std::make_unique<CountingProjection>("counter")), 100);
  REQUIRE(runner->Start().ok());
  Status s = runner->WaitFor("counter", total, kWait);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  runner->Stop();
  CHECK(Checkpoint(*conn, "counter") == total);
  CheckCountsMatchCheckpoint(*conn, "counter");
}

TEST_CASE("projection runner rolls back a batch whose connection died and applies it once") {
  test::TestDatabase db;
  CreateTable(db, "counter");
  const int64_t total = AppendMany(db.store(), 2000);
  Behaviour cut;
  cut.disconnect_position = 1234;
  auto projection = std::make_unique<CountingProjection>("counter", cut);
  CountingProjection* counter = projection.get();
  auto runner = MakeRunner(db, Projections(std::move(projection)), 500);
  REQUIRE(runner->Start().ok());
  Status s = runner->WaitFor("counter", total, kWait);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  runner->Stop();
  CHECK(counter->disconnected());
  auto conn = db.Connect();
  CHECK(Checkpoint(*conn, "counter") == total);
  CheckCountsMatchCheckpoint(*conn, "counter");
  for (const ProjectionState& st : runner->States()) {
    CHECK_FALSE(st.stopped);
    CHECK(st.error.empty());
  }
}

TEST_CASE("two runners folding the same projection at once apply each event once") {
  test::TestDatabase db;
  CreateTable(db, "counter");
  const int64_t total = AppendMany(db.store(), 3000);
  auto one = MakeRunner(db, Projections(std::make_unique<CountingProjection>("counter")), 50);
  auto two = MakeRunner(db, Projections(std::make_unique<CountingProjection>("counter")), 70);
  REQUIRE(one->Start().ok());
  REQUIRE(two->Start().ok());
  // Each sees its own commits; the checkpoint row is where both meet.
  auto conn = db.Connect();
  REQUIRE(WaitUntil([&] { return Checkpoint(*conn, "counter") == total; }));
  const int64_t more = AppendMany(db.store(), 500);
  REQUIRE(WaitUntil([&] { return Checkpoint(*conn, "counter") == more; }));
  one->Stop();
  two->Stop();
  CheckCountsMatchCheckpoint(*conn, "counter");
}

TEST_CASE(
    "a failing projection stops at the failing event with the error recorded while another "
    "continues") {
  test::TestDatabase db;
  CreateTable(db, "bad");
  CreateTable(db, "good");
  AppendMany(db.store(), 20, 5);
  Behaviour refuse;
  refuse.refuse_position = 8;
  auto runner = MakeRunner(db, Projections(std::make_unique<CountingProjection>("bad", refuse),
                                           std::make_unique<CountingProjection>("good")));
  REQUIRE(runner->Start().ok());
  Status good = runner->WaitFor("good", 20, kWait);
  CHECK_MESSAGE(good.ok(), good.ToString());

  // Waiting for the stopped one fails at once, saying why.
  auto started = std::chrono::steady_clock::now();
  Status bad = runner->WaitFor("bad", 20, kWait);
  CHECK(std::chrono::steady_clock::now() - started < 10s);
  CHECK(bad.code() == Code::kFailedPrecondition);
  CHECK_MESSAGE(Contains(bad.message(), "projection bad stopped at position 7"), bad.message());
  CHECK_MESSAGE(Contains(bad.message(), "refused on purpose"), bad.message());
  // Waiting for a position before the failure is fine.
  CHECK(runner->WaitFor("bad", 7, 1s).ok());
  CHECK(runner->WaitFor(kAllProjections, 20, 5s).code() == Code::kFailedPrecondition);

  // The events before the failing one are committed; the failing one is not skipped.
  auto conn = db.Connect();
  CHECK(Checkpoint(*conn, "bad") == 7);
  CheckCountsMatchCheckpoint(*conn, "bad");
  auto row =
      conn->Exec("SELECT error, error_position FROM projection_checkpoints WHERE name = 'bad'");
  REQUIRE(row.ok());
  REQUIRE(row->rows() == 1);
  std::string error(row->Get(0, 0));
  CHECK(row->GetInt64(0, 1) == 8);
  CHECK_MESSAGE(Contains(error, "refused on purpose"), error);
  CHECK_MESSAGE(Contains(error, "position 8"), error);
  bool found = false;
  for (const ProjectionState& st : runner->States()) {
    if (st.name != "bad") continue;
    found = true;
    CHECK(st.stopped);
    CHECK(st.position == 7);
    CHECK(st.error_position == 8);
    CHECK(st.error == error);
  }
  CHECK(found);

  // New events reach the healthy projection only.
  AppendMany(db.store(), 5, 5);
  CHECK(runner->WaitFor("good", 25, kWait).ok());
  std::this_thread::sleep_for(100ms);
  CHECK(*runner->Position("bad") == 7);
  CHECK(Checkpoint(*conn, "bad") == 7);
  CheckCountsMatchCheckpoint(*conn, "good");
  runner->Stop();

  // Fixed and started again, it goes on from the failing event and its error is cleared.
  auto fixed = MakeRunner(db, Projections(std::make_unique<CountingProjection>("bad"),
                                          std::make_unique<CountingProjection>("good")));
  REQUIRE(fixed->Start().ok());
  Status caught_up = fixed->WaitFor(kAllProjections, 25, kWait);
  CHECK_MESSAGE(caught_up.ok(), caught_up.ToString());
  fixed->Stop();
  CheckCountsMatchCheckpoint(*conn, "bad");
  CHECK(Checkpoint(*conn, "bad") == 25);
  CHECK(QueryInt(*conn,
                 "SELECT count(*) FROM projection_checkpoints WHERE error IS NOT NULL OR "
                 "error_position IS NOT NULL") == 0);
}

TEST_CASE("WaitFor returns once the position is applied and times out with a sentence") {
  test::TestDatabase db;
  CreateTable(db, "waited");
  auto runner = MakeRunner(db, Projections(std::make_unique<CountingProjection>("waited")));
  REQUIRE(runner->Start().ok());
  auto conn = db.Connect();

  SUBCASE("read-your-writes: the row is there when WaitFor returns") {
    for (int i = 0; i < 20; ++i) {
      int64_t p =
          AppendOne(db.store(), "OrgRenamed", "{\"name\":\"acme-" + std::to_string(i) + "\"}");
      auto started = std::chrono::steady_clock::now();
      Status s = runner->WaitFor("waited", p, 10s);
      auto took = std::chrono::steady_clock::now() - started;
      REQUIRE_MESSAGE(s.ok(), s.ToString());
      CHECK(took < 5s);
      CHECK(QueryInt(*conn, "SELECT count(*) FROM test_waited WHERE position = $1",
                     {std::to_string(p)}) == 1);
    }
  }

  SUBCASE("a waiter blocked before the append is released by it") {
    int64_t next = *db.store().LastPosition() + 1;
    Status waited;
    std::thread waiter([&] { waited = runner->WaitFor(kAllProjections, next, 30s); });
    std::this_thread::sleep_for(100ms);
    AppendOne(db.store(), "OrgCreated");
    waiter.join();
    CHECK_MESSAGE(waited.ok(), waited.ToString());
  }

  SUBCASE("a position not yet in the log times out with a sentence") {
    int64_t p = AppendOne(db.store(), "OrgCreated");
    REQUIRE(runner->WaitFor("waited", p, 10s).ok());
    auto started = std::chrono::steady_clock::now();
    Status s = runner->WaitFor("waited", p + 100, 300ms);
    auto took = std::chrono::steady_clock::now() - started;
    CHECK(s.code() == Code::kDeadlineExceeded);
    CHECK(took >= 300ms);
    CHECK(took < 5s);
    std::string want = "position " + std::to_string(p + 100) +
                       " was not applied within 300 ms: projection waited is at position " +
                       std::to_string(p);
    CHECK_MESSAGE(s.message() == want, s.message());
  }

  SUBCASE("an unknown projection is not found") {
    Status s = runner->WaitFor("nope", 1, 1s);
    CHECK(s.code() == Code::kNotFound);
    CHECK(runner->Position("nope").status().code() == Code::kNotFound);
    CHECK(runner->WaitFor("waited", 0, 1ms).ok());
  }
  runner->Stop();
}

TEST_CASE("Reset and a rebuild give the same rows") {
  test::TestDatabase db;
  CreateTable(db, "first");
  CreateTable(db, "counter");
  const int64_t total = AppendMany(db.store(), 1500, 30);
  const std::string first_rows = "SELECT * FROM test_first ORDER BY position";
  const std::string counter_rows = "SELECT * FROM test_counter ORDER BY position";
  auto conn = db.Connect();
  auto runner = MakeRunner(db,
                           Projections(std::make_unique<CountingProjection>("first"),
                                       std::make_unique<CountingProjection>("counter")),
                           200);
  REQUIRE(runner->Start().ok());
  REQUIRE(runner->WaitFor(kAllProjections, total, kWait).ok());
  const test::Rows first_before = test::QueryRows(*conn, first_rows);
  const test::Rows counter_before = test::QueryRows(*conn, counter_rows);
  REQUIRE(first_before.size() == static_cast<size_t>(total));

  // While running: the worker truncates and folds again from position 1.
  Status reset = runner->Reset("first");
  REQUIRE_MESSAGE(reset.ok(), reset.ToString());
  REQUIRE(runner->WaitFor("first", total, kWait).ok());
  CHECK(test::DiffRows(first_rows, first_before, test::QueryRows(*conn, first_rows)) == "");
  CHECK(*runner->Position("counter") == total);  // the other one was left alone
  runner->Stop();

  // Stopped: Reset at once, then CatchUp on this thread.
  REQUIRE(runner->Reset("first").ok());
  REQUIRE(runner->Reset("counter").ok());
  CHECK(Checkpoint(*conn, "first") == 0);
  CHECK(QueryInt(*conn, "SELECT count(*) FROM test_first") == 0);
  CHECK(QueryInt(*conn, "SELECT count(*) FROM test_counter") == 0);
  int batches = 0;
  Status caught_up = runner->CatchUp([&](int64_t) { ++batches; });
  REQUIRE_MESSAGE(caught_up.ok(), caught_up.ToString());
  CHECK(batches >= 7);  // 1500 events in batches of 200
  CHECK(test::DiffRows(first_rows, first_before, test::QueryRows(*conn, first_rows)) == "");
  CHECK(test::DiffRows(counter_rows, counter_before, test::QueryRows(*conn, counter_rows)) == "");
  CHECK(runner->Reset("nope").code() == Code::kNotFound);
}

TEST_CASE("projection runner woken by the bus alone follows the log") {
  test::TestDatabase db;
  CreateTable(db, "woken");
  test::NatsServerProcess nats;
  REQUIRE_MESSAGE(nats.Start().ok(), "see " << nats.log_path());
  NatsOptions nats_options;
  nats_options.url = nats.url();
  auto bus = NatsConnection::Connect(nats_options);
  REQUIRE_MESSAGE(bus.ok(), bus.status().ToString());
  // The relay puts the log on the bus.
  auto relay_waiter = db.NewWaiter();
  RelayOptions relay_options;
  relay_options.nats_url = nats.url();
  relay_options.idle_wait = 100ms;
  Relay relay(db.store(), *relay_waiter, relay_options);
  std::atomic<bool> stop_relay{false};
  std::thread relay_thread([&] { (void)relay.Run(stop_relay); });
  AppendOne(db.store(), "OrgCreated");
  REQUIRE(WaitUntil([&] { return relay.published_position() >= 1; }));

  // No PostgreSQL notifications and a poll once a minute: only the bus can wake it in time.
  auto runner =
      MakeRunner(db, Projections(std::make_unique<CountingProjection>("woken")), 1000, bus->get(),
                 /*waiter=*/false);
  REQUIRE(runner->Start().ok());
  REQUIRE(runner->WaitFor("woken", 1, 10s).ok());
  std::this_thread::sleep_for(200ms);  // the runner is idle now
  for (int i = 0; i < 5; ++i) {
    int64_t p = AppendOne(db.store(), "OrgRenamed");
    Status s = runner->WaitFor("woken", p, 10s);
    CHECK_MESSAGE(s.ok(), s.ToString());
  }
  runner->Stop();
  stop_relay = true;
  relay_thread.join();
}

// --- the audit projection, declaratively, and the audit trail's reading of the log

namespace {

std::vector<std::unique_ptr<Projection>> MakeAudit() {
  return Projections(std::make_unique<AuditProjection>());
}

}  // namespace

TEST_CASE("audit stream organizations keep the first organization of each VM and organization") {
  test::ProjectionScenario s;
  s.given = {
      {"VmCreated", "vm-7d1f", R"({"name":"web-1","org_id":"o1"})", R"({"actor":"user-42"})"},
      {"OrganizationCreated", "org-o2", R"({"org_id":"o2","name":"Acme"})", "{}"},
      {"VmDeleteRequested", "vm-7d1f", "{}", "{}"},
      // A stream's organization never changes: a second VmCreated does not move it.
      {"VmCreated", "vm-7d1f", R"({"name":"web-1","org_id":"o3"})", "{}"},
      // Only what says an organization: no org_id, a number, another category of stream.
      {"VmCreated", "vm-9", R"({"name":"web-9"})", "{}"},
      {"VmCreated", "vm-8", R"({"name":"web-8","org_id":8})", "{}"},
      {"OrganizationCreated", "host-1", R"({"org_id":"o4"})", "{}"},
      {"HostCordoned", "host-3", "{}", R"({"actor":"user-1"})"},
  };
  s.expect = {
      {"SELECT stream_id, organization_id FROM audit_stream_organizations ORDER BY stream_id",
       {{"org-o2", "o2"}, {"vm-7d1f", "o1"}}},
  };
  CHECK_MESSAGE(test::ProjectionScenarioReport(MakeAudit, s) == "", "the rows above differ");
}

TEST_CASE("the audit trail's actor falls back to system when metadata has none") {
  test::ProjectionScenario s;
  s.given = {
      {"VmScheduled", "vm-1", R"({"host_id":"host-9"})", "{}"},
      {"VmScheduled", "vm-2", R"({"host_id":"host-9"})", R"({"actor":""})"},
      {"VmScheduled", "vm-3", R"({"host_id":"host-9"})", R"({"actor":7})"},
      {"VmScheduled", "vm-4", R"({"host_id":"host-9"})", R"({"actor":"system"})"},
      {"VmScheduled", "vm-5", R"({"host_id":"host-9"})", R"({"actor":"user-5"})"},
      {"VmScheduled", "vm-6", R"({"host_id":"host-9"})", R"({"actor":{"id":"user-6"}})"},
  };
  s.expect = {
      {"SELECT strato_event_actor(metadata) FROM events ORDER BY global_position",
       {{"system"}, {"system"}, {"system"}, {"system"}, {"user-5"}, {"system"}}},
  };
  CHECK_MESSAGE(test::ProjectionScenarioReport(MakeAudit, s) == "", "the rows above differ");
}

TEST_CASE("a time is found in the log as the last position recorded before it") {
  test::TestDatabase db;
  auto conn = db.Connect();
  CHECK(QueryInt(*conn, "SELECT strato_log_position_before(now())") == 0);
  AppendMany(db.store(), 40, 4);  // 10 appends, each a little later than the one before
  auto times =
      conn->Exec("SELECT global_position, recorded_at::text FROM events ORDER BY global_position");
  REQUIRE(times.ok());
  REQUIRE(times->rows() == 40);
  for (int i = 0; i < times->rows(); ++i) {
    const std::string at(times->Get(i, 1));
    // Before the first event recorded at that time: the events of the same time are after.
    int64_t first_at = i + 1;
    while (first_at > 1 && std::string(times->Get(static_cast<int>(first_at) - 2, 1)) == at) {
      --first_at;
    }
    INFO("event " << i + 1 << " at " << at);
    CHECK(QueryInt(*conn, "SELECT strato_log_position_before($1::timestamptz)", {at}) ==
          first_at - 1);
    CHECK(QueryInt(*conn,
                   "SELECT strato_log_position_before($1::timestamptz + interval '1 microsecond')",
                   {at}) >= i + 1);
  }
  CHECK(QueryInt(*conn, "SELECT strato_log_position_before('-infinity')") == 0);
  CHECK(QueryInt(*conn, "SELECT strato_log_position_before('infinity')") == 40);
}

TEST_CASE("the audit trail's filters find events through the log's indexes") {
  test::TestDatabase db;
  AppendMany(db.store(), 3000, 30);
  auto conn = db.Connect();
  REQUIRE(conn->Run("ANALYZE events").ok());
  CHECK(QueryInt(*conn,
                 "SELECT count(*) FROM events WHERE strato_event_actor(metadata) = "
                 "'user-1'") == 1000);
  CHECK(QueryInt(*conn, "SELECT count(*) FROM events WHERE type = 'Created'") == 100);
  // Selective filters (nothing matches), written as http/app/visibility.cpp writes them, use the
  // index made for them (schema/migrations/0010), or the log's own (stream, version) key.
  const std::pair<const char*, const char*> filters[] = {
      {"strato_event_actor(e.metadata) = 'nobody'", "events_actor"},
      {"e.stream_id = 'vm-x'", "events_stream_id_stream_version_key"},
      {"e.type = 'Nope'", "events_type"},
  };
  for (const auto& [where, index] : filters) {
    auto plan =
        conn->Exec(std::string("EXPLAIN SELECT e.global_position FROM events e WHERE ") + where +
                   " AND e.global_position > 0 AND e.global_position < 9999999 ORDER BY "
                   "e.global_position DESC LIMIT 50");
    REQUIRE(plan.ok());
    std::string text;
    for (int i = 0; i < plan->rows(); ++i) text += std::string(plan->Get(i, 0)) + "\n";
    INFO(where << "\n" << text);
    CHECK(Contains(text, index));
  }
}
