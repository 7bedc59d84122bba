// hostd's configuration (hostd/config.h): the graceful stop timeout.
#include <doctest/doctest.h>

#include "hostd/config.h"
#include "test/support/process.h"

using namespace strato;

namespace {

Result<hostd::HostdConfig> Read(const std::string& state, std::optional<std::string> timeout) {
  std::map<std::string, std::string> vars = {
      {"NATS_URL", "nats://127.0.0.1:4222"}, {"STRATO_STATE_DIR", state},
      {"STRATO_HOST_ID", "host-a"},          {"STRATO_HOST_CPUS", "4"},
      {"STRATO_HOST_MEMORY_MB", "4096"},     {"STRATO_HOST_DISK_GB", "100"}};
  if (timeout) vars["STRATO_STOP_TIMEOUT_SECONDS"] = *timeout;
  MapEnv env(vars);
  return hostd::ReadHostdConfig(env);
}

}  // namespace

TEST_CASE("the graceful stop timeout defaults to 30 seconds and can be set or turned off") {
  auto dir = test::TempDir::Make("hostd-config-");
  REQUIRE(dir.ok());
  const std::string state = (*dir)->path() + "/state";
  auto def = Read(state, std::nullopt);
  REQUIRE_MESSAGE(def.ok(), def.status().ToString());
  CHECK(def->stop_timeout == std::chrono::seconds(30));
  auto two = Read(state, "2");
  REQUIRE(two.ok());
  CHECK(two->stop_timeout == std::chrono::seconds(2));
  auto off = Read(state, "0");
  REQUIRE(off.ok());
  CHECK(off->stop_timeout == std::chrono::milliseconds(0));
  for (const char* bad : {"-1", "soon", "100000"}) {
    auto r = Read(state, bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("STRATO_STOP_TIMEOUT_SECONDS") != std::string::npos);
  }
}
