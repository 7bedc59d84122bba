// The registration message of the host protocol (schema/host_protocol.md): the accelerator and
// the allocation ratios a host registers, their bounds, and what a registration without them
// (from an older hostd) means.
#include <doctest/doctest.h>

#include <string>

#include "core/domain/host.h"
#include "events/hosts/host_protocol.h"

using namespace strato;

namespace {

events::HostRegistration Qemu() {
  events::HostRegistration r;
  r.name = "laptop";
  r.address = "10.0.0.1";
  r.cpu_count = 2;
  r.memory_mb = 8192;
  r.disk_gb = 100;
  r.hypervisor_kind = "qemu";
  r.hypervisor_version = "7.2.19";
  r.heartbeat_interval_ms = 3000;
  r.accelerator = "tcg";
  r.cpu_allocation_ratio = 4;
  r.memory_allocation_ratio = 2;
  return r;
}

// A registration with `extra` (",\"key\":value" members) after the fields every hostd sends.
std::string Registration(const std::string& extra) {
  return "{\"name\":\"h\",\"address\":\"a\",\"cpu_count\":2,\"memory_mb\":1024,\"disk_gb\":10,"
         "\"hypervisor_kind\":\"qemu\",\"hypervisor_version\":\"7.2\"" +
         extra + "}";
}

std::string Refusal(const std::string& extra) {
  auto r = events::DecodeRegistration(Registration(extra));
  return r.ok() ? "accepted" : r.status().ToString();
}

}  // namespace

TEST_CASE("a registration carries the hypervisor kind and version and the accelerator and ratios") {
  const std::string json = events::EncodeRegistration(Qemu());
  CHECK(json.find("\"accelerator\":\"tcg\"") != std::string::npos);
  CHECK(json.find("\"cpu_allocation_ratio\":4") != std::string::npos);
  CHECK(json.find("\"memory_allocation_ratio\":2") != std::string::npos);
  auto r = events::DecodeRegistration(json);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->hypervisor_kind == "qemu");
  CHECK(r->hypervisor_version == "7.2.19");
  CHECK(r->accelerator == "tcg");
  CHECK(r->cpu_allocation_ratio == 4);
  CHECK(r->memory_allocation_ratio == 2);
  CHECK(r->cpu_count == 2);
}

TEST_CASE("a registration from an older hostd says no accelerator and means 1 to 1") {
  auto r = events::DecodeRegistration(Registration(""));
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->accelerator.empty());
  CHECK(r->cpu_allocation_ratio == 1);
  CHECK(r->memory_allocation_ratio == 1);
  auto nulls = events::DecodeRegistration(Registration(
      ",\"accelerator\":null,\"cpu_allocation_ratio\":null,\"memory_allocation_ratio\":null"));
  REQUIRE_MESSAGE(nulls.ok(), nulls.status().ToString());
  CHECK(nulls->cpu_allocation_ratio == 1);
  CHECK(nulls->memory_allocation_ratio == 1);
}

TEST_CASE("the accelerator and the allocation ratios of a registration are bounded") {
  CHECK(Refusal(",\"cpu_allocation_ratio\":64,\"memory_allocation_ratio\":16") == "accepted");
  CHECK(Refusal(",\"cpu_allocation_ratio\":0") ==
        "invalid_argument: a registration has a \"cpu_allocation_ratio\" outside 1 to 64");
  CHECK(Refusal(",\"cpu_allocation_ratio\":65") ==
        "invalid_argument: a registration has a \"cpu_allocation_ratio\" outside 1 to 64");
  CHECK(Refusal(",\"cpu_allocation_ratio\":1.5") ==
        "invalid_argument: a registration has a \"cpu_allocation_ratio\" that is not a whole "
        "number");
  CHECK(Refusal(",\"cpu_allocation_ratio\":18446744073709551615") ==
        "invalid_argument: a registration has a \"cpu_allocation_ratio\" that is not a whole "
        "number");
  CHECK(Refusal(",\"memory_allocation_ratio\":17") ==
        "invalid_argument: a registration has a \"memory_allocation_ratio\" outside 1 to 16");
  CHECK(Refusal(",\"memory_allocation_ratio\":-1") ==
        "invalid_argument: a registration has a \"memory_allocation_ratio\" outside 1 to 16");
  CHECK(Refusal(",\"accelerator\":\"" + std::string(65, 'k') + "\"") ==
        "invalid_argument: a registration has a \"accelerator\" longer than 64 bytes");
  CHECK(Refusal(",\"accelerator\":7") ==
        "invalid_argument: a registration has a \"accelerator\" that is not a string");
  CHECK(domain::kMaxCpuAllocationRatio == 64);
  CHECK(domain::kMaxMemoryAllocationRatio == 16);
}
