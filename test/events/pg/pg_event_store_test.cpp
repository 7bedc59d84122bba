#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "events/log/hash_chain.h"
#include "events/pg/log_scan.h"
#include "test/support/test_env.h"

using namespace strato;
using namespace strato::events;

namespace {

AppendRequest One(const std::string& stream, ExpectedVersion ev,
                  const std::string& type = "VmStarted", const std::string& data = "{}") {
  AppendRequest r;
  r.streams.push_back({stream, ev, {NewEvent{type, data, "{}"}}});
  return r;
}

int64_t CountEvents(test::TestDatabase& db) {
  auto c = db.Connect();
  auto r = c->Exec("SELECT count(*) FROM events");
  REQUIRE(r.ok());
  return r->GetInt64(0, 0);
}

}  // namespace

TEST_CASE("expected versions no-stream and exact and any work and a conflict appends nothing") {
  test::TestDatabase db;
  auto& store = db.store();
  auto first = store.Append(One("vm-a", ExpectedVersion::NoStream(), "VmCreated"));
  REQUIRE(first.ok());
  CHECK(first->first_position == 1);
  CHECK(first->streams[0].first_version == 1);
  CHECK(first->streams[0].last_version == 1);

  auto again = store.Append(One("vm-a", ExpectedVersion::NoStream(), "VmCreated"));
  REQUIRE_FALSE(again.ok());
  CHECK(again.status().code() == Code::kConflict);
  CHECK(again.status().message() ==
        "stream vm-a already exists (at version 1); the append expected no stream");

  auto stale = store.Append(One("vm-a", ExpectedVersion::Exact(5)));
  REQUIRE_FALSE(stale.ok());
  CHECK(stale.status().code() == Code::kConflict);
  CHECK(stale.status().message() == "stream vm-a is at version 1; the append expected version 5");

  auto exact = store.Append(One("vm-a", ExpectedVersion::Exact(1)));
  REQUIRE(exact.ok());
  CHECK(exact->streams[0].last_version == 2);
  auto any = store.Append(One("vm-a", ExpectedVersion::Any()));
  REQUIRE(any.ok());
  CHECK(any->streams[0].last_version == 3);
  CHECK(any->last_position == 3);
  CHECK(CountEvents(db) == 3);
}

TEST_CASE("an append to several streams is atomic: one conflict and none are written") {
  test::TestDatabase db;
  auto& store = db.store();
  REQUIRE(
      store.Append(One("username-alice", ExpectedVersion::NoStream(), "UsernameReserved")).ok());
  AppendRequest both;
  both.streams.push_back({"user-1", ExpectedVersion::NoStream(), {{"UserRegistered", "{}", "{}"}}});
  both.streams.push_back(
      {"username-alice", ExpectedVersion::NoStream(), {{"UsernameReserved", "{}", "{}"}}});
  auto r = store.Append(both);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kConflict);
  CHECK(CountEvents(db) == 1);
  auto user = store.ReadStream("user-1", 1, 10);
  REQUIRE(user.ok());
  CHECK(user->empty());
}

TEST_CASE("the same command id appended again returns the first result and appends nothing") {
  test::TestDatabase db;
  auto& store = db.store();
  AppendRequest req = One("vm-b", ExpectedVersion::NoStream(), "VmCreated");
  req.command_id = Uuid::NewV4();
  req.streams[0].events.push_back({"VmStarted", "{}", "{}"});
  auto first = store.Append(req);
  REQUIRE(first.ok());
  CHECK_FALSE(first->duplicate);
  auto second = store.Append(req);  // would conflict (no-stream) if it were not recognised
  REQUIRE(second.ok());
  CHECK(second->duplicate);
  CHECK(second->first_position == first->first_position);
  CHECK(second->last_position == first->last_position);
  CHECK(second->streams[0].last_version == 2);
  CHECK(CountEvents(db) == 2);

  // Concurrent retries of one command: exactly one appends.
  AppendRequest racing = One("vm-c", ExpectedVersion::Any());
  racing.command_id = Uuid::NewV4();
  std::vector<std::thread> threads;
  std::atomic<int> duplicates{0}, fresh{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto r = store.Append(racing);
      REQUIRE(r.ok());
      (r->duplicate ? duplicates : fresh)++;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(fresh == 1);
  CHECK(duplicates == 7);
  CHECK(CountEvents(db) == 3);
}

TEST_CASE("reading a stream and the whole log in batches") {
  test::TestDatabase db;
  auto& store = db.store();
  for (int i = 0; i < 30; ++i) {
    std::string stream = i % 2 ? "vm-odd" : "vm-even";
    REQUIRE(store
                .Append(One(stream, ExpectedVersion::Any(), "VmStarted",
                            "{\"i\": " + std::to_string(i) + "}"))
                .ok());
  }
  auto odd = store.ReadStream("vm-odd", 1, 100);
  REQUIRE(odd.ok());
  REQUIRE(odd->size() == 15);
  for (size_t k = 0; k < odd->size(); ++k) {
    CHECK((*odd)[k].stream_version == static_cast<int64_t>(k + 1));
    CHECK((*odd)[k].data == "{\"i\": " + std::to_string(2 * k + 1) + "}");
  }
  auto tail = store.ReadStream("vm-odd", 14, 100);
  REQUIRE(tail.ok());
  CHECK(tail->size() == 2);

  std::vector<RecordedEvent> all;
  int64_t after = 0;
  for (;;) {
    auto batch = store.ReadAll(after, 7);
    REQUIRE(batch.ok());
    if (batch->empty()) break;
    all.insert(all.end(), batch->begin(), batch->end());
    after = batch->back().position;
  }
  REQUIRE(all.size() == 30);
  for (size_t k = 0; k < all.size(); ++k) CHECK(all[k].position == static_cast<int64_t>(k + 1));
  CHECK(*store.LastPosition() == 30);
  auto missing = store.ReadStream("vm-none", 1, 10);
  REQUIRE(missing.ok());
  CHECK(missing->empty());
}

TEST_CASE("stored events carry jsonb-normalised payloads and a hash chain that verifies") {
  test::TestDatabase db;
  auto& store = db.store();
  AppendRequest req = One("vm-x", ExpectedVersion::Any(), "VmCreated", "{ \"b\" : 2,\n \"a\":1 }");
  req.streams[0].events[0].metadata = R"({"actor":"user-1","command_id":"c"})";
  REQUIRE(store.Append(req).ok());
  auto e = store.ReadAll(0, 10);
  REQUIRE(e.ok());
  REQUIRE(e->size() == 1);
  CHECK((*e)[0].data == R"({"a": 1, "b": 2})");
  CHECK((*e)[0].event_id.Version() == 7);
  CHECK(ChainHash(kGenesisHash, (*e)[0]) == (*e)[0].hash);
  auto now = std::chrono::system_clock::now();
  CHECK(std::chrono::abs(now - (*e)[0].recorded_at) < std::chrono::minutes(5));
}

TEST_CASE("bad input is refused with a clear error and nothing is written") {
  test::TestDatabase db;
  auto& store = db.store();
  REQUIRE(store.Append(One("vm-keep", ExpectedVersion::Any())).ok());
  struct Case {
    std::string stream, type, data, expect;
  };
  std::vector<Case> cases = {
      {"", "VmStarted", "{}", "the stream id is empty"},
      {"vm-" + std::string(250, 'x'), "VmStarted", "{}", "the limit is 200"},
      {std::string("vm-\xc3\x28"), "VmStarted", "{}", "not valid UTF-8"},
      {"vm-1", "", "{}", "the event type is empty"},
      {"vm-1", std::string(150, 'V'), "{}", "the limit is 100"},
      {"vm-1", std::string("Vm\xff"), "{}", "not valid UTF-8"},
      {"vm-1", "VmStarted", "{\"a\": ", "its data is not valid JSON"},
      {"vm-1", "VmStarted", "[1,2]", "its data must be a JSON object"},
      {"vm-1", "VmStarted", std::string("{\"a\":\"\xff\"}"), "its data is not valid UTF-8"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.expect);
    auto r = store.Append(One(c.stream, ExpectedVersion::Any(), c.type, c.data));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidArgument);
    CHECK(r.status().message().find(c.expect) != std::string::npos);
  }
  CHECK(CountEvents(db) == 1);
  // A bad request in the same group commit as good ones does not take them down.
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      AppendRequest r = One("vm-g" + std::to_string(i), ExpectedVersion::NoStream());
      if (i % 4 == 0)
        r.streams[0].events[0].event_id = *Uuid::Parse("00000000-0000-4000-8000-000000000001");
      if (store.Append(r).ok()) ok++;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 13);  // 12 plain ones, and the first of the four sharing one event id
  CHECK(CountEvents(db) == 14);
}

TEST_CASE("the log refuses UPDATE and DELETE and TRUNCATE") {
  test::TestDatabase db;
  AppendRequest r = One("vm-a", ExpectedVersion::Any());
  r.command_id = Uuid::NewV4();
  REQUIRE(db.store().Append(r).ok());
  auto c = db.Connect();
  for (std::string sql :
       {"UPDATE events SET type = 'Forged'", "DELETE FROM events", "TRUNCATE events"}) {
    CAPTURE(sql);
    Status s = c->Run(sql);
    REQUIRE_FALSE(s.ok());
    CHECK(s.message().find("the event log is append-only") != std::string::npos);
  }
  CHECK(CountEvents(db) == 1);
}

TEST_CASE("16 concurrent appenders and a follower see every event once in order with no gaps") {
  test::TestDatabase db;
  auto& store = db.store();
  constexpr int kWriters = 16;
  constexpr int kPerWriter = 150;
  constexpr int64_t kTotal = kWriters * kPerWriter;
  std::atomic<bool> done{false};
  std::vector<int64_t> seen;
  std::set<std::string> ids;
  std::thread reader([&] {
    // A separate store instance: the follower reads through its own connections.
    auto other = PgEventStore::Open(db.url());
    REQUIRE(other.ok());
    int64_t checkpoint = 0;
    while (checkpoint < kTotal) {
      auto batch = (*other)->ReadAll(checkpoint, 97);
      REQUIRE(batch.ok());
      for (const auto& e : *batch) {
        seen.push_back(e.position);
        ids.insert(e.event_id.ToString());
        checkpoint = e.position;
      }
      if (batch->empty() && done && checkpoint >= *(*other)->LastPosition()) break;
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&store, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        AppendRequest r = One("vm-w" + std::to_string(w),
                              i == 0 ? ExpectedVersion::NoStream() : ExpectedVersion::Exact(i));
        REQUIRE(store.Append(r).ok());
      }
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  reader.join();
  REQUIRE(seen.size() == static_cast<size_t>(kTotal));
  for (int64_t k = 0; k < kTotal; ++k) REQUIRE(seen[k] == k + 1);
  CHECK(ids.size() == static_cast<size_t>(kTotal));
  // Group commit really grouped: fewer transactions than appends.
  CHECK(store.batches_committed() < store.appends_committed());
  MESSAGE("appends: " << store.appends_committed()
                      << ", transactions: " << store.batches_committed());
}

TEST_CASE("two store instances (two processes' worth) share one gap-free order") {
  test::TestDatabase db;
  auto second = PgEventStore::Open(db.url());
  REQUIRE(second.ok());
  std::thread a([&] {
    for (int i = 0; i < 200; ++i)
      REQUIRE(db.store().Append(One("vm-a", ExpectedVersion::Any())).ok());
  });
  std::thread b([&] {
    for (int i = 0; i < 200; ++i)
      REQUIRE((*second)->Append(One("vm-b", ExpectedVersion::Any())).ok());
  });
  a.join();
  b.join();
  auto all = db.store().ReadAll(0, 1000);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 400);
  for (size_t k = 0; k < all->size(); ++k) CHECK((*all)[k].position == static_cast<int64_t>(k + 1));
  ChainVerifier v;
  for (const auto& e : *all) CHECK(v.Add(e));
}

TEST_CASE(
    "another writer's streams and command ids are respected though this writer assumed them new") {
  test::TestDatabase db;
  auto other = PgEventStore::Open(db.url());
  REQUIRE(other.ok());
  AppendRequest create = One("vm-x", ExpectedVersion::NoStream(), "VmCreated");
  create.command_id = Uuid::NewV4();
  auto first = (*other)->Append(create);
  REQUIRE(first.ok());

  // This store has never seen vm-x: it assumes "no stream" holds, and the key corrects it.
  auto again = db.store().Append(One("vm-x", ExpectedVersion::NoStream(), "VmCreated"));
  REQUIRE_FALSE(again.ok());
  CHECK(again.status().code() == Code::kConflict);
  CHECK(again.status().message() ==
        "stream vm-x already exists (at version 1); the append expected no stream");

  // The same command retried through another writer returns the first result.
  auto retry = db.store().Append(create);
  REQUIRE(retry.ok());
  CHECK(retry->duplicate);
  CHECK(retry->first_position == first->first_position);
  REQUIRE(retry->streams.size() == 1);
  CHECK(retry->streams[0].stream_id == "vm-x");
  CHECK(retry->streams[0].last_version == 1);

  // A command id reused for a different stream is still the same command: nothing new.
  AppendRequest reuse = One("vm-other", ExpectedVersion::Any());
  reuse.command_id = create.command_id;
  auto reused = db.store().Append(reuse);
  REQUIRE(reused.ok());
  CHECK(reused->duplicate);
  CHECK(CountEvents(db) == 1);

  // After the other writer appends, this writer's cached version is not trusted.
  REQUIRE(db.store().Append(One("vm-y", ExpectedVersion::NoStream())).ok());
  REQUIRE((*other)->Append(One("vm-y", ExpectedVersion::Exact(1))).ok());
  auto stale = db.store().Append(One("vm-y", ExpectedVersion::Exact(1)));
  REQUIRE_FALSE(stale.ok());
  CHECK(stale.status().message() == "stream vm-y is at version 2; the append expected version 1");
  CHECK(db.store().Append(One("vm-y", ExpectedVersion::Exact(2))).ok());
}

TEST_CASE("a multi-stream command retried returns every stream's versions") {
  test::TestDatabase db;
  AppendRequest r;
  r.command_id = Uuid::NewV4();
  r.streams.push_back({"user-1",
                       ExpectedVersion::NoStream(),
                       {{"UserRegistered", "{}", "{}"}, {"UserRenamed", "{}", "{}"}}});
  r.streams.push_back(
      {"username-alice", ExpectedVersion::NoStream(), {{"UsernameReserved", "{}", "{}"}}});
  auto first = db.store().Append(r);
  REQUIRE(first.ok());
  CHECK(first->first_position == 1);
  CHECK(first->last_position == 3);
  auto other = PgEventStore::Open(db.url());
  REQUIRE(other.ok());
  auto again = (*other)->Append(r);
  REQUIRE(again.ok());
  CHECK(again->duplicate);
  CHECK(again->first_position == 1);
  CHECK(again->last_position == 3);
  REQUIRE(again->streams.size() == 2);
  std::map<std::string, std::pair<int64_t, int64_t>> got;
  for (const auto& s : again->streams) got[s.stream_id] = {s.first_version, s.last_version};
  CHECK(got["user-1"] == std::make_pair(int64_t{1}, int64_t{2}));
  CHECK(got["username-alice"] == std::make_pair(int64_t{1}, int64_t{1}));
}

TEST_CASE("a log scan gives every event in order with the fields the store reads and the actor") {
  test::TestDatabase db;
  auto& store = db.store();
  const std::string odd = "{\"path\": \"C:\\\\tmp\\tx\\ny\", \"name\": \"caf\\u00e9 \\u2713\"}";
  AppendRequest r;
  r.streams.push_back(
      {"vm-a",
       ExpectedVersion::NoStream(),
       {NewEvent{"VmCreated", odd, R"({"actor": "user-1"})"}, NewEvent{"VmStarted", "{}", "{}"}}});
  r.streams.push_back({"host-b",
                       ExpectedVersion::NoStream(),
                       {NewEvent{"HostRegistered", "{}", R"({"actor": 7})"}}});
  REQUIRE(store.Append(std::move(r)).ok());
  REQUIRE(store.Append(One("vm-a", ExpectedVersion::Any(), "VmStopped", R"({"i": 1})")).ok());

  auto want = store.ReadAll(0, 100);
  REQUIRE(want.ok());
  REQUIRE(want->size() == 4);
  auto c = db.Connect();
  std::vector<RecordedEvent> got;
  Status s = ScanLog(*c, [&](const RecordedEvent& e) {
    got.push_back(e);
    return Status::Ok();
  });
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  REQUIRE(got.size() == want->size());
  for (size_t i = 0; i < got.size(); ++i) {
    const RecordedEvent& a = got[i];
    const RecordedEvent& b = (*want)[i];
    CHECK(a.position == b.position);
    CHECK(a.stream_id == b.stream_id);
    CHECK(a.stream_version == b.stream_version);
    CHECK(a.type == b.type);
    CHECK(a.data == b.data);
    CHECK(a.recorded_at == b.recorded_at);
    CHECK(a.metadata.empty());  // not read: no fold uses it
  }
  CHECK(got[0].data.find("C:\\\\tmp\\tx\\ny") != std::string::npos);

  // A failing callback stops the scan with its own error, and the session stays usable.
  int seen = 0;
  Status stopped = ScanLog(*c, [&](const RecordedEvent&) {
    return ++seen == 2 ? Status::Internal("enough") : Status::Ok();
  });
  CHECK(stopped.message() == "enough");
  CHECK(seen == 2);
  auto after = c->Exec("SELECT count(*) FROM events");
  REQUIRE(after.ok());
  CHECK(after->GetInt64(0, 0) == 4);
}

TEST_CASE("rows in COPY's binary format arrive as the values they were built from") {
  test::TestDatabase db;
  auto c = db.Connect();
  REQUIRE(c->Run("CREATE TEMP TABLE t (n bigint, at timestamptz, s text, b boolean, o text)").ok());
  PgCopyBinary rows;
  rows.Add(int64_t{-42})
      .AddTime(FromUnixMicros(1798761599999999))
      .Add("tab\there \\ caf\u00e9")
      .AddBool(true)
      .AddNull()
      .EndRow();
  rows.Add(int64_t{9000000000})
      .AddTime(FromUnixMicros(-1))
      .Add("")
      .AddBool(false)
      .Add("x")
      .EndRow();
  CHECK(rows.rows() == 2);
  REQUIRE(c->CopyIn("COPY t FROM STDIN (FORMAT binary)", rows.Take()).ok());
  CHECK(rows.rows() == 0);
  auto r = c->Exec(
      "SELECT n, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), s, b, o IS NULL "
      "FROM t ORDER BY n");
  REQUIRE(r.ok());
  REQUIRE(r->rows() == 2);
  CHECK(r->Get(0, 0) == "-42");
  CHECK(r->Get(0, 1) == "2026-12-31 23:59:59.999999");
  CHECK(r->Get(0, 2) == "tab\there \\ caf\u00e9");
  CHECK(r->Get(0, 3) == "t");
  CHECK(r->Get(0, 4) == "t");
  CHECK(r->Get(1, 0) == "9000000000");
  CHECK(r->Get(1, 1) == "1969-12-31 23:59:59.999999");
  CHECK(r->Get(1, 2) == "");
  CHECK(r->Get(1, 3) == "f");
  CHECK(r->Get(1, 4) == "f");
}
