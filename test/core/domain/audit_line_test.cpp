// The audit trail's one-line summaries (core/domain/audit_line.h): salient fields first, values
// quoted and shortened, objects left out, and never a secret.
#include <doctest/doctest.h>

#include <string>

#include "core/domain/audit_line.h"

using namespace strato::domain;

TEST_CASE("an audit summary shows the salient fields first then the others in the data's order") {
  CHECK(AuditSummary("VmCreated", std::string(R"({"cpu_count":2,"memory_mb":4096,"name":"web-1",)"
                                              R"("org_id":"org-1","image":"debian-12"})")) ==
        "VmCreated name=web-1 org_id=org-1 cpu_count=2 memory_mb=4096");
  CHECK(AuditSummary("VmStarted", std::string(R"({"generation":2})")) == "VmStarted generation=2");
  CHECK(AuditSummary("VmObservedStateReported",
                     std::string(R"({"generation":2,"state":"running","host_id":"host-3"})")) ==
        "VmObservedStateReported state=running host_id=host-3 generation=2");
  CHECK(AuditSummary("HostCordoned", std::string("{}")) == "HostCordoned");
  // Data that is not an object, or not JSON: the type alone.
  CHECK(AuditSummary("Odd", std::string("[1,2]")) == "Odd");
  CHECK(AuditSummary("Odd", std::string("{\"name\":")) == "Odd");
}

TEST_CASE("an audit summary never shows secrets") {
  const std::string passkey = R"({"name":"laptop","public_key":"pk-abc","credential_id":"cred-1",)"
                              R"("challenge":"ch-xyz","signature":"sig-123"})";
  const std::string token =
      R"({"token":"t0p-s3cret","Token_Hash":"h","client_secret":"cs","label":"ci"})";
  const std::string user =
      R"({"username":"ada","password":"hunter2","PASSWORD_HASH":"x","SshKey":"ssh-rsa AAA"})";
  CHECK(AuditSummary("PasskeyRegistered", passkey) ==
        "PasskeyRegistered name=laptop credential_id=cred-1");
  CHECK(AuditSummary("ApiTokenIssued", token) == "ApiTokenIssued label=ci");
  CHECK(AuditSummary("UserRegistered", user) == "UserRegistered username=ada");
  for (const char* word : {"secret", "Token", "PASSWORD", "key", "challenge", "signature"}) {
    CHECK_MESSAGE(IsSecretField(std::string("my_") + word + "_field"), word);
  }
  CHECK_FALSE(IsSecretField("label"));
  CHECK_FALSE(IsSecretField("username"));
}

TEST_CASE("an audit summary quotes and shortens values and leaves out objects and arrays") {
  const std::string data = R"({"name":"my web server","description":")" + std::string(100, 'x') +
                           R"(","spec":{"cpu_count":2},"tags":["a"],"note":null})";
  CHECK(AuditSummary("VmCreated", data) ==
        R"(VmCreated name="my web server" description=")" + std::string(60, 'x') + "\u2026\"");
  CHECK(
      AuditSummary("VmDeleted", std::string(R"({"forced":true,"reason":"user asked \"now\""})")) ==
      R"(VmDeleted reason="user asked \"now\"" forced=true)");
  // At most four fields; shortening counts characters, not bytes.
  CHECK(AuditSummary("Many", std::string(R"({"a":1,"b":2,"c":3,"d":4,"e":5})")) ==
        "Many a=1 b=2 c=3 d=4");
  std::string e_acute;
  for (int i = 0; i < 70; ++i) e_acute += "\u00e9";
  CHECK(AuditSummary("Name", R"({"name":")" + e_acute + R"("})") ==
        "Name name=\"" + e_acute.substr(0, 120) + "\u2026\"");
}
