#include <doctest/doctest.h>

#include <map>

#include "core/domain/scheduler.h"

using namespace strato;
using namespace strato::domain;

namespace {

HostView Host(std::string id, Resources capacity, Resources allocated = {}) {
  HostView h;
  h.id = std::move(id);
  h.reachable = true;
  h.capacity = capacity;
  h.allocated = allocated;
  return h;
}

std::string Place(const VmSpec& vm, const std::vector<HostView>& hosts) {
  Result<HostId> r = PlaceVm(vm, hosts);
  return r.ok() ? *r : r.status().ToString();
}

const Resources kBig{16, 65536, 1000};

}  // namespace

TEST_CASE("placement picks the host with the most free memory fraction after placement") {
  std::vector<HostView> hosts = {Host("host-1", kBig, {4, 32768, 100}),
                                 Host("host-2", kBig, {4, 8192, 100}),
                                 Host("host-3", kBig, {4, 16384, 100})};
  CHECK(Place({2, 4096, 20}, hosts) == "host-2");
}

TEST_CASE("placement compares fractions so a small idle host can beat a big busy one") {
  std::vector<HostView> hosts = {Host("big", {64, 262144, 4000}, {32, 196608, 100}),
                                 Host("small", {8, 16384, 500}, {0, 0, 0})};
  CHECK(Place({2, 4096, 20}, hosts) == "small");
}

TEST_CASE("placement spreads a series of VMs across hosts") {
  std::vector<HostView> hosts = {Host("host-1", kBig), Host("host-2", kBig), Host("host-3", kBig)};
  VmSpec vm{2, 8192, 50};
  std::map<std::string, int> count;
  for (int i = 0; i < 6; ++i) {
    Result<HostId> r = PlaceVm(vm, hosts);
    REQUIRE(r.ok());
    ++count[*r];
    for (HostView& h : hosts) {
      if (h.id == *r) {
        h.allocated.cpu_count += vm.cpu_count;
        h.allocated.memory_mb += vm.memory_mb;
        h.allocated.disk_gb += vm.disk_gb;
      }
    }
  }
  CHECK(count == std::map<std::string, int>{{"host-1", 2}, {"host-2", 2}, {"host-3", 2}});
}

TEST_CASE("placement ties break on CPU fraction then on the smallest id") {
  std::vector<HostView> cpu = {Host("host-1", kBig, {8, 0, 0}), Host("host-2", kBig, {2, 0, 0})};
  CHECK(Place({1, 1024, 10}, cpu) == "host-2");
  std::vector<HostView> same = {Host("host-b", kBig), Host("host-a", kBig), Host("host-c", kBig)};
  CHECK(Place({1, 1024, 10}, same) == "host-a");
}

TEST_CASE("placement needs room for CPU and memory and disk at once") {
  std::vector<HostView> hosts = {
      Host("no-cpu", kBig, {15, 0, 0}), Host("no-mem", kBig, {0, 64000, 0}),
      Host("no-disk", kBig, {0, 0, 990}), Host("fits", kBig, {8, 32768, 500})};
  CHECK(Place({2, 4096, 20}, hosts) == "fits");
  // Exactly full after placement still fits.
  CHECK(Place({8, 32768, 500}, {Host("exact", kBig, {8, 32768, 500})}) == "exact");
}

TEST_CASE("placement skips cordoned and unreachable hosts") {
  HostView cordoned = Host("host-1", kBig);
  cordoned.cordoned = true;
  HostView down = Host("host-2", kBig);
  down.reachable = false;
  HostView busy = Host("host-3", kBig, {12, 60000, 900});
  CHECK(Place({2, 4096, 20}, {cordoned, down, busy}) == "host-3");
  CHECK(Place({2, 4096, 20}, {cordoned, down}) ==
        "failed_precondition: no host can take VMs: 1 host is cordoned and 1 is unreachable");
  CHECK(Place({2, 4096, 20}, {cordoned}) ==
        "failed_precondition: no host can take VMs: the only host is cordoned");
  CHECK(Place({2, 4096, 20}, {down, down}) ==
        "failed_precondition: no host can take VMs: all 2 hosts are unreachable");
}

TEST_CASE("placement without room says how big the largest free host is") {
  std::vector<HostView> hosts = {Host("host-1", kBig, {14, 61440, 100}),
                                 Host("host-2", kBig, {12, 49152, 500})};
  HostView named = Host("host-9", kBig, {0, 0, 0});
  named.name = "hv-9";
  named.cordoned = true;  // would fit, but takes no new VMs
  hosts.push_back(named);
  CHECK(Place({8, 16384, 100}, hosts) ==
        "failed_precondition: no host has room for 8 CPUs, 16384 MiB and 100 GiB: the largest "
        "free is host-2 with 4 CPUs, 16384 MiB and 500 GiB");
  CHECK(Place({1, 128, 1}, {Host("host-1", {1, 128, 1}, {2, 256, 2})}) ==
        "failed_precondition: no host has room for 1 CPU, 128 MiB and 1 GiB: the largest free "
        "is host-1 with 0 CPUs, 0 MiB and 0 GiB");
}

TEST_CASE("placement with no hosts says none is registered") {
  CHECK(Place({1, 512, 10}, {}) == "failed_precondition: no host is registered to run VMs on");
}

TEST_CASE("a 2-core host at 4 to 1 takes eight 1-vCPU VMs and refuses the ninth with a sentence") {
  HostView laptop = Host("laptop", {2, 16384, 200});
  laptop.name = "laptop";
  laptop.cpu_allocation_ratio = 4;
  std::vector<HostView> hosts = {laptop};
  const VmSpec vm{1, 512, 10};
  for (int i = 0; i < 8; ++i) {
    CHECK_MESSAGE(Place(vm, hosts) == "laptop", "VM ", i + 1);
    hosts[0].allocated.cpu_count += vm.cpu_count;
    hosts[0].allocated.memory_mb += vm.memory_mb;
    hosts[0].allocated.disk_gb += vm.disk_gb;
  }
  CHECK(Place(vm, hosts) ==
        "failed_precondition: no host has room for 1 CPU, 512 MiB and 10 GiB: the largest free "
        "is laptop with 0 CPUs, 12288 MiB and 120 GiB");
  // At 1:1 (the ratio of hosts registered before ratios) the same host took two.
  HostView one_to_one = Host("laptop", {2, 16384, 200}, {2, 1024, 20});
  CHECK(Place(vm, {one_to_one}) ==
        "failed_precondition: no host has room for 1 CPU, 512 MiB and 10 GiB: the largest free "
        "is laptop with 0 CPUs, 15360 MiB and 180 GiB");
}

TEST_CASE("memory is placed up to the host's memory times its memory allocation ratio") {
  HostView h = Host("h", {64, 8192, 1000});
  CHECK(Place({1, 16384, 10}, {h})
            .rfind("failed_precondition: no host has room for 1 CPU, "
                   "16384 MiB",
                   0) == 0);
  h.memory_allocation_ratio = 2;
  CHECK(Place({1, 16384, 10}, {h}) == "h");
  h.allocated = {1, 16384, 10};
  CHECK(Place({1, 1, 10}, {h}) ==
        "failed_precondition: no host has room for 1 CPU, 1 MiB and 10 GiB: the largest free is "
        "h with 63 CPUs, 0 MiB and 990 GiB");
  // Disk is never overcommitted (1:1 until images report their real use).
  h = Host("h", {64, 8192, 100});
  h.cpu_allocation_ratio = 64;
  h.memory_allocation_ratio = 16;
  CHECK(Place({1, 512, 101}, {h}).rfind("failed_precondition: no host has room", 0) == 0);
}

TEST_CASE("placement compares free fractions of what each host may take after its ratios") {
  // Memory ties, so the free CPU fraction after placement decides, counted against physical x
  // ratio: 8 CPUs at 4:1 with 16 placed keep 15 of 32 free, 16 at 1:1 with 4 placed 11 of 16.
  HostView dense = Host("dense", {8, 32768, 500}, {16, 16384, 0});
  dense.cpu_allocation_ratio = 4;
  HostView plain = Host("plain", {16, 32768, 500}, {4, 16384, 0});
  CHECK(Place({1, 1024, 10}, {dense, plain}) == "plain");
  dense.allocated.cpu_count = 4;  // 27 of 32 free after one more: more than plain's 11 of 16
  CHECK(Place({1, 1024, 10}, {dense, plain}) == "dense");
}
