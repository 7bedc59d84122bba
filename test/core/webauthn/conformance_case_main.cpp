// Runs one conformance case by id and exits 0 when it verifies as index.json expects; used by
// ctest to give every case its own test ("webauthn: conformance <case id>").
// Usage: webauthn_conformance_case <conformance dir> <case id>
#include <cstdio>

#include "test/core/webauthn/conformance_runner.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <conformance dir> <case id>\n", argv[0]);
    return 2;
  }
  auto report = strato::webauthn::conformance::RunCase(argv[1], argv[2]);
  std::printf("%s: %s\n", report.passed ? "PASS" : "FAIL", report.explanation.c_str());
  return report.passed ? 0 : 1;
}
