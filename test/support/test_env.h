// Test support for integration tests: a fresh, migrated PostgreSQL database per test, made on
// the server named by DATABASE_URL (ops/test starts a throwaway one) and dropped afterwards.
// A missing DATABASE_URL fails the test with a sentence; integration tests never skip silently.
// Objects here belong to the test thread that made them.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "events/pg/pg_event_store.h"
#include "test/support/scratch_db.h"

namespace strato::test {

// The value of an environment variable the test needs; fails the current test when unset.
std::string RequireEnv(const char* name);

// Runs the strato binary with `args` and DATABASE_URL=db_url (and any `extra_env`), waits up
// to two minutes, and returns its exit code and its stdout and stderr together.
std::pair<int, std::string> RunStrato(std::vector<std::string> args, const std::string& db_url,
                                      std::map<std::string, std::string> extra_env = {});
// The whole file as a string ("" when it cannot be read).
std::string ReadFile(const std::string& path);

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
