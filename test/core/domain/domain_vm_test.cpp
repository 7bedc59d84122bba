#include <doctest/doctest.h>

#include "core/domain/vm.h"
#include "test/core/domain/domain_test_util.h"

using namespace strato;
using namespace strato::domain;
using namespace strato::domain::testing;

namespace {

CreateVm Web1() {
  CreateVm c;
  c.vm_id = "vm-id-1";
  c.org_id = "org-1";
  c.owner_id = "user-7";
  c.name = "web-1";
  c.description = "front end";
  c.image = "debian-12";
  c.cpu_count = 2;
  c.memory_mb = 2048;
  c.disk_gb = 20;
  return c;
}

const char* kCreatedJson =
    R"({"vm_id":"vm-id-1","org_id":"org-1","owner_id":"user-7","name":"web-1",)"
    R"("description":"front end","image":"debian-12","cpu_count":2,"memory_mb":2048,)"
    R"("disk_gb":20,"desired":"running","generation":1})";

VmState Running() {
  return Given<VmState>({Ev("VmCreated", kCreatedJson)});
}
VmState Stopped() {
  return After(Running(), StopVm{});
}
VmState Paused() {
  return After(Running(), PauseVm{});
}
VmState Deleted() {
  return After(Running(), DeleteVm{});
}
VmState PlacedOn(VmState s, const std::string& host) {
  return After(s, ScheduleVm{host});
}

ReportVmObserved Report(VmObservedState state, int64_t generation,
                        std::optional<std::string> error = std::nullopt,
                        std::string host = "host-a") {
  return ReportVmObserved{std::move(host), state, generation, std::move(error)};
}

}  // namespace

TEST_CASE("creating a VM records its whole spec and it starts out desired running and pending") {
  Events events = When(VmState{}, Web1());
  CHECK(events == Events{Ev("VmCreated", kCreatedJson)});
  VmState s = Given<VmState>(events);
  CHECK(s.exists);
  CHECK(s.version == 1);
  CHECK(s.id == "vm-id-1");
  CHECK(s.org_id == "org-1");
  CHECK(s.owner_id == "user-7");
  CHECK(s.name == "web-1");
  CHECK(s.description == "front end");
  CHECK(s.image == "debian-12");
  CHECK(s.resources == Resources{2, 2048, 20});
  CHECK(s.desired == VmDesiredState::kRunning);
  CHECK(s.generation == 1);
  CHECK(s.observed == VmObservedState::kPending);
  CHECK(s.host_id.empty());
}

TEST_CASE("a VM created without start is desired stopped and its owner defaults to the actor") {
  CreateVm c = Web1();
  c.start = false;
  c.owner_id.clear();
  VmState s = After(VmState{}, c, Ctx("user-9"));
  CHECK(s.desired == VmDesiredState::kStopped);
  CHECK(s.owner_id == "user-9");
}

TEST_CASE("creating a VM that exists is refused") {
  CHECK(Fails(Running(), Web1()) == "already_exists: VM web-1 already exists");
}

TEST_CASE("commands on a VM that does not exist are refused as not found") {
  CHECK(Fails(VmState{}, StartVm{}) == "not_found: the VM does not exist");
  CHECK(Fails(VmState{}, DeleteVm{}) == "not_found: the VM does not exist");
  CHECK(Fails(VmState{}, Report(VmObservedState::kRunning, 1)) ==
        "not_found: the VM does not exist");
}

TEST_CASE("VM names follow DNS label rules") {
  CHECK(ValidateVmName("web-1").ok());
  CHECK(ValidateVmName("1web").ok());
  CHECK(ValidateVmName("a").ok());
  CHECK(ValidateVmName(std::string(63, 'a')).ok());
  for (std::string bad :
       {std::string(), std::string(64, 'a'), std::string("Web-1"), std::string("web_1"),
        std::string("-web"), std::string("web-"), std::string("web 1"), std::string("web.1")}) {
    CAPTURE(bad);
    Status st = ValidateVmName(bad);
    CHECK(st.code() == Code::kInvalidArgument);
  }
  CreateVm c = Web1();
  c.name = "Web_1";
  CHECK(Fails(VmState{}, c) ==
        "invalid_argument: a VM name must be 1 to 63 lowercase letters, digits and '-', not "
        "starting or ending with '-'; \"Web_1\" is not");
}

TEST_CASE("VM sizes are validated at both ends of each range") {
  auto with = [](int64_t cpu, int64_t mem, int64_t disk) {
    CreateVm c = Web1();
    c.cpu_count = cpu;
    c.memory_mb = mem;
    c.disk_gb = disk;
    return Fails(VmState{}, c);
  };
  CHECK(with(1, 128, 1) == "ok");
  CHECK(with(64, 262144, 16384) == "ok");
  CHECK(with(0, 512, 10) == "invalid_argument: a VM's cpu_count must be 1 to 64; got 0");
  CHECK(with(65, 512, 10) == "invalid_argument: a VM's cpu_count must be 1 to 64; got 65");
  CHECK(with(1, 127, 10) == "invalid_argument: a VM's memory_mb must be 128 to 262144; got 127");
  CHECK(with(1, 262145, 10) ==
        "invalid_argument: a VM's memory_mb must be 128 to 262144; got 262145");
  CHECK(with(1, 512, 0) == "invalid_argument: a VM's disk_gb must be 1 to 16384; got 0");
  CHECK(with(1, 512, 16385) == "invalid_argument: a VM's disk_gb must be 1 to 16384; got 16385");
}

TEST_CASE("a VM needs an id and organization and image and a sensible description") {
  CreateVm c = Web1();
  c.vm_id.clear();
  CHECK(Fails(VmState{}, c) == "invalid_argument: a VM id is required");
  c = Web1();
  c.org_id.clear();
  CHECK(Fails(VmState{}, c) == "invalid_argument: a VM needs an organization");
  c = Web1();
  c.image.clear();
  CHECK(Fails(VmState{}, c) == "invalid_argument: a VM image must be 1 to 200 characters long");
  c = Web1();
  c.image = "debian 12";
  CHECK(Fails(VmState{}, c) ==
        "invalid_argument: a VM image must be printable ASCII without spaces; got \"debian 12\"");
  c = Web1();
  c.description = std::string(1001, 'x');
  CHECK(Fails(VmState{}, c) ==
        "invalid_argument: a VM description must be at most 1000 characters long; got 1001");
  c.description = "line one\nline two\twith a tab and \xC3\xA9";
  CHECK(Fails(VmState{}, c) == "ok");
  c.description = "bell\x07";
  CHECK(Fails(VmState{}, c) ==
        "invalid_argument: a VM description must not contain control characters other than "
        "newlines and tabs");
  c.description = "\xFF";
  CHECK(Fails(VmState{}, c) == "invalid_argument: a VM description is not valid UTF-8");
}

TEST_CASE("starting a stopped VM requests running at the next generation") {
  VmState s = Stopped();
  REQUIRE(s.generation == 2);
  CHECK(When(s, StartVm{}) == Events{Ev("VmStartRequested", R"({"generation":3})")});
  VmState after = After(s, StartVm{});
  CHECK(after.desired == VmDesiredState::kRunning);
  CHECK(after.generation == 3);
}

TEST_CASE("starting a VM that is already desired running emits nothing") {
  CHECK(When(Running(), StartVm{}).empty());
}

TEST_CASE("starting a paused or deleted VM is refused with a sentence") {
  CHECK(Fails(Paused(), StartVm{}) ==
        "failed_precondition: VM web-1 is paused; resume it instead of starting it");
  CHECK(Fails(Deleted(), StartVm{}) ==
        "failed_precondition: VM web-1 is deleted; it cannot be started");
}

TEST_CASE("stopping records graceful or forced and repeating is a no-op") {
  CHECK(When(Running(), StopVm{}) ==
        Events{Ev("VmStopRequested", R"({"force":false,"generation":2})")});
  CHECK(When(Running(), StopVm{true}) ==
        Events{Ev("VmStopRequested", R"({"force":true,"generation":2})")});
  CHECK(When(Paused(), StopVm{}) ==
        Events{Ev("VmStopRequested", R"({"force":false,"generation":3})")});
  VmState stopped = Stopped();
  CHECK(stopped.desired == VmDesiredState::kStopped);
  CHECK_FALSE(stopped.last_stop_forced);
  CHECK(When(stopped, StopVm{}).empty());
  CHECK(When(After(Running(), StopVm{true}), StopVm{true}).empty());
  CHECK(When(After(Running(), StopVm{true}), StopVm{false}).empty());
}

TEST_CASE("a forced stop overtakes a graceful stop the host has not finished") {
  VmState s = PlacedOn(Stopped(), "host-a");
  CHECK(When(s, StopVm{true}) == Events{Ev("VmStopRequested", R"({"force":true,"generation":3})")});
  VmState done = After(s, Report(VmObservedState::kStopped, 2));
  CHECK(When(done, StopVm{true}).empty());
}

TEST_CASE("stopping a deleted VM is refused") {
  CHECK(Fails(Deleted(), StopVm{}) ==
        "failed_precondition: VM web-1 is deleted; it cannot be stopped");
}

TEST_CASE("restarting a running VM is recorded every time and needs it desired running") {
  VmState s = Running();
  CHECK(When(s, RestartVm{}) == Events{Ev("VmRestartRequested", R"({"generation":2})")});
  VmState again = After(s, RestartVm{});
  CHECK(again.desired == VmDesiredState::kRunning);
  CHECK(When(again, RestartVm{}) == Events{Ev("VmRestartRequested", R"({"generation":3})")});
  CHECK(Fails(Stopped(), RestartVm{}) ==
        "failed_precondition: VM web-1 is stopped; start it instead of restarting it");
  CHECK(Fails(Paused(), RestartVm{}) ==
        "failed_precondition: VM web-1 is paused; resume it before restarting it");
  CHECK(Fails(Deleted(), RestartVm{}) ==
        "failed_precondition: VM web-1 is deleted; it cannot be restarted");
}

TEST_CASE("pausing and resuming follow the desired state") {
  CHECK(When(Running(), PauseVm{}) == Events{Ev("VmPauseRequested", R"({"generation":2})")});
  CHECK(Paused().desired == VmDesiredState::kPaused);
  CHECK(When(Paused(), PauseVm{}).empty());
  CHECK(When(Paused(), ResumeVm{}) == Events{Ev("VmResumeRequested", R"({"generation":3})")});
  CHECK(After(Paused(), ResumeVm{}).desired == VmDesiredState::kRunning);
  CHECK(When(Running(), ResumeVm{}).empty());
  CHECK(Fails(Stopped(), PauseVm{}) ==
        "failed_precondition: VM web-1 is stopped; start it before pausing it");
  CHECK(Fails(Stopped(), ResumeVm{}) ==
        "failed_precondition: VM web-1 is stopped; start it instead of resuming it");
  CHECK(Fails(Deleted(), PauseVm{}) ==
        "failed_precondition: VM web-1 is deleted; it cannot be paused");
  CHECK(Fails(Deleted(), ResumeVm{}) ==
        "failed_precondition: VM web-1 is deleted; it cannot be resumed");
}

TEST_CASE("resizing is allowed only while the VM is desired stopped") {
  ResizeVm bigger{4, 4096, 40};
  CHECK(When(Stopped(), bigger) ==
        Events{Ev("VmResized", R"({"cpu_count":4,"memory_mb":4096,"disk_gb":40,"generation":3})")});
  VmState s = After(Stopped(), bigger);
  CHECK(s.resources == Resources{4, 4096, 40});
  CHECK(s.generation == 3);
  CHECK(s.desired == VmDesiredState::kStopped);
  CHECK(When(s, bigger).empty());
  CHECK(Fails(Running(), bigger) ==
        "failed_precondition: VM web-1 is running; stop it before resizing it");
  CHECK(Fails(Paused(), bigger) ==
        "failed_precondition: VM web-1 is paused; stop it before resizing it");
  CHECK(Fails(Deleted(), bigger) ==
        "failed_precondition: VM web-1 is deleted; it cannot be resized");
}

TEST_CASE("resizing validates the new size and never shrinks the disk") {
  CHECK(Fails(Stopped(), ResizeVm{65, 4096, 40}) ==
        "invalid_argument: a VM's cpu_count must be 1 to 64; got 65");
  CHECK(Fails(Stopped(), ResizeVm{2, 100, 40}) ==
        "invalid_argument: a VM's memory_mb must be 128 to 262144; got 100");
  CHECK(Fails(Stopped(), ResizeVm{2, 2048, 10}) ==
        "invalid_argument: VM web-1 has a 20 GiB disk; a disk can grow but not shrink");
  CHECK(When(Stopped(), ResizeVm{1, 1024, 20}).size() == 1);
}

TEST_CASE("renaming records the previous name and later sentences use the new one") {
  CHECK(When(Running(), RenameVm{"api-1"}) ==
        Events{Ev("VmRenamed", R"({"name":"api-1","previous_name":"web-1"})")});
  VmState s = After(Running(), RenameVm{"api-1"});
  CHECK(s.name == "api-1");
  CHECK(s.generation == 1);
  CHECK(When(s, RenameVm{"api-1"}).empty());
  CHECK(Fails(s, RestartVm{}) == "ok");
  CHECK(Fails(After(s, PauseVm{}), StartVm{}) ==
        "failed_precondition: VM api-1 is paused; resume it instead of starting it");
  CHECK(Fails(s, RenameVm{"API"}).rfind("invalid_argument: a VM name must be", 0) == 0);
  CHECK(Fails(Deleted(), RenameVm{"api-1"}) ==
        "failed_precondition: VM web-1 is deleted; it cannot be renamed");
}

TEST_CASE("deleting works from any desired state and repeating it is a no-op") {
  CHECK(When(Running(), DeleteVm{}) == Events{Ev("VmDeleteRequested", R"({"generation":2})")});
  CHECK(When(Stopped(), DeleteVm{}) == Events{Ev("VmDeleteRequested", R"({"generation":3})")});
  CHECK(When(Paused(), DeleteVm{}) == Events{Ev("VmDeleteRequested", R"({"generation":3})")});
  CHECK(Deleted().desired == VmDesiredState::kDeleted);
  CHECK(When(Deleted(), DeleteVm{}).empty());
}

TEST_CASE("every desired-state change increments the generation and no-ops do not") {
  VmState s = Running();
  CHECK(s.generation == 1);
  s = After(s, StartVm{});
  CHECK(s.generation == 1);
  s = After(s, PauseVm{});
  CHECK(s.generation == 2);
  s = After(s, ResumeVm{});
  CHECK(s.generation == 3);
  s = After(s, RestartVm{});
  CHECK(s.generation == 4);
  s = After(s, StopVm{});
  CHECK(s.generation == 5);
  s = After(s, StopVm{});
  CHECK(s.generation == 5);
  s = After(s, ResizeVm{3, 2048, 20});
  CHECK(s.generation == 6);
  s = After(s, RenameVm{"web-2"});
  CHECK(s.generation == 6);
  s = After(s, DeleteVm{});
  CHECK(s.generation == 7);
  CHECK(s.version == 8);
}

TEST_CASE("scheduling places the VM on a host once") {
  CHECK(When(Running(), ScheduleVm{"host-a"}) ==
        Events{Ev("VmScheduled", R"({"host_id":"host-a"})")});
  VmState s = PlacedOn(Running(), "host-a");
  CHECK(s.host_id == "host-a");
  CHECK(s.observed == VmObservedState::kScheduled);
  CHECK(When(s, ScheduleVm{"host-a"}).empty());
  CHECK(Fails(s, ScheduleVm{"host-b"}) ==
        "failed_precondition: VM web-1 is already placed on host host-a");
  CHECK(Fails(Running(), ScheduleVm{""}) ==
        "invalid_argument: a host id is required to place a VM");
  CHECK(Fails(Deleted(), ScheduleVm{"host-a"}) ==
        "failed_precondition: VM web-1 is deleted; it cannot be scheduled");
}

TEST_CASE("a placement failure keeps the VM pending with its reason until it is placed") {
  std::string why = "no host has room for 2 CPUs, 2048 MiB and 20 GiB";
  CHECK(When(Running(), ReportVmPlacementFailure{why}) ==
        Events{Ev("VmPlacementFailed", R"({"reason":")" + why + R"("})")});
  VmState s = After(Running(), ReportVmPlacementFailure{why});
  CHECK(s.placement_failure == why);
  CHECK(s.observed == VmObservedState::kPending);
  CHECK(When(s, ReportVmPlacementFailure{why}).empty());
  CHECK(When(s, ReportVmPlacementFailure{"no host is registered to run VMs on"}).size() == 1);
  VmState placed = PlacedOn(s, "host-a");
  CHECK(placed.placement_failure.empty());
  CHECK(Fails(placed, ReportVmPlacementFailure{why}) ==
        "failed_precondition: VM web-1 is already placed on host host-a");
  CHECK(Fails(Deleted(), ReportVmPlacementFailure{why}) ==
        "failed_precondition: VM web-1 is deleted; it cannot be scheduled");
}

TEST_CASE("an observed report records state and generation and error") {
  VmState s = PlacedOn(Running(), "host-a");
  CHECK(When(s, Report(VmObservedState::kStarting, 1)) ==
        Events{Ev("VmObserved", R"({"state":"starting","generation":1,"error":null})")});
  CHECK(When(s, Report(VmObservedState::kFailed, 1, "disk image not found")) ==
        Events{Ev("VmObserved",
                  R"({"state":"failed","generation":1,"error":"disk image not found"})")});
  VmState r = After(s, Report(VmObservedState::kCrashed, 1, "exit status 139"));
  CHECK(r.observed == VmObservedState::kCrashed);
  CHECK(r.observed_generation == 1);
  CHECK(r.observed_error == std::optional<std::string>("exit status 139"));
  CHECK(r.desired == VmDesiredState::kRunning);
  CHECK(r.generation == 1);
}

TEST_CASE("an unchanged observed report emits nothing but a changed error does") {
  VmState s = After(PlacedOn(Running(), "host-a"), Report(VmObservedState::kRunning, 1));
  CHECK(When(s, Report(VmObservedState::kRunning, 1)).empty());
  CHECK(When(s, Report(VmObservedState::kRunning, 1, "balloon inflating")).size() == 1);
  VmState e = After(s, Report(VmObservedState::kRunning, 1, "balloon inflating"));
  CHECK(When(e, Report(VmObservedState::kRunning, 1, "balloon inflating")).empty());
  CHECK(When(e, Report(VmObservedState::kRunning, 1)).size() == 1);
}

TEST_CASE("an observed report for an older generation than the latest report is ignored") {
  VmState s = PlacedOn(Running(), "host-a");
  s = After(s, StopVm{});   // generation 2
  s = After(s, StartVm{});  // generation 3
  s = After(s, Report(VmObservedState::kStopped, 2));
  CHECK(When(s, Report(VmObservedState::kRunning, 1)).empty());
  CHECK(When(s, Report(VmObservedState::kRunning, 3)).size() == 1);
  VmState newer = After(s, Report(VmObservedState::kRunning, 3));
  CHECK(When(newer, Report(VmObservedState::kStopped, 2)).empty());
  CHECK(newer.observed_generation == 3);
}

TEST_CASE("an observed report from the future or from another host is refused") {
  VmState s = PlacedOn(Running(), "host-a");
  CHECK(Fails(s, Report(VmObservedState::kRunning, 2)) ==
        "invalid_argument: a report on VM web-1 reflects generation 2, but the VM is at "
        "generation 1");
  CHECK(Fails(s, Report(VmObservedState::kRunning, 1, std::nullopt, "host-b")) ==
        "failed_precondition: VM web-1 is placed on host host-a; host host-b cannot report on it");
  CHECK(Fails(Running(), Report(VmObservedState::kRunning, 1)) ==
        "failed_precondition: VM web-1 is not placed on any host; host host-a cannot report on "
        "it");
  CHECK(Fails(s, Report(VmObservedState::kFailed, 1, std::string(5000, 'e'))) ==
        "invalid_argument: the error in a report on VM web-1 is longer than 4096 bytes");
}

TEST_CASE("the system may report a VM unknown without naming a host") {
  VmState s = After(PlacedOn(Running(), "host-a"), Report(VmObservedState::kRunning, 1));
  VmState u = After(s, Report(VmObservedState::kUnknown, 1, "host unreachable", ""));
  CHECK(u.observed == VmObservedState::kUnknown);
}

TEST_CASE("a deleted VM still takes observed reports from its host") {
  VmState s =
      After(After(PlacedOn(Running(), "host-a"), DeleteVm{}), Report(VmObservedState::kStopped, 2));
  CHECK(s.observed == VmObservedState::kStopped);
  CHECK(s.desired == VmDesiredState::kDeleted);
}

TEST_CASE("VM evolve refuses unknown types and events out of order and unreadable data") {
  VmState s = Running();
  Status st = Evolve(s, Ev("VmTeleported"));
  CHECK(st.ToString() == "internal: the VM aggregate does not know the event type VmTeleported");
  VmState empty;
  CHECK(Evolve(empty, Ev("VmStartRequested", R"({"generation":2})")).ToString() ==
        "internal: VmStartRequested before VmCreated");
  CHECK(Evolve(s, Ev("VmCreated", kCreatedJson)).code() == Code::kInternal);
  Status bad = Evolve(s, Ev("VmStartRequested", R"({"generation":"two"})"));
  CHECK(bad.ToString() ==
        "internal: event VmStartRequested cannot be read: its field generation is missing or "
        "is not an integer");
  CHECK(s.version == 1);
  CHECK(s.desired == VmDesiredState::kRunning);
  CHECK(Evolve(s, Ev("VmObserved", R"({"state":"levitating","generation":1})")).code() ==
        Code::kInternal);
  CHECK(Evolve(s, Ev("VmStopRequested", "not json")).code() == Code::kInternal);
}

TEST_CASE("VM evolve reads jsonb text with reordered keys and extra fields") {
  VmState s = Given<VmState>(
      {Ev("VmCreated",
          R"({"name": "web-1", "image": "debian-12", "vm_id": "vm-id-1", "org_id": "org-1", )"
          R"("disk_gb": 20, "desired": "stopped", "owner_id": "user-7", "cpu_count": 2, )"
          R"("memory_mb": 2048, "generation": 1, "description": "", "future": true})")});
  CHECK(s.desired == VmDesiredState::kStopped);
  CHECK(s.resources == Resources{2, 2048, 20});
}

TEST_CASE("VM state names round-trip and unknown names are refused") {
  for (auto d : {VmDesiredState::kRunning, VmDesiredState::kStopped, VmDesiredState::kPaused,
                 VmDesiredState::kDeleted}) {
    CHECK(*ParseVmDesiredState(VmDesiredStateName(d)) == d);
  }
  for (int i = 0; i <= static_cast<int>(VmObservedState::kUnknown); ++i) {
    auto o = static_cast<VmObservedState>(i);
    CHECK(*ParseVmObservedState(VmObservedStateName(o)) == o);
  }
  CHECK(VmObservedStateName(VmObservedState::kCrashed) == "crashed");
  CHECK(ParseVmDesiredState("on").status().code() == Code::kInvalidArgument);
  CHECK(ParseVmObservedState("on").status().code() == Code::kInvalidArgument);
}

TEST_CASE("VM names are reserved per organization and released for reuse") {
  CHECK(VmStreamId("abc") == "vm-abc");
  CHECK(VmNameStreamId("org-1", "web-1") == "vmname-org-1-web-1");
  VmNameReservation r;
  Result<Events> first = ReserveVmName(r, "vm-id-1", "web-1");
  REQUIRE(first.ok());
  CHECK(*first == Events{Ev("VmNameReserved", R"({"vm_id":"vm-id-1"})")});
  Fold(r, *first);
  CHECK(r.held);
  CHECK(r.version == 1);
  CHECK(ReserveVmName(r, "vm-id-1", "web-1")->empty());
  CHECK(ReserveVmName(r, "vm-id-2", "web-1").status().ToString() ==
        "already_exists: a VM named web-1 already exists in this organization");
  Fold(r, {VmNameReleasedEvent("vm-id-1")});
  CHECK_FALSE(r.held);
  CHECK(r.version == 2);
  CHECK(*ReserveVmName(r, "vm-id-2", "web-1") == Events{VmNameReservedEvent("vm-id-2")});
  CHECK(Evolve(r, Ev("VmCreated")).ToString() ==
        "internal: a VM name reservation does not know the event type VmCreated");
}
