#include "test/support/test_env.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/ids.h"
#include "events/pg/migrator.h"
#include "test/support/process.h"

namespace strato::test {

std::string RequireEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    FAIL(std::string(name)
         << " is not set: integration tests need the servers started by ./ops/test");
  }
  return v;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::pair<int, std::string> RunStrato(std::vector<std::string> args, const std::string& db_url,
                                      std::map<std::string, std::string> extra_env) {
  args.insert(args.begin(), STRATO_BINARY_DIR "/strato");
  extra_env["DATABASE_URL"] = db_url;
  auto dir = MakeTempDir("strato-run");
  REQUIRE_MESSAGE(dir.ok(), dir.status().ToString());
  auto child = ChildProcess::Spawn({args, extra_env, *dir + "/out.log"});
  REQUIRE_MESSAGE(child.ok(), child.status().ToString());
  auto code = (*child)->Wait(std::chrono::seconds(120));
  REQUIRE_MESSAGE(code.ok(), code.status().ToString());
  return {*code, ReadFile(*dir + "/out.log")};
}

TestDatabase::TestDatabase() {
  admin_url_ = RequireEnv("DATABASE_URL");
  auto url = CreateScratchDatabase(admin_url_, "strato_test_");
  REQUIRE_MESSAGE(url.ok(), url.status().ToString());
  url_ = *url;
  name_ = url_.substr(url_.find_last_of('/') + 1);
  auto store = events::PgEventStore::Open(url_);
  REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  store_ = std::move(*store);
}

TestDatabase::~TestDatabase() {
  store_.reset();
  DropDatabase(admin_url_, url_);
}

std::unique_ptr<events::AppendWaiter> TestDatabase::NewWaiter() {
  auto w = store_->NewWaiter();
  REQUIRE_MESSAGE(w.ok(), w.status().ToString());
  return std::move(*w);
}

std::unique_ptr<events::PgConnection> TestDatabase::Connect() {
  auto c = events::PgConnection::Connect(url_);
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  return std::move(*c);
}

}  // namespace strato::test
