#include "test/support/scratch_db.h"

#include <cstdio>
#include <cstdlib>

#include "core/ids.h"
#include "events/pg/migrator.h"
#include "events/pg/pg.h"

namespace strato::test {

std::string WithDatabase(const std::string& url, const std::string& dbname) {
  if (url.find("://") == std::string::npos) return url + " dbname=" + dbname;
  size_t scheme_end = url.find("://") + 3;
  size_t query = url.find('?', scheme_end);
  std::string base = url.substr(0, query);
  std::string rest = query == std::string::npos ? "" : url.substr(query);
  size_t slash = base.find('/', scheme_end);
  if (slash != std::string::npos) base = base.substr(0, slash);
  return base + "/" + dbname + rest;
}

Result<std::string> CreateScratchDatabase(const std::string& admin_url, const std::string& prefix) {
  std::string name = prefix + Uuid::NewV4().ToString().substr(0, 8);
  auto admin = events::PgConnection::Connect(admin_url);
  if (!admin.ok()) return admin.status();
  STRATO_RETURN_IF_ERROR((*admin)->Run("CREATE DATABASE " + events::QuoteIdentifier(name)));
  std::string url = WithDatabase(admin_url, name);
  auto conn = events::PgConnection::Connect(url);
  if (!conn.ok()) return conn.status();
  auto m = events::Migrate(**conn);
  if (!m.ok()) return m.status();
  return url;
}

void DropDatabase(const std::string& admin_url, const std::string& url) {
  std::string name = url.substr(url.find_last_of('/') + 1);
  name = name.substr(0, name.find('?'));
  auto admin = events::PgConnection::Connect(admin_url);
  if (admin.ok()) {
    (void)(*admin)->Run("DROP DATABASE IF EXISTS " + events::QuoteIdentifier(name) +
                        " WITH (FORCE)");
  }
}

void DropDatabaseUnlessKept(const std::string& admin_url, const std::string& url) {
  if (std::getenv("BENCH_KEEP_DB") != nullptr) {
    std::printf("kept database: %s\n", url.c_str());
  } else {
    DropDatabase(admin_url, url);
  }
}

}  // namespace strato::test
