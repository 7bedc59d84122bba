#include <doctest/doctest.h>

#include <cstdlib>

#include "events/log/audit.h"
#include "test/support/test_env.h"

using namespace strato;
using namespace strato::events;

namespace {

void AppendMany(EventStore& store, int n) {
  for (int i = 0; i < n; ++i) {
    AppendRequest r;
    r.streams.push_back({"vm-" + std::to_string(i % 5),
                         ExpectedVersion::Any(),
                         {{"VmStarted", "{\"i\": " + std::to_string(i) + "}", "{}"}}});
    REQUIRE(store.Append(r).ok());
  }
}

// Runs `strato audit verify` against the database and returns (exit code, output).
std::pair<int, std::string> RunVerify(const std::string& url) {
  return test::RunStrato({"audit", "verify"}, url);
}

// Changes a row behind the trigger's back, as a superuser could.
void Tamper(test::TestDatabase& db, const std::string& set, int64_t position) {
  auto c = db.Connect();
  REQUIRE(c->Run("BEGIN").ok());
  REQUIRE(c->Run("SET LOCAL session_replication_role = replica").ok());
  REQUIRE(
      c->Run("UPDATE events SET " + set + " WHERE global_position = $1", {std::to_string(position)})
          .ok());
  REQUIRE(c->Run("COMMIT").ok());
}

}  // namespace

TEST_CASE("audit verify: OK with the count on an intact log") {
  test::TestDatabase db;
  AppendMany(db.store(), 120);
  auto report = VerifyLog(db.store(), 50);
  REQUIRE(report.ok());
  CHECK(report->ok);
  CHECK(report->verified == 120);
  auto [code, out] = RunVerify(db.url());
  CHECK(code == 0);
  CHECK(out == "OK: 120 events verified\n");
}

TEST_CASE("audit verify names the position whose row was changed directly") {
  test::TestDatabase db;
  AppendMany(db.store(), 120);
  Tamper(db, "data = '{\"i\": 9999}'::jsonb", 77);
  auto report = VerifyLog(db.store(), 50);
  REQUIRE(report.ok());
  CHECK_FALSE(report->ok);
  CHECK(report->first_bad_position == 77);
  CHECK(report->verified == 76);
  auto [code, out] = RunVerify(db.url());
  CHECK(code == 1);
  CHECK(out.find("FAILED at position 77") == 0);
}

TEST_CASE("audit verify catches a changed type and a re-timed event and a deleted row") {
  {
    test::TestDatabase db;
    AppendMany(db.store(), 10);
    Tamper(db, "type = 'VmStopped'", 3);
    CHECK(VerifyLog(db.store())->first_bad_position == 3);
  }
  {
    test::TestDatabase db;
    AppendMany(db.store(), 10);
    Tamper(db, "recorded_at = recorded_at - interval '1 day'", 9);
    CHECK(VerifyLog(db.store())->first_bad_position == 9);
  }
  {
    test::TestDatabase db;
    AppendMany(db.store(), 10);
    auto c = db.Connect();
    REQUIRE(c->Run("BEGIN").ok());
    REQUIRE(c->Run("SET LOCAL session_replication_role = replica").ok());
    REQUIRE(c->Run("DELETE FROM events WHERE global_position = 5").ok());
    REQUIRE(c->Run("COMMIT").ok());
    auto r = VerifyLog(db.store());
    CHECK(r->first_bad_position == 5);
    CHECK(r->problem == "position 5 is missing (next found is 6)");
  }
}
