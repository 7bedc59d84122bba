#include <doctest/doctest.h>

#include "events/commands/scheduler_service.h"
#include "events/log/memory_event_store.h"

using namespace strato;
using namespace strato::events;
namespace d = strato::domain;

namespace {

d::RegisterHost Host(const std::string& id, int64_t cpus, int64_t mem, int64_t disk) {
  d::RegisterHost h;
  h.host_id = id;
  h.name = id;
  h.address = "127.0.0.1";
  h.cpu_count = cpus;
  h.memory_mb = mem;
  h.disk_gb = disk;
  h.hypervisor_kind = "cloud-hypervisor";
  h.hypervisor_version = "41.0";
  return h;
}

d::CreateVm Vm(const std::string& id, int64_t cpus, int64_t mem) {
  d::CreateVm c;
  c.vm_id = id;
  c.org_id = "o1";
  c.name = id;
  c.image = "debian-12";
  c.cpu_count = cpus;
  c.memory_mb = mem;
  c.disk_gb = 10;
  return c;
}

CommandContext User() {
  CommandContext c;
  c.actor = "user-u1";
  return c;
}

}  // namespace

TEST_CASE("the scheduler places VMs with room and spreads them and says why when none fits") {
  MemoryEventStore store;
  DomainCommands commands(store);
  SchedulerService scheduler(store, nullptr, commands);
  REQUIRE(commands.Host({}, "h1", Host("h1", 4, 8192, 100)).ok());
  REQUIRE(commands.Host({}, "h2", Host("h2", 8, 16384, 200)).ok());
  REQUIRE(commands.Vm(User(), "a", Vm("a", 2, 4096)).ok());
  REQUIRE(commands.Vm(User(), "b", Vm("b", 2, 4096)).ok());
  auto placed = scheduler.Step();
  REQUIRE(placed.ok());
  CHECK(*placed == 2);
  auto a = commands.LoadVm("a");
  auto b = commands.LoadVm("b");
  // a goes to the emptier h2; then h2 (8192 of 16384 left = 0.5 after b) ties h1 (0.5 after b);
  // the smaller id wins.
  CHECK(a->host_id == "h2");
  CHECK(b->host_id == "h1");

  REQUIRE(commands.Vm(User(), "big", Vm("big", 32, 65536)).ok());
  REQUIRE(scheduler.Step().ok());
  auto big = commands.LoadVm("big");
  CHECK(big->host_id.empty());
  CHECK(big->placement_failure.find("no host has room for 32 CPUs") == 0);
  int64_t before = *store.LastPosition();
  REQUIRE(scheduler.Step().ok());  // nothing changed: no repeated failure event
  CHECK(*store.LastPosition() == before);

  REQUIRE(commands.Host({}, "h3", Host("h3", 64, 131072, 1000)).ok());
  REQUIRE(scheduler.Step().ok());
  CHECK(commands.LoadVm("big")->host_id == "h3");
}

TEST_CASE("the scheduler skips cordoned hosts and uses capacity freed by a deleted VM") {
  MemoryEventStore store;
  DomainCommands commands(store);
  SchedulerService scheduler(store, nullptr, commands);
  REQUIRE(commands.Host({}, "h1", Host("h1", 4, 8192, 100)).ok());
  REQUIRE(commands.Host({}, "h2", Host("h2", 64, 131072, 1000)).ok());
  REQUIRE(commands.Host({}, "h2", d::CordonHost{"maintenance"}).ok());
  REQUIRE(commands.Vm(User(), "a", Vm("a", 4, 8192)).ok());
  REQUIRE(scheduler.Step().ok());
  CHECK(commands.LoadVm("a")->host_id == "h1");
  REQUIRE(commands.Vm(User(), "b", Vm("b", 4, 8192)).ok());
  REQUIRE(scheduler.Step().ok());
  CHECK(commands.LoadVm("b")->host_id.empty());  // h1 full and h2 cordoned
  REQUIRE(commands.Vm(User(), "a", d::DeleteVm{}).ok());
  REQUIRE(scheduler.Step().ok());
  CHECK(commands.LoadVm("b")->host_id == "h1");
}
