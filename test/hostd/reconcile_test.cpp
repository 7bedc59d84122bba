// One reconcile step (hostd/reconcile.h) against an in-memory fake Hypervisor: which calls a
// desired state leads to from each VMM state, what is observed, and how failures read.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>

#include "hostd/reconcile.h"
#include "test/support/process.h"

using namespace strato;
using namespace strato::hostd;

namespace {

// A VMM per socket with Cloud Hypervisor's states; records every call; can be told to fail one.
class FakeHypervisor final : public Hypervisor {
 public:
  std::string Kind() const override { return "fake"; }
  std::vector<std::string> VmmCommandLine(const std::string& s, const VmSpec&) const override {
    return {"/bin/true", s};
  }
  std::optional<std::string> SocketFromCommandLine(const std::vector<std::string>&) const override {
    return std::nullopt;
  }
  Status Ping(const std::string& s) override { return Call("ping", s); }
  Status Create(const std::string& s, const VmSpec& spec) override {
    STRATO_RETURN_IF_ERROR(Move("create", s, "NotCreated", "Created"));
    last_spec = spec;
    return Status::Ok();
  }
  Status Boot(const std::string& s) override { return Move("boot", s, "Created", "Running"); }
  Status Shutdown(const std::string& s) override {
    return Move("shutdown", s, "Running", "Shutdown");
  }
  // A guest that obeys powers off and its VMM exits ("gone"); one that ignores it stays as it is.
  Status PowerButton(const std::string& s) override {
    STRATO_RETURN_IF_ERROR(Call("power-button", s));
    if (state[s] != "Running") {
      return Status::FailedPrecondition("power-button refused in state " + state[s]);
    }
    if (guest_obeys_power_button) state[s] = "gone";
    return Status::Ok();
  }
  Status Reboot(const std::string& s) override { return Move("reboot", s, "Running", "Running"); }
  Status Pause(const std::string& s) override { return Move("pause", s, "Running", "Paused"); }
  Status Resume(const std::string& s) override { return Move("resume", s, "Paused", "Running"); }
  Status Delete(const std::string& s) override { return Move("delete", s, "", "NotCreated"); }
  Result<VmInfo> Info(const std::string& s) override {
    Status st = Call("info", s);
    if (!st.ok()) return st;
    if (state[s] == "NotCreated") return VmInfo{state[s], 0, 0};
    return VmInfo{state[s], last_spec.cpus, last_spec.memory_mb * 1024 * 1024};
  }
  Status ShutdownVmm(const std::string& s) override {
    Status st = Call("vmm.shutdown", s);
    if (st.ok()) state[s] = "gone";
    return st;
  }

  std::map<std::string, std::string> state;  // socket -> VMM state
  std::vector<std::string> calls;
  std::string fail;  // this call fails (once) with a VMM error body
  bool guest_obeys_power_button = true;
  VmSpec last_spec;

 private:
  Status Call(const std::string& what, const std::string& s) {
    calls.push_back(what);
    if (state[s] == "gone") return Status::Unavailable(what + ": the socket does not answer");
    if (what == fail) {
      fail.clear();
      return Status::FailedPrecondition(what + " failed: [\"Error from API\",\"InvalidPayload\"]");
    }
    return Status::Ok();
  }
  Status Move(const std::string& what, const std::string& s, const std::string& from,
              const std::string& to) {
    STRATO_RETURN_IF_ERROR(Call(what, s));
    if (!from.empty() && state[s] != from) {
      return Status::FailedPrecondition(what + " refused in state " + state[s]);
    }
    state[s] = to;
    return Status::Ok();
  }
};

struct Fixture {
  std::unique_ptr<test::TempDir> dir;
  FakeHypervisor hv;
  StepInput in;
  Fixture() {
    auto d = test::TempDir::Make("reconcile-");
    REQUIRE(d.ok());
    dir = std::move(*d);
    in.paths = PathsFor(dir->path(), "vm-1");
    in.desired.vm_id = "vm-1";
    in.desired.cpu_count = 2;
    in.desired.memory_mb = 512;
    in.desired.disk_gb = 1;
    in.desired.desired = "running";
    in.desired.generation = 1;
    in.desired.last_action = "create";
    in.process_alive = true;
    in.payload.kernel_path = "/boot/vmlinuz";
    in.socket_wait = std::chrono::milliseconds(50);
    hv.state[in.paths.socket] = "NotCreated";
  }
  std::string& vmm() { return hv.state[in.paths.socket]; }
};

}  // namespace

TEST_CASE("running desired on a fresh VMM creates and boots it with the VM's spec") {
  Fixture f;
  StepResult r = Converge(f.hv, f.in);
  CHECK(r.observed == "running");
  CHECK(r.generation == 1);
  CHECK_FALSE(r.error.has_value());
  CHECK_FALSE(r.retry);
  CHECK(f.vmm() == "Running");
  CHECK(f.hv.last_spec.cpus == 2);
  CHECK(f.hv.last_spec.memory_mb == 512);
  CHECK(f.hv.last_spec.disk_paths == std::vector<std::string>{f.in.paths.disk});
  CHECK(std::filesystem::file_size(f.in.paths.disk) == 1024ULL * 1024 * 1024);
  CHECK(ReadAppliedGeneration(f.in.paths) == 1);
}

TEST_CASE("a restart reboots a running guest once per generation") {
  Fixture f;
  (void)Converge(f.hv, f.in);
  f.in.desired.generation = 2;
  f.in.desired.last_action = "restart";
  f.hv.calls.clear();
  StepResult r = Converge(f.hv, f.in);
  CHECK(r.observed == "running");
  CHECK(std::count(f.hv.calls.begin(), f.hv.calls.end(), "reboot") == 1);
  f.hv.calls.clear();
  r = Converge(f.hv, f.in);  // the same generation again: already applied
  CHECK(std::count(f.hv.calls.begin(), f.hv.calls.end(), "reboot") == 0);
  CHECK(r.observed == "running");
}

TEST_CASE("pause and resume follow the desired state") {
  Fixture f;
  (void)Converge(f.hv, f.in);
  f.in.desired.desired = "paused";
  f.in.desired.generation = 2;
  CHECK(Converge(f.hv, f.in).observed == "paused");
  CHECK(f.vmm() == "Paused");
  f.in.desired.desired = "running";
  f.in.desired.generation = 3;
  f.in.desired.last_action = "resume";
  CHECK(Converge(f.hv, f.in).observed == "running");
  CHECK(f.vmm() == "Running");
}

TEST_CASE("stop asks the VMM to exit and delete removes the VM's files once it has") {
  Fixture f;
  (void)Converge(f.hv, f.in);
  f.in.desired.desired = "deleted";
  f.in.desired.generation = 2;
  StepResult r = Converge(f.hv, f.in);
  CHECK(r.next == StepNext::kAwaitExit);
  CHECK(f.vmm() == "gone");
  CHECK(std::filesystem::exists(f.in.paths.dir));
  f.in.process_alive = false;  // the exit was seen
  r = Converge(f.hv, f.in);
  CHECK(r.observed == "stopped");
  CHECK(r.cleaned);
  CHECK_FALSE(std::filesystem::exists(f.in.paths.dir));
}

TEST_CASE("a failing action reports the VMM's error text and asks for a retry") {
  Fixture f;
  f.hv.fail = "create";
  StepResult r = Converge(f.hv, f.in);
  CHECK(r.retry);
  CHECK(r.observed == "failed");
  REQUIRE(r.error.has_value());
  CHECK(r.error->find("[\"Error from API\",\"InvalidPayload\"]") != std::string::npos);
  r = Converge(f.hv, f.in);  // the retry succeeds
  CHECK_FALSE(r.retry);
  CHECK(r.observed == "running");
}

TEST_CASE("the VMM state names map to observed states") {
  CHECK(ObservedFromVmm("Running") == "running");
  CHECK(ObservedFromVmm("Paused") == "paused");
  CHECK(ObservedFromVmm("Created") == "stopped");
  CHECK(ObservedFromVmm("Shutdown") == "stopped");
  CHECK(ObservedFromVmm("NotCreated") == "stopped");
}

TEST_CASE("a resized disk grows when the VM is created again") {
  Fixture f;
  (void)Converge(f.hv, f.in);
  CHECK(std::filesystem::file_size(f.in.paths.disk) == 1024ULL * 1024 * 1024);
  f.vmm() = "NotCreated";  // a new VMM after a stop
  f.in.desired.disk_gb = 3;
  f.in.desired.generation = 4;
  f.in.desired.last_action = "start";
  CHECK(Converge(f.hv, f.in).observed == "running");
  CHECK(std::filesystem::file_size(f.in.paths.disk) == 3ULL * 1024 * 1024 * 1024);
}

namespace {

using WallTime = std::chrono::system_clock::time_point;

size_t Count(const FakeHypervisor& hv, const std::string& call) {
  return static_cast<size_t>(std::count(hv.calls.begin(), hv.calls.end(), call));
}

// A running VM asked to stop (gracefully unless `force`) at generation 2, at wall time t0.
void AskStop(Fixture& f, bool force, WallTime t0) {
  (void)Converge(f.hv, f.in);
  REQUIRE(f.vmm() == "Running");
  f.hv.calls.clear();
  f.in.desired.desired = "stopped";
  f.in.desired.last_action = "stop";
  f.in.desired.generation = 2;
  f.in.desired.force = force;
  f.in.stop_timeout = std::chrono::seconds(30);
  f.in.now = t0;
}

const WallTime kT0 = WallTime(std::chrono::hours(500000));

}  // namespace

TEST_CASE("a graceful stop presses the power button and waits for the guest") {
  Fixture f;
  AskStop(f, false, kT0);
  StepResult r = Converge(f.hv, f.in);
  CHECK(r.next == StepNext::kAwaitGuest);
  CHECK(r.observed == "stopping");
  CHECK(r.pressed_power_button);
  CHECK(r.stop_deadline == kT0 + std::chrono::seconds(30));
  CHECK(Count(f.hv, "power-button") == 1);
  CHECK(Count(f.hv, "shutdown") == 0);
  CHECK(Count(f.hv, "vmm.shutdown") == 0);
  CHECK(std::filesystem::exists(f.in.paths.stop_file));
  // The guest powered off and its VMM exited by itself: the next step sees it stopped.
  CHECK(f.vmm() == "gone");
  f.in.process_alive = false;
  f.in.now = kT0 + std::chrono::seconds(2);
  r = Converge(f.hv, f.in);
  CHECK(r.next == StepNext::kDone);
  CHECK(r.observed == "stopped");
  CHECK_FALSE(std::filesystem::exists(f.in.paths.stop_file));
  CHECK(Count(f.hv, "vmm.shutdown") == 0);
}

TEST_CASE("a graceful stop does not press twice and forces the stop after the timeout") {
  Fixture f;
  f.hv.guest_obeys_power_button = false;
  AskStop(f, false, kT0);
  StepResult r = Converge(f.hv, f.in);
  REQUIRE(r.next == StepNext::kAwaitGuest);
  // Steps before the deadline (a poll, a resync, a restarted hostd reading the stop file) wait.
  f.in.now = kT0 + std::chrono::seconds(29);
  r = Converge(f.hv, f.in);
  CHECK(r.next == StepNext::kAwaitGuest);
  CHECK_FALSE(r.pressed_power_button);
  CHECK(r.stop_deadline == kT0 + std::chrono::seconds(30));
  CHECK(Count(f.hv, "power-button") == 1);
  CHECK(Count(f.hv, "shutdown") == 0);
  CHECK(f.vmm() == "Running");
  // At the deadline: the forced path.
  f.in.now = kT0 + std::chrono::seconds(30);
  r = Converge(f.hv, f.in);
  CHECK(r.next == StepNext::kAwaitExit);
  CHECK(r.forced_after_timeout);
  CHECK(Count(f.hv, "shutdown") == 1);
  CHECK(Count(f.hv, "vmm.shutdown") == 1);
  CHECK(f.vmm() == "gone");
  f.in.process_alive = false;
  r = Converge(f.hv, f.in);
  CHECK(r.observed == "stopped");
  CHECK_FALSE(std::filesystem::exists(f.in.paths.stop_file));
}

TEST_CASE("a forced stop is immediate and escalates a graceful stop under way") {
  Fixture f;
  AskStop(f, true, kT0);
  StepResult r = Converge(f.hv, f.in);
  CHECK(r.next == StepNext::kAwaitExit);
  CHECK(Count(f.hv, "power-button") == 0);
  CHECK(Count(f.hv, "shutdown") == 1);
  CHECK(Count(f.hv, "vmm.shutdown") == 1);

  Fixture g;
  g.hv.guest_obeys_power_button = false;
  AskStop(g, false, kT0);
  REQUIRE(Converge(g.hv, g.in).next == StepNext::kAwaitGuest);
  g.in.desired.generation = 3;  // the forced stop overtaking it
  g.in.desired.force = true;
  g.in.now = kT0 + std::chrono::seconds(1);
  r = Converge(g.hv, g.in);
  CHECK(r.next == StepNext::kAwaitExit);
  CHECK_FALSE(r.forced_after_timeout);
  CHECK(Count(g.hv, "power-button") == 1);
  CHECK(Count(g.hv, "vmm.shutdown") == 1);
}

TEST_CASE("a delete and a zero stop timeout never wait for the guest") {
  Fixture f;
  AskStop(f, false, kT0);
  f.in.desired.desired = "deleted";
  StepResult r = Converge(f.hv, f.in);
  CHECK(r.next == StepNext::kAwaitExit);
  CHECK(Count(f.hv, "power-button") == 0);

  Fixture g;
  AskStop(g, false, kT0);
  g.in.stop_timeout = std::chrono::milliseconds(0);
  r = Converge(g.hv, g.in);
  CHECK(r.next == StepNext::kAwaitExit);
  CHECK(Count(g.hv, "power-button") == 0);
  CHECK(Count(g.hv, "vmm.shutdown") == 1);
}

TEST_CASE("a graceful stop resumes a paused guest before pressing the button") {
  Fixture f;
  AskStop(f, false, kT0);
  f.vmm() = "Paused";
  StepResult r = Converge(f.hv, f.in);
  CHECK(r.next == StepNext::kAwaitGuest);
  REQUIRE(f.hv.calls.size() >= 3);
  auto resume = std::find(f.hv.calls.begin(), f.hv.calls.end(), "resume");
  auto press = std::find(f.hv.calls.begin(), f.hv.calls.end(), "power-button");
  CHECK(resume < press);
  CHECK(press != f.hv.calls.end());
}

TEST_CASE("a guest already off under a running VMM leaves the VMM prepared") {
  Fixture f;
  AskStop(f, false, kT0);
  f.vmm() = "Created";  // powered off under --no-shutdown
  StepResult r = Converge(f.hv, f.in);
  CHECK(r.next == StepNext::kDone);
  CHECK(r.observed == "stopped");
  CHECK(Count(f.hv, "power-button") == 0);
  CHECK(Count(f.hv, "vmm.shutdown") == 0);
  CHECK(f.vmm() == "Created");
}

TEST_CASE("a stopped VM's VMM is prepared and a start then only boots it") {
  Fixture f;
  f.in.desired.desired = "stopped";
  f.in.spawned = true;
  StepResult r = Converge(f.hv, f.in);
  CHECK(r.observed == "stopped");
  CHECK(r.next == StepNext::kDone);
  CHECK_FALSE(r.retry);
  CHECK(f.vmm() == "Created");
  CHECK(f.hv.calls == std::vector<std::string>{"ping", "info", "create"});
  CHECK(std::filesystem::file_size(f.in.paths.disk) == 1024ULL * 1024 * 1024);
  // Nothing to do while it stays stopped.
  f.in.spawned = false;
  f.hv.calls.clear();
  CHECK(Converge(f.hv, f.in).observed == "stopped");
  CHECK(f.hv.calls == std::vector<std::string>{"info"});
  // The start: one look, then vm.boot; no ping, no create.
  f.in.desired.desired = "running";
  f.in.desired.generation = 2;
  f.in.desired.last_action = "start";
  f.hv.calls.clear();
  r = Converge(f.hv, f.in);
  CHECK(r.observed == "running");
  REQUIRE(f.hv.calls.size() >= 2);
  CHECK(f.hv.calls[0] == "info");
  CHECK(f.hv.calls[1] == "boot");
  CHECK(Count(f.hv, "create") == 0);
}

TEST_CASE("a prepared VM is created again when resized while stopped") {
  Fixture f;
  f.in.desired.desired = "stopped";
  (void)Converge(f.hv, f.in);
  REQUIRE(f.hv.last_spec.cpus == 2);
  f.in.desired.cpu_count = 4;
  f.in.desired.memory_mb = 1024;
  f.in.desired.disk_gb = 2;
  f.in.desired.generation = 2;
  f.in.desired.last_action = "resize";
  f.hv.calls.clear();
  CHECK(Converge(f.hv, f.in).observed == "stopped");
  CHECK(f.hv.calls == std::vector<std::string>{"info", "delete", "create"});
  CHECK(f.hv.last_spec.cpus == 4);
  CHECK(f.hv.last_spec.memory_mb == 1024);
  CHECK(f.vmm() == "Created");
  CHECK(std::filesystem::file_size(f.in.paths.disk) == 2ULL * 1024 * 1024 * 1024);
}

TEST_CASE("a refused power button falls back to the forced path at once") {
  Fixture f;
  AskStop(f, false, kT0);
  f.hv.fail = "power-button";
  StepResult r = Converge(f.hv, f.in);
  CHECK(r.next == StepNext::kAwaitExit);
  CHECK(Count(f.hv, "shutdown") == 1);
  CHECK(Count(f.hv, "vmm.shutdown") == 1);
  CHECK_FALSE(std::filesystem::exists(f.in.paths.stop_file));
}

TEST_CASE("a new stop generation presses the button again") {
  Fixture f;
  f.hv.guest_obeys_power_button = false;
  AskStop(f, false, kT0);
  REQUIRE(Converge(f.hv, f.in).pressed_power_button);
  // Started again (the guest kept running), then stopped again later.
  f.in.desired.desired = "running";
  f.in.desired.generation = 3;
  f.in.desired.last_action = "start";
  CHECK(Converge(f.hv, f.in).observed == "running");
  f.in.desired.desired = "stopped";
  f.in.desired.generation = 4;
  f.in.now = kT0 + std::chrono::hours(1);
  StepResult r = Converge(f.hv, f.in);
  CHECK(r.pressed_power_button);
  CHECK(r.stop_deadline == kT0 + std::chrono::hours(1) + std::chrono::seconds(30));
  CHECK(Count(f.hv, "power-button") == 2);
}
