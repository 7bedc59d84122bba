// Schema migrations: numbered SQL files from schema/migrations/, compiled into the binary
// (see schema/embed_migrations.cmake), applied in order under a session advisory lock, each in
// its own transaction, recorded in schema_migrations with a checksum. Re-running is a no-op;
// a recorded migration whose text changed is refused. Use from one thread per connection.
#pragma once

#include <string>
#include <vector>

#include "events/pg/pg.h"

namespace strato::events {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// Advisory lock keys used by Strato (one place, so they never collide).
inline constexpr int64_t kMigrationLockKey = 0x5354524154'4f0001;
inline constexpr int64_t kAppendLockKey = 0x5354524154'4f0002;

const std::vector<Migration>& EmbeddedMigrations();

struct MigrationReport {
  int applied = 0;          // newly applied in this call
  int current_version = 0;  // highest version recorded afterwards
};

Result<MigrationReport> Migrate(PgConnection& conn,
                                const std::vector<Migration>& migrations = EmbeddedMigrations());

// OK when every embedded migration is recorded; FailedPrecondition naming the first missing.
Status CheckMigrated(PgConnection& conn,
                     const std::vector<Migration>& migrations = EmbeddedMigrations());

}  // namespace strato::events
