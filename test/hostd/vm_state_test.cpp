// A VM's states in hostd's supervisor (hostd/vm_state.h): the transition table, and the
// supervisor walking a VM through them on a real libuv loop with a fake hypervisor whose VMMs
// cannot be spawned, on manual clocks (hostd/clock.h). No services, no VMM processes.
#include <doctest/doctest.h>
#include <uv.h>

#include <filesystem>
#include <set>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "hostd/clock.h"
#include "hostd/supervisor.h"
#include "hostd/vm_state.h"
#include "hostd/work_queue.h"
#include "test/support/process.h"

using namespace strato;
using namespace strato::hostd;
using std::chrono::milliseconds;

namespace {

const std::vector<VmState> kAll = {VmState::kUnknown, VmState::kIdle, VmState::kStepping,
                                   VmState::kAwaitingGuest, VmState::kGone};

// The table in vm_state.h, written out again.
const std::set<std::pair<VmState, VmState>> kTable = {
    {VmState::kUnknown, VmState::kIdle},           {VmState::kIdle, VmState::kStepping},
    {VmState::kAwaitingGuest, VmState::kStepping}, {VmState::kStepping, VmState::kIdle},
    {VmState::kStepping, VmState::kAwaitingGuest}, {VmState::kStepping, VmState::kGone},
    {VmState::kAwaitingGuest, VmState::kIdle},     {VmState::kGone, VmState::kIdle},
};

// VMMs that cannot start (the binary does not exist); every other call fails, and a step that
// needs none (a stopped or deleted VM without a VMM) converges.
class NoVmmHypervisor final : public Hypervisor {
 public:
  std::string Kind() const override { return "fake"; }
  std::vector<std::string> VmmCommandLine(const std::string& s, const VmSpec&) const override {
    return {"/nonexistent/strato-test-vmm", "--api-socket", s};
  }
  std::optional<std::string> SocketFromCommandLine(const std::vector<std::string>&) const override {
    return std::nullopt;
  }
  Status Ping(const std::string&) override { return Down(); }
  Status Create(const std::string&, const VmSpec&) override { return Down(); }
  Status Boot(const std::string&) override { return Down(); }
  Status Shutdown(const std::string&) override { return Down(); }
  Status PowerButton(const std::string&) override { return Down(); }
  Status Reboot(const std::string&) override { return Down(); }
  Status Pause(const std::string&) override { return Down(); }
  Status Resume(const std::string&) override { return Down(); }
  Status Delete(const std::string&) override { return Down(); }
  Result<VmInfo> Info(const std::string&) override { return Down(); }
  Status ShutdownVmm(const std::string&) override { return Down(); }

 private:
  static Status Down() { return Status::Unavailable("no VMM"); }
};

events::DesiredVm Row(const std::string& desired, int64_t generation, int64_t position) {
  events::DesiredVm row;
  row.vm_id = "vm-1";
  row.name = "one";
  row.desired = desired;
  row.generation = generation;
  row.last_action = "create";
  row.position = position;
  return row;
}

}  // namespace

TEST_CASE("the VM state transitions are exactly the table's") {
  for (VmState from : kAll) {
    for (VmState to : kAll) {
      CAPTURE(VmStateName(from));
      CAPTURE(VmStateName(to));
      CHECK(TransitionAllowed(from, to) == (kTable.count({from, to}) == 1));
    }
  }
}

TEST_CASE("moving a VM's state checks the table") {
  VmState s = VmState::kUnknown;
  CHECK(MoveVmState(s, VmState::kIdle, "vm-1"));
  CHECK(MoveVmState(s, VmState::kStepping, "vm-1"));
  CHECK(MoveVmState(s, VmState::kAwaitingGuest, "vm-1"));
  CHECK(MoveVmState(s, VmState::kStepping, "vm-1"));
  CHECK(MoveVmState(s, VmState::kGone, "vm-1"));
  CHECK(MoveVmState(s, VmState::kIdle, "vm-1"));
  CHECK(s == VmState::kIdle);
#ifdef NDEBUG
  // Not in the table (debug builds assert): logged as a bug, false, and the state says what
  // happens.
  CHECK_FALSE(MoveVmState(s, VmState::kGone, "vm-1"));
  CHECK(s == VmState::kGone);
  CHECK_FALSE(MoveVmState(s, VmState::kStepping, "vm-1"));
  CHECK(s == VmState::kStepping);
  CHECK_FALSE(MoveVmState(s, VmState::kUnknown, "vm-1"));
#endif
  CHECK(std::string(VmStateName(VmState::kAwaitingGuest)) == "awaiting-guest");
}

TEST_CASE("the supervisor walks a VM through its states and backs off on the injected clock") {
  auto dir = test::TempDir::Make("supervisor-");
  REQUIRE(dir.ok());
  HostdConfig config;
  config.host_id = "host-a";
  config.state_dir = (*dir)->path();
  std::filesystem::create_directories(config.vms_dir());
  NoVmmHypervisor hv;
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  ManualSteadyClock steady;
  ManualClock wall(FromUnixMicros(1'800'000'000'000'000));
  std::vector<events::VmReport> reports;
  {
    WorkQueue work(&loop);
    Supervisor sup(config, hv, &loop, work, steady, wall,
                   [&](events::VmReport r) { reports.push_back(std::move(r)); });
    auto settle = [&] {
      while (work.pending() > 0) (void)uv_run(&loop, UV_RUN_ONCE);
    };
    CHECK(sup.Find("vm-1") == nullptr);

    // Its row arrives: kUnknown -> kIdle -> kStepping at once (a stopped VM without a VMM).
    sup.ApplyRow(Row("stopped", 1, 5));
    const VmRecord* vm = sup.Find("vm-1");
    REQUIRE(vm != nullptr);
    CHECK(vm->state == VmState::kStepping);
    settle();
    // The step reported it stopped (kIdle); preparing its VMM then failed to spawn: a back-off
    // of 0.5 s on the steady clock, and no report (it is background work).
    CHECK(vm->state == VmState::kIdle);
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].state == "stopped");
    CHECK(reports[0].generation == 1);
    CHECK(vm->failures == 1);
    CHECK(vm->dirty);
    CHECK(vm->next_attempt == steady.Now() + milliseconds(500));
    CHECK(sup.Count().vms == 1);
    CHECK(sup.Count().running == 0);

    sup.OnTick();  // not due yet
    CHECK(vm->failures == 1);
    steady.Advance(milliseconds(500));
    sup.OnTick();  // due: tries again, and waits twice as long
    CHECK(vm->failures == 2);
    CHECK(vm->next_attempt == steady.Now() + milliseconds(1000));

    // Wanted running while backing off: waits for the back-off, then reports the failure.
    sup.ApplyRow(Row("running", 2, 6));
    CHECK(vm->state == VmState::kIdle);
    CHECK(reports.size() == 1);
    steady.Advance(milliseconds(1000));
    sup.OnTick();
    CHECK(vm->failures == 3);
    REQUIRE(reports.size() == 2);
    CHECK(reports[1].state == "failed");
    CHECK(reports[1].generation == 2);
    CHECK(reports[1].error.value_or("").find("cannot start the VMM") != std::string::npos);
    CHECK(vm->next_attempt == steady.Now() + milliseconds(2000));

    // An older row changes nothing.
    sup.ApplyRow(Row("stopped", 1, 5));
    CHECK(vm->desired.desired == "running");

    // Deleted: one step removes its files (kStepping -> kGone); it no longer counts.
    sup.ApplyRow(Row("deleted", 3, 7));
    steady.Advance(milliseconds(2000));
    sup.OnTick();
    CHECK(vm->state == VmState::kStepping);
    settle();
    CHECK(vm->state == VmState::kGone);
    CHECK(reports.back().state == "stopped");
    CHECK(reports.back().generation == 3);
    CHECK_FALSE(std::filesystem::exists(vm->paths.dir));
    CHECK(sup.Count().vms == 0);
    sup.OnTick();
    CHECK(vm->state == VmState::kGone);  // nothing more to do

    // Wanted again (the domain does not do this; the table allows it): kGone -> kIdle.
    sup.ApplyRow(Row("stopped", 4, 8));
    CHECK(vm->state != VmState::kGone);
    settle();
    CHECK(vm->state == VmState::kIdle);

    sup.Stop();
    sup.Detach();
  }
  (void)uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}
