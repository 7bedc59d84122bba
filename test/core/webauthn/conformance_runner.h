// Runs one case of test/conformance/webauthn through the public verifier API exactly as the
// HTTP endpoints will (browser JSON → Parse*ResponseJson → Verify*), and judges the outcome
// against the case's "expected" and error class. Shared by the doctest suite and the per-case
// ctest runner; no test framework inside.
//
// Not thread-safe only in the sense that it reads files; each call is independent.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/webauthn/error.h"

namespace strato::webauthn::conformance {

// Maps a case's free-text expected_error onto an ErrorKind; nullopt when no rule matches.
std::optional<ErrorKind> ExpectedKind(const std::string& expected_error);

// Cases whose verdict here intentionally differs from index.json's "expected", with the reason.
const std::map<std::string, std::string>& Deviations();

struct CaseReport {
  std::string case_id;
  bool passed = false;      // verdict matched expectations (after any listed deviation)
  std::string explanation;  // what happened, for a failure message or a log line
};

// Every case id in index.json, in order.
std::vector<std::string> CaseIds(const std::string& conformance_dir);

CaseReport RunCase(const std::string& conformance_dir, const std::string& case_id);

}  // namespace strato::webauthn::conformance
