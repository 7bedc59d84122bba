// Test support for integration tests: a fresh, migrated PostgreSQL database per test, made on
// the server named by DATABASE_URL (ops/test starts a throwaway one) and dropped afterwards.
// A missing DATABASE_URL fails the test with a sentence; integration tests never skip silently.
// Objects here belong to the test thread that made them.
#pragma once

#include <memory>
#include <string>

#include "events/pg_event_store.h"
#include "test/support/scratch_db.h"

namespace strato::test {

// The value of an environment variable the test needs; fails the current test when unset.
std::string RequireEnv(const char* name);

class TestDatabase {
 public:
  // Creates strato_test_<random>, applies the migrations, opens a PgEventStore on it.
  TestDatabase();
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }
  events::PgEventStore& store() { return *store_; }
  std::unique_ptr<events::AppendWaiter> NewWaiter();
  // A new superuser session on this database (for tampering and inspection).
  std::unique_ptr<events::PgConnection> Connect();

 private:
  std::string admin_url_;
  std::string name_;
  std::string url_;
  std::unique_ptr<events::PgEventStore> store_;
};

}  // namespace strato::test
