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
#include "events/nats_bus.h"
#include "events/relay.h"
#include "projections/audit_projection.h"
#include "projections/runner.h"
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
  auto runner = MakeRunner(db, Projections(std::make_unique<AuditProjection>()));
  REQUIRE(runner->Start().ok());
  auto conn = db.Connect();

  SUBCASE("read-your-writes: the row is there when WaitFor returns") {
    for (int i = 0; i < 20; ++i) {
      int64_t p =
          AppendOne(db.store(), "OrgRenamed", "{\"name\":\"acme-" + std::to_string(i) + "\"}");
      auto started = std::chrono::steady_clock::now();
      Status s = runner->WaitFor("audit", p, 10s);
      auto took = std::chrono::steady_clock::now() - started;
      REQUIRE_MESSAGE(s.ok(), s.ToString());
      CHECK(took < 5s);
      CHECK(QueryInt(*conn, "SELECT count(*) FROM audit_entries WHERE position = $1",
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
    REQUIRE(runner->WaitFor("audit", p, 10s).ok());
    auto started = std::chrono::steady_clock::now();
    Status s = runner->WaitFor("audit", p + 100, 300ms);
    auto took = std::chrono::steady_clock::now() - started;
    CHECK(s.code() == Code::kDeadlineExceeded);
    CHECK(took >= 300ms);
    CHECK(took < 5s);
    std::string want = "position " + std::to_string(p + 100) +
                       " was not applied within 300 ms: projection audit is at position " +
                       std::to_string(p);
    CHECK_MESSAGE(s.message() == want, s.message());
  }

  SUBCASE("an unknown projection is not found") {
    Status s = runner->WaitFor("nope", 1, 1s);
    CHECK(s.code() == Code::kNotFound);
    CHECK(runner->Position("nope").status().code() == Code::kNotFound);
    CHECK(runner->WaitFor("audit", 0, 1ms).ok());
  }
  runner->Stop();
}

TEST_CASE("Reset and a rebuild give the same rows") {
  test::TestDatabase db;
  CreateTable(db, "counter");
  const int64_t total = AppendMany(db.store(), 1500, 30);
  const std::string audit_rows = "SELECT * FROM audit_entries ORDER BY position";
  const std::string counter_rows = "SELECT * FROM test_counter ORDER BY position";
  auto conn = db.Connect();
  auto runner = MakeRunner(db,
                           Projections(std::make_unique<AuditProjection>(),
                                       std::make_unique<CountingProjection>("counter")),
                           200);
  REQUIRE(runner->Start().ok());
  REQUIRE(runner->WaitFor(kAllProjections, total, kWait).ok());
  const test::Rows audit_before = test::QueryRows(*conn, audit_rows);
  const test::Rows counter_before = test::QueryRows(*conn, counter_rows);
  REQUIRE(audit_before.size() == static_cast<size_t>(total));

  // While running: the worker truncates and folds again from position 1.
  Status reset = runner->Reset("audit");
  REQUIRE_MESSAGE(reset.ok(), reset.ToString());
  REQUIRE(runner->WaitFor("audit", total, kWait).ok());
  CHECK(test::DiffRows(audit_rows, audit_before, test::QueryRows(*conn, audit_rows)) == "");
  CHECK(*runner->Position("counter") == total);  // the other one was left alone
  runner->Stop();

  // Stopped: Reset at once, then CatchUp on this thread.
  REQUIRE(runner->Reset("audit").ok());
  REQUIRE(runner->Reset("counter").ok());
  CHECK(Checkpoint(*conn, "audit") == 0);
  CHECK(QueryInt(*conn, "SELECT count(*) FROM audit_entries") == 0);
  CHECK(QueryInt(*conn, "SELECT count(*) FROM test_counter") == 0);
  int batches = 0;
  Status caught_up = runner->CatchUp([&](int64_t) { ++batches; });
  REQUIRE_MESSAGE(caught_up.ok(), caught_up.ToString());
  CHECK(batches >= 7);  // 1500 events in batches of 200
  CHECK(test::DiffRows(audit_rows, audit_before, test::QueryRows(*conn, audit_rows)) == "");
  CHECK(test::DiffRows(counter_rows, counter_before, test::QueryRows(*conn, counter_rows)) == "");
  CHECK(runner->Reset("nope").code() == Code::kNotFound);
}

TEST_CASE("projection runner woken by the bus alone follows the log") {
  test::TestDatabase db;
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
  auto runner = MakeRunner(db, Projections(std::make_unique<AuditProjection>()), 1000, bus->get(),
                           /*waiter=*/false);
  REQUIRE(runner->Start().ok());
  REQUIRE(runner->WaitFor("audit", 1, 10s).ok());
  std::this_thread::sleep_for(200ms);  // the runner is idle now
  for (int i = 0; i < 5; ++i) {
    int64_t p = AppendOne(db.store(), "OrgRenamed");
    Status s = runner->WaitFor("audit", p, 10s);
    CHECK_MESSAGE(s.ok(), s.ToString());
  }
  runner->Stop();
  stop_relay = true;
  relay_thread.join();
}

// --- the audit projection, declaratively

namespace {

std::vector<std::unique_ptr<Projection>> MakeAudit() {
  return Projections(std::make_unique<AuditProjection>());
}

}  // namespace

TEST_CASE("audit entries carry position and actor and stream and type and a summary") {
  test::ProjectionScenario s;
  s.given = {
      {"VmCreated", "vm-7d1f",
       R"({"name":"web-1","org_id":"org-1","cpu_count":2,"memory_mb":4096,"image":"debian-12"})",
       R"({"actor":"user-42","command_id":"c1"})"},
      {"VmStarted", "vm-7d1f", R"({"generation":2})", R"({"actor":"user-42"})"},
      {"VmObservedStateReported", "vm-7d1f",
       R"({"state":"running","host_id":"host-3","generation":2})", R"({"actor":"host-3"})"},
      {"HostCordoned", "host-3", "{}", R"({"actor":"user-1"})"},
  };
  s.expect = {
      {"SELECT position, actor, stream_id, type, summary FROM audit_entries ORDER BY position",
       {
           {"1", "user-42", "vm-7d1f", "VmCreated",
            "VmCreated name=web-1 org_id=org-1 image=debian-12 cpu_count=2"},
           {"2", "user-42", "vm-7d1f", "VmStarted", "VmStarted generation=2"},
           {"3", "host-3", "vm-7d1f", "VmObservedStateReported",
            "VmObservedStateReported state=running host_id=host-3 generation=2"},
           {"4", "user-1", "host-3", "HostCordoned", "HostCordoned"},
       }},
      // recorded_at is the event's own time, to the microsecond.
      {"SELECT count(*) FROM audit_entries a JOIN events e ON e.global_position = a.position "
       "WHERE a.recorded_at = e.recorded_at",
       {{"4"}}},
  };
  CHECK_MESSAGE(test::ProjectionScenarioReport(MakeAudit, s) == "", "the rows above differ");
}

TEST_CASE("audit actor falls back to system when metadata has none") {
  test::ProjectionScenario s;
  s.given = {
      {"VmScheduled", "vm-1", R"({"host_id":"host-9"})", "{}"},
      {"VmScheduled", "vm-2", R"({"host_id":"host-9"})", R"({"actor":""})"},
      {"VmScheduled", "vm-3", R"({"host_id":"host-9"})", R"({"actor":7})"},
      {"VmScheduled", "vm-4", R"({"host_id":"host-9"})", R"({"actor":"system"})"},
      {"VmScheduled", "vm-5", R"({"host_id":"host-9"})", R"({"actor":"user-5"})"},
  };
  s.expect = {
      {"SELECT actor FROM audit_entries ORDER BY position",
       {{"system"}, {"system"}, {"system"}, {"system"}, {"user-5"}}},
      {"SELECT actor, count(*) FROM audit_entries GROUP BY actor ORDER BY actor",
       {{"system", "4"}, {"user-5", "1"}}},
  };
  CHECK_MESSAGE(test::ProjectionScenarioReport(MakeAudit, s) == "", "the rows above differ");
}

TEST_CASE("audit summaries never show secrets") {
  test::ProjectionScenario s;
  s.given = {
      {"PasskeyRegistered", "user-1",
       R"({"name":"laptop","public_key":"pk-abc","credential_id":"cred-1",)"
       R"("challenge":"ch-xyz","signature":"sig-123"})",
       R"({"actor":"user-1"})"},
      {"ApiTokenIssued", "user-1",
       R"({"token":"t0p-s3cret","Token_Hash":"h","client_secret":"cs","label":"ci"})",
       R"({"actor":"user-1"})"},
      {"UserRegistered", "user-2",
       R"({"username":"ada","password":"hunter2","PASSWORD_HASH":"x","SshKey":"ssh-rsa AAA"})",
       R"({"actor":"system"})"},
  };
  s.expect = {
      {"SELECT summary FROM audit_entries ORDER BY position",
       {
           {"PasskeyRegistered name=laptop credential_id=cred-1"},
           {"ApiTokenIssued label=ci"},
           {"UserRegistered username=ada"},
       }},
      {"SELECT count(*) FROM audit_entries WHERE summary ~* "
       "'pk-abc|ch-xyz|sig-123|t0p|hunter2|ssh-rsa|=cs|=h '",
       {{"0"}}},
  };
  CHECK_MESSAGE(test::ProjectionScenarioReport(MakeAudit, s) == "", "the rows above differ");
}

TEST_CASE("audit summaries quote and shorten values and leave out objects") {
  const std::string long_text(100, 'x');
  test::ProjectionScenario s;
  s.given = {
      {"VmCreated", "vm-1",
       R"({"name":"my web server","description":")" + long_text +
           R"(","spec":{"cpu_count":2},"tags":["a"],"note":null})",
       "{}"},
      {"VmDeleted", "vm-1", R"({"forced":true,"reason":"user asked \"now\""})", "{}"},
  };
  s.expect = {
      {"SELECT summary FROM audit_entries ORDER BY position",
       {
           {R"(VmCreated name="my web server" description=")" + std::string(60, 'x') + "\u2026\""},
           {R"(VmDeleted reason="user asked \"now\"" forced=true)"},
       }},
  };
  CHECK_MESSAGE(test::ProjectionScenarioReport(MakeAudit, s) == "", "the rows above differ");
}

TEST_CASE("audit entries are filtered by actor and stream and type and time through indexes") {
  test::TestDatabase db;
  AppendMany(db.store(), 3000, 30);
  auto runner = MakeRunner(db, MakeAudit());
  REQUIRE(runner->Start().ok());
  REQUIRE(runner->WaitFor("audit", 3000, kWait).ok());
  runner->Stop();
  auto conn = db.Connect();
  REQUIRE(conn->Run("ANALYZE audit_entries").ok());
  CHECK(QueryInt(*conn, "SELECT count(*) FROM audit_entries WHERE actor = 'user-1'") == 1000);
  CHECK(QueryInt(*conn,
                 "SELECT count(*) FROM audit_entries WHERE hashtext(actor) = hashtext('user-1') "
                 "AND actor = 'user-1'") == 1000);
  // Selective filters (nothing matches), written as http/visibility.cpp writes them, use the
  // index made for them (actor and type: by their hash, schema/migrations/0009).
  const std::pair<const char*, const char*> filters[] = {
      {"hashtext(actor) = hashtext('nobody') AND actor = 'nobody' ORDER BY position DESC LIMIT 50",
       "audit_entries_actor"},
      {"stream_id = 'vm-x'", "audit_entries_stream"},
      {"hashtext(type) = hashtext('Nope') AND type = 'Nope' ORDER BY position DESC LIMIT 50",
       "audit_entries_type"},
      {"recorded_at > now() + interval '1 hour'", "audit_entries_time"},
  };
  for (const auto& [where, index] : filters) {
    auto plan = conn->Exec(std::string("EXPLAIN SELECT * FROM audit_entries WHERE ") + where);
    REQUIRE(plan.ok());
    std::string text;
    for (int i = 0; i < plan->rows(); ++i) text += std::string(plan->Get(i, 0)) + "\n";
    INFO(where << "\n" << text);
    CHECK(Contains(text, index));
  }
}
