// Every case of test/conformance/webauthn/index.json through VerifyRegistration and
// VerifyAssertion (see conformance_runner.h), grouped by source; each case is one CHECK with
// a message naming the case, what was expected and what happened. The same cases also run one
// ctest each ("webauthn: conformance <case id>") through webauthn_conformance_case.
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "test/core/webauthn/conformance_runner.h"

using namespace strato::webauthn;
using namespace strato::webauthn::conformance;

namespace {

const std::string kDir = STRATO_WEBAUTHN_CONFORMANCE_DIR;

int RunCases(const std::string& prefix) {
  int ran = 0;
  for (const std::string& id : CaseIds(kDir)) {
    if (id.rfind(prefix, 0) != 0) continue;
    ++ran;
    CaseReport report = RunCase(kDir, id);
    CHECK_MESSAGE(report.passed, report.explanation);
  }
  return ran;
}

}  // namespace

TEST_CASE("conformance index lists 64 cases and every case file exists") {
  auto ids = CaseIds(kDir);
  CHECK(ids.size() == 64);
}

TEST_CASE("conformance w3c-l3 cases verify as expected") {
  CHECK(RunCases("w3c-l3/") == 38);
}

TEST_CASE("conformance go-webauthn cases verify as expected") {
  CHECK(RunCases("go-webauthn/") == 17);
}

TEST_CASE("conformance derived cases verify as expected") {
  CHECK(RunCases("derived/") == 9);
}

TEST_CASE("conformance error texts map onto error kinds") {
  CHECK(ExpectedKind("challenge mismatch (go-webauthn: 'Error validating challenge')") ==
        ErrorKind::kChallengeMismatch);
  CHECK(ExpectedKind("crossOrigin=true but RP does not allow cross-origin") ==
        ErrorKind::kCrossOrigin);
  CHECK(ExpectedKind("clientDataJSON.origin (http://localhost:5000) not in expected origins") ==
        ErrorKind::kOriginMismatch);
  CHECK(ExpectedKind("clientDataJSON.type is 'webauthn.get' but ...") == ErrorKind::kWrongType);
  CHECK_FALSE(ExpectedKind("something nobody described").has_value());
}

TEST_CASE("conformance runner reports an unknown case as a failure") {
  CaseReport r = RunCase(kDir, "no-such/case");
  CHECK_FALSE(r.passed);
  CHECK(r.explanation.find("not in") != std::string::npos);
}
