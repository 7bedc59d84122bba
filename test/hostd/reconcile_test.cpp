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
  std::vector<std::string> VmmCommandLine(const std::string& s) const override {
    return {"/bin/true", s};
  }
  Status Ping(const std::string& s) override { return Call("ping", s); }
  Status Create(const std::string& s, const VmSpec& spec) override {
    last_spec = spec;
    return Move("create", s, "NotCreated", "Created");
  }
  Status Boot(const std::string& s) override { return Move("boot", s, "Created", "Running"); }
  Status Shutdown(const std::string& s) override {
    return Move("shutdown", s, "Running", "Shutdown");
  }
  Status Reboot(const std::string& s) override { return Move("reboot", s, "Running", "Running"); }
  Status Pause(const std::string& s) override { return Move("pause", s, "Running", "Paused"); }
  Status Resume(const std::string& s) override { return Move("resume", s, "Paused", "Running"); }
  Status Delete(const std::string& s) override { return Move("delete", s, "", "NotCreated"); }
  Result<VmInfo> Info(const std::string& s) override {
    Status st = Call("info", s);
    if (!st.ok()) return st;
    return VmInfo{state[s], 1, 0};
  }
  Status ShutdownVmm(const std::string& s) override {
    Status st = Call("vmm.shutdown", s);
    if (st.ok()) state[s] = "gone";
    return st;
  }

  std::map<std::string, std::string> state;  // socket -> VMM state
  std::vector<std::string> calls;
  std::string fail;  // this call fails (once) with a VMM error body
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
    in.kernel_path = "/boot/vmlinuz";
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
