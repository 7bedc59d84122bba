// strato-hostd with STRATO_HOSTD_HYPERVISOR=qemu end to end: real PostgreSQL, nats-server,
// strato serve, strato-hostd and qemu-system-x86_64 (TCG) booting the test guest that
// ops/guest/build makes. The guest's serial console is read for its lines (ops/guest/init);
// every wait on the guest has a generous deadline (a loaded machine boots it in 3 to 30 s).
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "test/hostd/stack.h"

using namespace strato;
using test::Stack;
using VmObs = domain::VmObservedState;

namespace {

constexpr auto kGuestWait = std::chrono::seconds(150);

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

bool Converged(Stack& s, const std::string& vm, VmObs want) {
  domain::VmState v = s.Vm(vm);
  return v.observed == want && v.observed_generation == v.generation;
}

std::string Describe(Stack& s, const std::string& vm) {
  domain::VmState v = s.Vm(vm);
  std::string h;
  for (const auto& e : s.History(vm)) h += e + " ";
  return "observed " + std::string(domain::VmObservedStateName(v.observed)) + " at generation " +
         std::to_string(v.observed_generation) + "/" + std::to_string(v.generation) +
         " error=" + v.observed_error.value_or("") + " history: " + h;
}

// The environment of a hostd running QEMU (TCG) with the built guest; a missing guest fails.
std::map<std::string, std::string> QemuEnv() {
  const char* env = std::getenv("STRATO_GUEST_DIR");
  const std::string dir = env != nullptr && *env != '\0' ? env : STRATO_GUEST_DIR;
  REQUIRE_MESSAGE(access((dir + "/vmlinuz").c_str(), R_OK) == 0,
                  ("no test guest in " + dir + ": run ops/guest/build " + dir));
  REQUIRE_MESSAGE(access((dir + "/initrd.img").c_str(), R_OK) == 0,
                  ("no test guest in " + dir + ": run ops/guest/build " + dir));
  return {{"STRATO_HOSTD_HYPERVISOR", "qemu"},
          {"STRATO_HOSTD_ACCEL", "tcg"},
          {"STRATO_QEMU_BINARY", "/usr/bin/qemu-system-x86_64"},
          {"STRATO_VM_KERNEL", dir + "/vmlinuz"},
          {"STRATO_VM_INITRD", dir + "/initrd.img"},
          {"STRATO_VM_CMDLINE", "console=ttyS0 quiet panic=-1"},
          {"STRATO_STOP_TIMEOUT_SECONDS", "150"}};
}

}  // namespace

TEST_CASE("hostd on QEMU boots a real guest that reads its seed and survives a hostd SIGKILL") {
  Stack s;
  s.StartHostd("host-q", QemuEnv());
  const std::string vm = s.CreateVm("qemu-web");
  REQUIRE_MESSAGE(
      Stack::WaitUntil([&] { return Converged(s, vm, VmObs::kRunning); }, std::chrono::seconds(60)),
      Describe(s, vm));
  const std::string dir = s.StateDir("host-q") + "/vms/" + vm;
  const std::string serial = dir + "/serial.log";
  REQUIRE_MESSAGE(Stack::WaitUntil(
                      [&] {
                        return ReadAll(serial).find("strato-guest: hostname=qemu-web") !=
                               std::string::npos;
                      },
                      kGuestWait),
                  ("serial console:\n" + ReadAll(serial) + "\nQEMU: " + ReadAll(dir + "/vmm.log")));
  CHECK(ReadAll(serial).find("strato-guest: instance-id=" + vm) != std::string::npos);
  const std::string hostd_log = s.root() + "/hostd-host-q.log";
  CHECK(ReadAll(hostd_log).find("chose the accelerator") != std::string::npos);
  // What the host registered: its hypervisor, QEMU's own version, the accelerator it chose and
  // the default allocation ratios.
  const domain::HostState host = s.Host("host-q");
  CHECK(host.hypervisor_kind == "qemu");
  CHECK(host.hypervisor_version.rfind("7.", 0) == 0);
  CHECK(host.accelerator == "tcg");
  CHECK(host.cpu_allocation_ratio == 4);
  CHECK(host.memory_allocation_ratio == 1);
  auto procs = test::VmmProcesses(s.StateDir("host-q"));
  REQUIRE(procs[vm].size() == 1);
  const pid_t qemu = procs[vm][0];

  // SIGKILL hostd; the guest keeps running and the next hostd adopts the same QEMU.
  REQUIRE(s.hostd("host-q")->Kill(SIGKILL).ok());
  (void)s.hostd("host-q")->Wait(std::chrono::seconds(10));
  s.DropHostd("host-q");
  s.StartHostd("host-q", QemuEnv());
  REQUIRE(Stack::WaitUntil(
      [&] { return ReadAll(hostd_log).find("adopted a running VMM") != std::string::npos; }));
  CHECK(test::VmmProcesses(s.StateDir("host-q"))[vm] == std::vector<pid_t>{qemu});

  // A graceful stop: the power button (pressed again while the guest does not react), the
  // guest powers itself off, QEMU exits, and a new QEMU is prepared (paused before boot).
  REQUIRE(s.Command(vm, domain::StopVm{}).ok());
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, vm, VmObs::kStopped); }, kGuestWait),
                  Describe(s, vm));
  CHECK(Count(ReadAll(serial), "strato-guest: booting") == 1);  // never rebooted
  CHECK(ReadAll(serial).find("strato-guest: power button: powering off") != std::string::npos);
  CHECK(Stack::WaitUntil([&] {
    auto now = test::VmmProcesses(s.StateDir("host-q"))[vm];
    return now.size() == 1 && now[0] != qemu;
  }));

  REQUIRE(s.Command(vm, domain::DeleteVm{}).ok());
  CHECK(Stack::WaitUntil([&] { return test::VmmProcesses(s.StateDir("host-q"))[vm].empty(); }));
  CHECK(Stack::WaitUntil([&] { return !std::filesystem::exists(dir); }));
}
