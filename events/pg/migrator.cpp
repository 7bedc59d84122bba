#include "events/pg/migrator.h"

#include <sodium.h>

#include <map>

#include "core/log.h"
#include "events/log/event.h"

namespace strato::events {
namespace {

std::string Checksum(const char* sql) {
  unsigned char h[32];
  std::string_view s(sql);
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(s.data()), s.size(),
                     nullptr, 0);
  return HexEncode(h, sizeof h);
}

const char* kCreateTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
))sql";

Result<std::map<int, std::string>> Recorded(PgConnection& conn) {
  auto r = conn.Exec("SELECT version, checksum FROM schema_migrations ORDER BY version");
  if (!r.ok()) return r.status();
  std::map<int, std::string> out;
  for (int i = 0; i < r->rows(); ++i) {
    out[static_cast<int>(r->GetInt64(i, 0))] = std::string(r->Get(i, 1));
  }
  return out;
}

}  // namespace

Result<MigrationReport> Migrate(PgConnection& conn, const std::vector<Migration>& migrations) {
  const std::string key = std::to_string(kMigrationLockKey);
  STRATO_RETURN_IF_ERROR(conn.Run("SELECT pg_advisory_lock($1::bigint)", {key}));
  auto unlock = [&conn, &key]() { (void)conn.Run("SELECT pg_advisory_unlock($1::bigint)", {key}); };
  MigrationReport report;
  Status st = conn.Run(kCreateTable);
  if (!st.ok()) {
    unlock();
    return st.WithContext("creating schema_migrations");
  }
  auto recorded = Recorded(conn);
  if (!recorded.ok()) {
    unlock();
    return recorded.status();
  }
  for (const Migration& m : migrations) {
    std::string sum = Checksum(m.sql);
    auto it = recorded->find(m.version);
    if (it != recorded->end()) {
      if (it->second != sum) {
        unlock();
        return Status::FailedPrecondition("migration " + std::string(m.name) +
                                          " was changed after it was applied; add a new "
                                          "migration instead of editing an applied one");
      }
      report.current_version = m.version;
      continue;
    }
    Status s = conn.Run("BEGIN");
    if (s.ok()) s = conn.Run(m.sql);
    if (s.ok()) {
      s = conn.Run("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                   {std::to_string(m.version), m.name, sum});
    }
    if (s.ok()) s = conn.Run("COMMIT");
    if (!s.ok()) {
      (void)conn.Run("ROLLBACK");
      unlock();
      return s.WithContext("applying migration " + std::string(m.name));
    }
    log::Info("migration applied", {{"version", m.version}, {"name", m.name}});
    ++report.applied;
    report.current_version = m.version;
  }
  unlock();
  return report;
}

Status CheckMigrated(PgConnection& conn, const std::vector<Migration>& migrations) {
  auto exists = conn.Exec("SELECT to_regclass('schema_migrations') IS NOT NULL");
  if (!exists.ok()) return exists.status();
  if (exists->Get(0, 0) != "t") {
    return Status::FailedPrecondition("the database has no migrations applied; run strato migrate");
  }
  auto recorded = Recorded(conn);
  if (!recorded.ok()) return recorded.status();
  for (const Migration& m : migrations) {
    if (!recorded->count(m.version)) {
      return Status::FailedPrecondition("migration " + std::string(m.name) +
                                        " is not applied; run strato migrate");
    }
  }
  return Status::Ok();
}

}  // namespace strato::events
