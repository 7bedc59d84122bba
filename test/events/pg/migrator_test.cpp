#include <doctest/doctest.h>

#include "events/pg/migrator.h"
#include "test/support/test_env.h"

using namespace strato;
using namespace strato::events;

TEST_CASE("migrations apply once and re-running is a no-op") {
  test::TestDatabase db;  // already migrated once
  auto conn = db.Connect();
  auto again = Migrate(*conn);
  REQUIRE(again.ok());
  CHECK(again->applied == 0);
  CHECK(again->current_version == EmbeddedMigrations().back().version);
  auto rows = conn->Exec("SELECT count(*) FROM schema_migrations");
  REQUIRE(rows.ok());
  CHECK(rows->GetInt64(0, 0) == static_cast<int64_t>(EmbeddedMigrations().size()));
  CHECK(CheckMigrated(*conn).ok());
}

TEST_CASE("a migration edited after it was applied is refused") {
  test::TestDatabase db;
  auto conn = db.Connect();
  std::vector<Migration> edited = EmbeddedMigrations();
  edited[0].sql = "SELECT 1";
  auto r = Migrate(*conn, edited);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("was changed after it was applied") != std::string::npos);
}

TEST_CASE("a failing migration rolls back and is not recorded") {
  test::TestDatabase db;
  auto conn = db.Connect();
  std::vector<Migration> more = EmbeddedMigrations();
  more.push_back({9999, "9999_broken",
                  "CREATE TABLE half_done (x int); SELECT no_such_column FROM half_done;"});
  auto r = Migrate(*conn, more);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("9999_broken") != std::string::npos);
  auto t = conn->Exec("SELECT to_regclass('half_done') IS NULL");
  REQUIRE(t.ok());
  CHECK(t->Get(0, 0) == "t");
  CHECK_FALSE(CheckMigrated(*conn, more).ok());
}
