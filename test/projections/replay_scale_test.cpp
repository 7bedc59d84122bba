// The replay test at scale: 1,000 VMs in 10 organizations across 5 hosts with a
// realistic mix of commands; `strato replay` must rebuild identical read models, and
// `--as-of` a middle position must show each VM as it was then.
#include <doctest/doctest.h>

#include "events/commands/domain_commands.h"
#include "events/commands/scheduler_service.h"
#include "projections/models/registry.h"
#include "projections/runner/runner.h"
#include "test/support/test_env.h"

using namespace strato;
using namespace strato::events;
namespace d = strato::domain;

namespace {

CommandContext As(const std::string& user) {
  CommandContext c;
  c.command_id = Uuid::NewV4();
  c.actor = "user-" + user;
  return c;
}

void Must(const Result<CommandOutcome>& r) {
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
}

}  // namespace

TEST_CASE("replay rebuilds identical read models from 1000 VMs in 10 orgs on 5 hosts") {
  test::TestDatabase db;
  DomainCommands commands(db.store());
  SchedulerService scheduler(db.store(), nullptr, commands);

  for (int u = 0; u < 20; ++u) {
    std::string id = "u" + std::to_string(u);
    Must(commands.User({}, id, d::RegisterUser{id, "user-" + std::to_string(u), "User " + id}));
  }
  for (int o = 0; o < 10; ++o) {
    std::string org = "o" + std::to_string(o);
    Must(commands.Organization(As("u" + std::to_string(o)), org,
                               d::CreateOrganization{org, "Org " + org}));
    Must(commands.Organization(As("u" + std::to_string(o)), org,
                               d::AddMember{"u" + std::to_string(10 + o), d::OrgRole::kMember}));
  }
  for (int h = 0; h < 5; ++h) {
    d::RegisterHost host;
    host.host_id = "h" + std::to_string(h);
    host.name = "node-" + std::to_string(h);
    host.address = "127.0.0." + std::to_string(h + 1);
    host.cpu_count = 512;
    host.memory_mb = 262144;
    host.disk_gb = 20000;
    host.hypervisor_kind = "cloud-hypervisor";
    host.hypervisor_version = "41.0";
    Must(commands.Host({}, host.host_id, host));
  }

  int64_t middle = 0;
  std::string renamed_after_middle;
  for (int i = 0; i < 1000; ++i) {
    std::string vm = "vm" + std::to_string(i);
    std::string org = "o" + std::to_string(i % 10);
    d::CreateVm c;
    c.vm_id = vm;
    c.org_id = org;
    c.owner_id = "u" + std::to_string(i % 10);
    c.name = "web-" + std::to_string(i);
    c.image = "debian-12";
    c.cpu_count = 1 + i % 2;
    c.memory_mb = 512;
    c.disk_gb = 10;
    c.start = i % 4 != 0;
    Must(commands.Vm(As(c.owner_id), vm, c));
    if (i % 100 == 99) REQUIRE(scheduler.Step().ok());
  }
  REQUIRE(scheduler.Step().ok());
  middle = *db.store().LastPosition();

  for (int i = 0; i < 1000; ++i) {
    std::string vm = "vm" + std::to_string(i);
    auto state = commands.LoadVm(vm);
    REQUIRE(state.ok());
    REQUIRE_FALSE(state->host_id.empty());
    std::string owner = "u" + std::to_string(i % 10);
    if (i % 3 == 0) {
      Must(commands.Vm({}, vm,
                       d::ReportVmObserved{state->host_id, d::VmObservedState::kRunning,
                                           state->generation, std::nullopt}));
    }
    if (i % 5 == 0) Must(commands.Vm(As(owner), vm, d::StopVm{i % 10 == 0}));
    if (i % 7 == 0) {
      // Restarting a VM that is asked to be stopped is refused with a sentence; others restart.
      auto r = commands.Vm(As(owner), vm, d::RestartVm{});
      if (!r.ok()) CHECK(r.status().code() == Code::kFailedPrecondition);
    }
    if (i % 11 == 0) {
      Must(commands.Vm(As(owner), vm, d::RenameVm{"app-" + std::to_string(i)}));
      if (renamed_after_middle.empty()) renamed_after_middle = vm;
    }
    if (i % 13 == 0) Must(commands.Vm(As(owner), vm, d::DeleteVm{}));
  }
  REQUIRE_FALSE(renamed_after_middle.empty());

  // The live read models, folded by the runner as `strato serve` would.
  auto runner = projections::ProjectionRunner::Create(db.store(), nullptr,
                                                      projections::AllProjections(), {db.url()});
  REQUIRE(runner.ok());
  REQUIRE((*runner)->CatchUp().ok());
  auto c = db.Connect();
  auto placed = c->Exec("SELECT count(DISTINCT host_id) FROM host_allocations");
  if (placed.ok()) CHECK(placed->GetInt64(0, 0) == 5);
  runner->reset();

  auto [code, out] = test::RunStrato({"replay"}, db.url());
  CHECK_MESSAGE(code == 0, out);
  CHECK_MESSAGE(out.find("identical") != std::string::npos, out);

  auto [as_code, as_out] = test::RunStrato(
      {"replay", "--as-of", std::to_string(middle), "--stream", "vm-" + renamed_after_middle},
      db.url());
  CHECK(as_code == 0);
  CHECK_MESSAGE(as_out.find("\"name\":\"web-") != std::string::npos, as_out);
  auto [now_code, now_out] =
      test::RunStrato({"replay", "--as-of", std::to_string(*db.store().LastPosition()), "--stream",
                       "vm-" + renamed_after_middle},
                      db.url());
  CHECK(now_code == 0);
  CHECK_MESSAGE(now_out.find("\"name\":\"app-") != std::string::npos, now_out);
}
