// Scratch databases for tests and benchmarks: CreateScratchDatabase makes an empty, migrated
// database named <prefix><random> on the server of `admin_url` and returns its URL;
// DropDatabase removes it. No doctest here, so benchmark programs can link it.
#pragma once

#include <string>

#include "core/status.h"

namespace strato::test {

// `url` with its database name replaced (URL or key=value form).
std::string WithDatabase(const std::string& url, const std::string& dbname);
Result<std::string> CreateScratchDatabase(const std::string& admin_url, const std::string& prefix);
void DropDatabase(const std::string& admin_url, const std::string& url);
// For benchmarks: drops it, or with BENCH_KEEP_DB set keeps it and prints its URL.
void DropDatabaseUnlessKept(const std::string& admin_url, const std::string& url);

}  // namespace strato::test
