// hostd's configuration (hostd/config.h): the graceful stop timeout and the allocation ratios.
#include <doctest/doctest.h>

#include "hostd/config.h"
#include "test/support/process.h"

using namespace strato;

namespace {

Result<hostd::HostdConfig> Read(const std::string& state, std::optional<std::string> timeout,
                                const std::map<std::string, std::string>& more = {}) {
  std::map<std::string, std::string> vars = {
      {"NATS_URL", "nats://127.0.0.1:4222"}, {"STRATO_STATE_DIR", state},
      {"STRATO_HOST_ID", "host-a"},          {"STRATO_HOST_CPUS", "4"},
      {"STRATO_HOST_MEMORY_MB", "4096"},     {"STRATO_HOST_DISK_GB", "100"}};
  if (timeout) vars["STRATO_STOP_TIMEOUT_SECONDS"] = *timeout;
  for (const auto& [k, v] : more) vars[k] = v;
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

TEST_CASE("allocation ratios default to 4 to 1 for vCPUs and 1 to 1 for memory and can be set") {
  auto dir = test::TempDir::Make("hostd-config-");
  REQUIRE(dir.ok());
  const std::string state = (*dir)->path() + "/state";
  auto def = Read(state, std::nullopt);
  REQUIRE_MESSAGE(def.ok(), def.status().ToString());
  CHECK(def->cpu_allocation_ratio == 4);
  CHECK(def->memory_allocation_ratio == 1);
  CHECK(def->accelerator.empty());  // main.cpp says it once the driver is chosen
  auto set = Read(
      state, std::nullopt,
      {{"STRATO_HOSTD_CPU_ALLOCATION_RATIO", "16"}, {"STRATO_HOSTD_MEMORY_ALLOCATION_RATIO", "2"}});
  REQUIRE_MESSAGE(set.ok(), set.status().ToString());
  CHECK(set->cpu_allocation_ratio == 16);
  CHECK(set->memory_allocation_ratio == 2);
  auto empty = Read(state, std::nullopt, {{"STRATO_HOSTD_CPU_ALLOCATION_RATIO", ""}});
  REQUIRE(empty.ok());
  CHECK(empty->cpu_allocation_ratio == 4);
}

TEST_CASE("a bad allocation ratio stops hostd with a sentence naming the variable") {
  auto dir = test::TempDir::Make("hostd-config-");
  REQUIRE(dir.ok());
  const std::string state = (*dir)->path() + "/state";
  auto cpu = Read(state, std::nullopt, {{"STRATO_HOSTD_CPU_ALLOCATION_RATIO", "1.5"}});
  REQUIRE_FALSE(cpu.ok());
  CHECK(cpu.status().ToString() ==
        "invalid_argument: STRATO_HOSTD_CPU_ALLOCATION_RATIO is \"1.5\"; it must be a whole "
        "number from 1 to 64 (the vCPUs VMs may have per physical CPU of this host: 4 means 4:1)");
  for (const char* bad : {"0", "65", "-4", "four", " 4"}) {
    auto r = Read(state, std::nullopt, {{"STRATO_HOSTD_CPU_ALLOCATION_RATIO", bad}});
    REQUIRE_FALSE(r.ok());
    CHECK_MESSAGE(r.status().message().find("STRATO_HOSTD_CPU_ALLOCATION_RATIO is") == 0,
                  r.status().message());
  }
  auto mem = Read(state, std::nullopt, {{"STRATO_HOSTD_MEMORY_ALLOCATION_RATIO", "17"}});
  REQUIRE_FALSE(mem.ok());
  CHECK(mem.status().ToString() ==
        "invalid_argument: STRATO_HOSTD_MEMORY_ALLOCATION_RATIO is \"17\"; it must be a whole "
        "number from 1 to 16 (the guest memory VMs may have per MiB of this host's memory: 1 "
        "means 1:1)");
}
