// strato-hostd end to end: real PostgreSQL, nats-server, strato serve, strato-hostd and the
// Cloud Hypervisor simulator.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "test/hostd/stack.h"

using namespace strato;
using test::Stack;
using VmObs = domain::VmObservedState;

namespace {

// Observed state and generation caught up with the desired generation.
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
         " error=" + v.observed_error.value_or("") + " host=" + v.host_id + " history: " + h;
}

// A file's permission bits; -1 when it does not exist.
int ModeOf(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 0777);
}

size_t CountVmms(const std::string& state_dir, const std::string& vm) {
  auto procs = test::VmmProcesses(state_dir);
  auto it = procs.find(vm);
  return it == procs.end() ? 0 : it->second.size();
}

// A stopped VM keeps one VMM, prepared: its VM created and not booted. `was` (when given) is
// the VMM that ran the guest, which must be gone.
bool Prepared(Stack& s, const std::string& host, const std::string& vm, pid_t was = 0) {
  auto procs = test::VmmProcesses(s.StateDir(host));
  auto it = procs.find(vm);
  return it != procs.end() && it->second.size() == 1 && it->second[0] != was &&
         test::VmmState(s.StateDir(host), vm) == "Created";
}

}  // namespace

TEST_CASE("a VM goes from created to running and follows stop restart pause resume and delete") {
  Stack s;
  s.StartHostd("host-a");
  REQUIRE(Stack::WaitUntil([&] { return s.Host("host-a").exists; }));
  std::string vm = s.CreateVm("web-1");
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, vm, VmObs::kRunning); }),
                  Describe(s, vm));
  CHECK(s.Vm(vm).host_id == "host-a");
  CHECK(CountVmms(s.StateDir("host-a"), vm) == 1);
  pid_t first = test::VmmProcesses(s.StateDir("host-a"))[vm][0];
  // The VMM outlives hostd: it must not hold hostd's NATS connection.
  CHECK(test::TcpSocketsOf(first) == 0);
  CHECK(test::TcpSocketsOf(s.hostd("host-a")->pid()) >= 1);
  // hostd's folders are its own only, and so are the logs in them.
  const std::string state = s.StateDir("host-a");
  for (const std::string& dir : {state, state + "/vms", state + "/vms/" + vm}) {
    CHECK_MESSAGE(ModeOf(dir) == 0700, dir);
  }
  for (const std::string& log :
       {state + "/vms/" + vm + "/vmm.log", state + "/vms/" + vm + "/serial.log"}) {
    CHECK_MESSAGE(ModeOf(log) == 0600, log);
  }

  REQUIRE(s.Command(vm, domain::StopVm{}).ok());
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, vm, VmObs::kStopped); }),
                  Describe(s, vm));
  // The VMM that ran the guest is gone; a prepared one waits for the next start.
  REQUIRE(Stack::WaitUntil([&] { return Prepared(s, "host-a", vm, first); }));
  pid_t prepared = test::VmmProcesses(s.StateDir("host-a"))[vm][0];

  REQUIRE(s.Command(vm, domain::StartVm{}).ok());
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, vm, VmObs::kRunning); }),
                  Describe(s, vm));
  CHECK(CountVmms(s.StateDir("host-a"), vm) == 1);
  pid_t second = test::VmmProcesses(s.StateDir("host-a"))[vm][0];
  CHECK(second == prepared);  // the start booted the prepared VMM
  CHECK(test::VmmState(s.StateDir("host-a"), vm) == "Running");

  REQUIRE(s.Command(vm, domain::RestartVm{}).ok());
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, vm, VmObs::kRunning); }),
                  Describe(s, vm));
  // A restart reboots the guest inside the same VMM process.
  CHECK(test::VmmProcesses(s.StateDir("host-a"))[vm] == std::vector<pid_t>{second});

  REQUIRE(s.Command(vm, domain::PauseVm{}).ok());
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, vm, VmObs::kPaused); }),
                  Describe(s, vm));
  REQUIRE(s.Command(vm, domain::ResumeVm{}).ok());
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, vm, VmObs::kRunning); }),
                  Describe(s, vm));

  REQUIRE(s.Command(vm, domain::DeleteVm{}).ok());
  REQUIRE_MESSAGE(Stack::WaitUntil([&] {
                    domain::VmState v = s.Vm(vm);
                    return v.observed == VmObs::kStopped && v.observed_generation == v.generation;
                  }),
                  Describe(s, vm));
  CHECK(Stack::WaitUntil([&] { return CountVmms(s.StateDir("host-a"), vm) == 0; }));
  const std::string vms = s.StateDir("host-a") + "/vms/";
  CHECK(Stack::WaitUntil([&] {
    return !std::filesystem::exists(vms + vm) && !std::filesystem::exists(vms + vm + ".sock");
  }));
}

TEST_CASE("two hosts with many VMs each run exactly their own") {
  Stack s;
  s.StartHostd("host-a");
  s.StartHostd("host-b");
  REQUIRE(Stack::WaitUntil([&] { return s.Host("host-a").exists && s.Host("host-b").exists; }));
  std::vector<std::string> vms;
  for (int i = 0; i < 40; ++i) vms.push_back(s.CreateVm("vm-" + std::to_string(i)));
  for (const auto& vm : vms) {
    REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, vm, VmObs::kRunning); },
                                     std::chrono::seconds(60)),
                    Describe(s, vm));
  }
  auto a = test::VmmProcesses(s.StateDir("host-a"));
  auto b = test::VmmProcesses(s.StateDir("host-b"));
  size_t on_a = 0, on_b = 0;
  for (const auto& vm : vms) {
    const std::string host = s.Vm(vm).host_id;
    auto& mine = host == "host-a" ? a : b;
    auto& other = host == "host-a" ? b : a;
    CHECK(mine[vm].size() == 1);
    CHECK(other.count(vm) == 0);
    (host == "host-a" ? on_a : on_b)++;
  }
  CHECK(on_a + on_b == 40);
  CHECK(a.size() == on_a);
  CHECK(b.size() == on_b);
}

TEST_CASE("hostd killed while commands keep coming converges on restart without duplicate VMMs") {
  Stack s;
  s.StartHostd("host-a");
  std::vector<std::string> vms;
  for (int i = 0; i < 6; ++i) vms.push_back(s.CreateVm("keep-" + std::to_string(i)));
  for (const auto& vm : vms) {
    REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, vm, VmObs::kRunning); }),
                    Describe(s, vm));
  }
  // Two more VMs whose power state keeps changing across the kill and the restart.
  std::vector<std::string> churn = {s.CreateVm("churn-0"), s.CreateVm("churn-1")};
  for (const auto& vm : churn) {
    REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, vm, VmObs::kRunning); }),
                    Describe(s, vm));
  }
  std::atomic<bool> churning{true};
  std::thread commander([&] {
    bool on = true;
    while (churning) {
      on = !on;
      for (const auto& vm : churn) {
        Status st = on ? s.Command(vm, domain::StartVm{}) : s.Command(vm, domain::StopVm{});
        CHECK_MESSAGE(st.ok(), st.ToString());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(150));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto before = test::VmmProcesses(s.StateDir("host-a"));
  REQUIRE(s.hostd("host-a")->Kill(SIGKILL).ok());
  REQUIRE(s.hostd("host-a")->Wait(std::chrono::seconds(10)).ok());

  // While it is down: stop one, delete one, create two more.
  REQUIRE(s.Command(vms[0], domain::StopVm{}).ok());
  REQUIRE(s.Command(vms[1], domain::DeleteVm{}).ok());
  std::string fresh1 = s.CreateVm("fresh-1");
  std::string fresh2 = s.CreateVm("fresh-2", /*start=*/false);

  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  s.StartHostd("host-a");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  churning = false;
  commander.join();
  for (const auto& vm : churn) {
    REQUIRE_MESSAGE(Stack::WaitUntil([&] {
                      domain::VmState v = s.Vm(vm);
                      VmObs want = v.desired == domain::VmDesiredState::kRunning ? VmObs::kRunning
                                                                                 : VmObs::kStopped;
                      return Converged(s, vm, want) && CountVmms(s.StateDir("host-a"), vm) == 1 &&
                             test::VmmState(s.StateDir("host-a"), vm) ==
                                 (want == VmObs::kRunning ? "Running" : "Created");
                    }),
                    Describe(s, vm));
  }
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, vms[0], VmObs::kStopped); }),
                  Describe(s, vms[0]));
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, vms[1], VmObs::kStopped); }),
                  Describe(s, vms[1]));
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, fresh1, VmObs::kRunning); }),
                  Describe(s, fresh1));
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, fresh2, VmObs::kStopped); }),
                  Describe(s, fresh2));
  // Reported stopped, then prepared: the VMM that ran the guest gone, a new one without one.
  CHECK(Stack::WaitUntil([&] { return Prepared(s, "host-a", vms[0], before[vms[0]].at(0)); }));
  CHECK(Stack::WaitUntil([&] { return Prepared(s, "host-a", fresh2); }));
  auto after = test::VmmProcesses(s.StateDir("host-a"));
  const size_t processes = after.size();  // before operator[] below adds empty entries
  for (const auto& vm : churn) {
    auto it = after.find(vm);
    CHECK((it == after.end() ? 0 : it->second.size()) == 1);
  }
  // One VMM for each VM but the deleted one (stopped ones prepared), and for the new ones.
  CHECK(processes == vms.size() - 1 + 2 + churn.size());
  for (size_t i = 2; i < vms.size(); ++i) {
    // The same VMM process as before the kill: the guest was not restarted.
    CHECK(after[vms[i]] == before[vms[i]]);
    CHECK(s.Vm(vms[i]).observed == VmObs::kRunning);
    for (const auto& e : s.History(vms[i])) {
      CHECK(e != "VmObserved:crashed");
      CHECK(e != "VmObserved:stopped");
    }
  }
  CHECK(after.count(vms[1]) == 0);
  CHECK(after[fresh1].size() == 1);
}

TEST_CASE("a simulated guest crash is reported and the VM restarted when desired running") {
  Stack s;
  s.StartHostd("host-a");
  std::string vm = s.CreateVm("crashy");
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, vm, VmObs::kRunning); }),
                  Describe(s, vm));
  pid_t pid = test::VmmProcesses(s.StateDir("host-a"))[vm][0];
  REQUIRE(kill(pid, SIGUSR1) == 0);
  REQUIRE_MESSAGE(Stack::WaitUntil([&] {
                    for (const auto& e : s.History(vm)) {
                      if (e == "VmObserved:crashed") return true;
                    }
                    return false;
                  }),
                  Describe(s, vm));
  REQUIRE_MESSAGE(Stack::WaitUntil([&] {
                    auto h = s.History(vm);
                    return h.back() == "VmObserved:running" &&
                           CountVmms(s.StateDir("host-a"), vm) == 1;
                  }),
                  Describe(s, vm));
  auto h = s.History(vm);
  auto crashed = std::find(h.begin(), h.end(), "VmObserved:crashed");
  REQUIRE(crashed != h.end());
  CHECK(std::find(crashed, h.end(), "VmObserved:running") != h.end());
  CHECK(test::VmmProcesses(s.StateDir("host-a"))[vm][0] != pid);

  // With desired state stopped, a crash is reported and nothing restarts.
  std::string quiet = s.CreateVm("quiet");
  REQUIRE(Stack::WaitUntil([&] { return Converged(s, quiet, VmObs::kRunning); }));
  pid_t quiet_vmm = test::VmmProcesses(s.StateDir("host-a"))[quiet][0];
  REQUIRE(s.Command(quiet, domain::StopVm{}).ok());
  REQUIRE(Stack::WaitUntil([&] { return Converged(s, quiet, VmObs::kStopped); }));
  CHECK(Stack::WaitUntil([&] { return Prepared(s, "host-a", quiet, quiet_vmm); }));
}

TEST_CASE("a host whose heartbeats stop becomes unreachable with VMs unknown and comes back") {
  Stack s;
  s.StartHostd("host-a", {{"STRATO_HEARTBEAT_INTERVAL_MS", "300"}});
  std::string vm = s.CreateVm("lonely");
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, vm, VmObs::kRunning); }),
                  Describe(s, vm));
  CHECK(s.Host("host-a").reachable);
  pid_t hostd = s.hostd("host-a")->pid();
  REQUIRE(kill(hostd, SIGSTOP) == 0);
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return !s.Host("host-a").reachable; }),
                  test::ReadFile(s.serve_log()));
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return s.Vm(vm).observed == VmObs::kUnknown; }),
                  Describe(s, vm));
  CHECK(s.Vm(vm).observed_error.value_or("").find("unreachable") != std::string::npos);
  REQUIRE(kill(hostd, SIGCONT) == 0);
  REQUIRE(Stack::WaitUntil([&] { return s.Host("host-a").reachable; }));
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, vm, VmObs::kRunning); }),
                  Describe(s, vm));
  CHECK(!s.Vm(vm).observed_error.has_value());
}

TEST_CASE("hostd stops on SIGTERM leaving VMs running and adopts them on the next start") {
  Stack s;
  s.StartHostd("host-a");
  std::string vm = s.CreateVm("survivor");
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, vm, VmObs::kRunning); }),
                  Describe(s, vm));
  auto before = test::VmmProcesses(s.StateDir("host-a"));
  REQUIRE(s.hostd("host-a")->Kill(SIGTERM).ok());
  auto code = s.hostd("host-a")->Wait(std::chrono::seconds(15));
  REQUIRE(code.ok());
  CHECK(*code == 0);
  CHECK(test::VmmProcesses(s.StateDir("host-a")) == before);
  s.StartHostd("host-a");
  // Adopted: a stop now goes to the same process, which exits.
  REQUIRE(s.Command(vm, domain::StopVm{}).ok());
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, vm, VmObs::kStopped); }),
                  Describe(s, vm));
  CHECK(Stack::WaitUntil([&] { return Prepared(s, "host-a", vm, before[vm].at(0)); }));
}

TEST_CASE("hostd refuses a bad configuration with a sentence naming the variable") {
  auto dir = test::TempDir::Make("hostd-config-");
  REQUIRE(dir.ok());
  auto run = [&](std::map<std::string, std::string> env) {
    auto child = test::ChildProcess::Spawn(
        {{test::HostdBinary()}, std::move(env), (*dir)->path() + "/out.log"});
    REQUIRE(child.ok());
    auto code = (*child)->Wait(std::chrono::seconds(10));
    REQUIRE(code.ok());
    return std::make_pair(*code, test::ReadFile((*dir)->path() + "/out.log"));
  };
  auto [c1, out1] = run({{"NATS_URL", "nats://127.0.0.1:1"}, {"STRATO_STATE_DIR", ""}});
  CHECK(c1 == 2);
  CHECK(out1.find("STRATO_STATE_DIR") != std::string::npos);
  auto [c2, out2] = run({{"NATS_URL", "nats://127.0.0.1:1"},
                         {"STRATO_STATE_DIR", (*dir)->path() + "/s"},
                         {"STRATO_HOST_CPUS", "many"}});
  CHECK(c2 == 2);
  CHECK(out2.find("STRATO_HOST_CPUS") != std::string::npos);
  auto [c3, out3] = run({{"NATS_URL", "nats://127.0.0.1:1"},
                         {"STRATO_STATE_DIR", (*dir)->path() + "/s"},
                         {"STRATO_HOST_ID", "bad.id"}});
  CHECK(c3 == 2);
  CHECK(out3.find("STRATO_HOST_ID") != std::string::npos);
}

TEST_CASE("VMs created while nats-server is down for 10 s converge after it returns") {
  Stack s;
  s.StartHostd("host-a");
  std::string early = s.CreateVm("early");
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, early, VmObs::kRunning); }),
                  Describe(s, early));
  REQUIRE(s.nats().Stop().ok());
  std::vector<std::string> vms;
  for (int i = 0; i < 5; ++i) {
    vms.push_back(s.CreateVm("during-" + std::to_string(i)));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  REQUIRE(s.Command(early, domain::StopVm{}).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(7500));
  REQUIRE(s.nats().Start().ok());
  for (const auto& vm : vms) {
    REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, vm, VmObs::kRunning); },
                                     std::chrono::seconds(60)),
                    Describe(s, vm));
  }
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, early, VmObs::kStopped); },
                                   std::chrono::seconds(60)),
                  Describe(s, early));
  CHECK(Stack::WaitUntil([&] { return Prepared(s, "host-a", early); }));
  auto procs = test::VmmProcesses(s.StateDir("host-a"));
  CHECK(procs.size() == vms.size() + 1);  // and the stopped one's, prepared
  for (const auto& vm : vms) CHECK(procs[vm].size() == 1);
}

TEST_CASE("a VM deleted before it ever ran is reported at its final generation") {
  Stack s;
  s.StartHostd("host-a");
  std::string vm = s.CreateVm("never-ran", /*start=*/false);
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, vm, VmObs::kStopped); }),
                  Describe(s, vm));
  CHECK(Stack::WaitUntil([&] { return Prepared(s, "host-a", vm); }));
  REQUIRE(s.Command(vm, domain::DeleteVm{}).ok());
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, vm, VmObs::kStopped); }),
                  Describe(s, vm));
  CHECK(s.Vm(vm).desired == domain::VmDesiredState::kDeleted);
  CHECK(CountVmms(s.StateDir("host-a"), vm) == 0);
  CHECK_FALSE(std::filesystem::exists(s.StateDir("host-a") + "/vms/" + vm));
}

namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t Occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The VMM's stdout and stderr (kept in the VM's folder after a stop).
std::string VmmLog(Stack& s, const std::string& host, const std::string& vm) {
  return ReadAll(s.StateDir(host) + "/vms/" + vm + "/vmm.log");
}

std::string HostdLog(Stack& s, const std::string& host) {
  return ReadAll(s.root() + "/hostd-" + host + ".log");
}

// A STRATO_CH_BINARY whose guests ignore the power button.
std::string IgnoringSimulator(Stack& s) {
  const std::string path = s.root() + "/ignoring-simulator.sh";
  {
    std::ofstream out(path, std::ios::trunc);
    out << "#!/bin/sh\nexec " << test::SimulatorBinary() << " --ignore-power-button \"$@\"\n";
  }
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  return path;
}

const char kPowerOff[] = "simulated guest power-off (power button)";
const char kIgnored[] = "simulated guest ignored the power button";

}  // namespace

TEST_CASE("a graceful stop lets the guest power off through the power button") {
  Stack s;
  s.StartHostd("host-a", {{"STRATO_STOP_TIMEOUT_SECONDS", "30"}});
  std::string vm = s.CreateVm("calm");
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, vm, VmObs::kRunning); }),
                  Describe(s, vm));
  pid_t vmm = test::VmmProcesses(s.StateDir("host-a"))[vm][0];
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(s.Command(vm, domain::StopVm{}).ok());
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, vm, VmObs::kStopped); }),
                  Describe(s, vm));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(15));  // not the timeout
  CHECK(Stack::WaitUntil([&] { return Prepared(s, "host-a", vm, vmm); }));
  // The guest powered off by itself and its VMM exited with 0; hostd never forced it.
  const std::string log = VmmLog(s, "host-a", vm);
  CHECK_MESSAGE(Occurrences(log, kPowerOff) == 1, log);
  const std::string hostd = HostdLog(s, "host-a");
  CHECK(hostd.find("pressed the guest's power button") != std::string::npos);
  CHECK(hostd.find("the guest powered off after the power button") != std::string::npos);
  CHECK(hostd.find("forced a graceful stop") == std::string::npos);
  CHECK_FALSE(std::filesystem::exists(s.StateDir("host-a") + "/vms/" + vm + "/stop"));
}

TEST_CASE("a guest that ignores the power button is stopped by force after the timeout") {
  Stack s;
  s.StartHostd("host-a",
               {{"STRATO_STOP_TIMEOUT_SECONDS", "2"}, {"STRATO_CH_BINARY", IgnoringSimulator(s)}});
  std::string vm = s.CreateVm("stubborn");
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, vm, VmObs::kRunning); }),
                  Describe(s, vm));
  pid_t vmm = test::VmmProcesses(s.StateDir("host-a"))[vm][0];
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(s.Command(vm, domain::StopVm{}).ok());
  // While it waits: "stopping", the VMM still there.
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return s.Vm(vm).observed == VmObs::kStopping; }),
                  Describe(s, vm));
  CHECK(test::VmmProcesses(s.StateDir("host-a"))[vm] == std::vector<pid_t>{vmm});
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, vm, VmObs::kStopped); }),
                  Describe(s, vm));
  CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(1900));
  CHECK(Stack::WaitUntil([&] { return Prepared(s, "host-a", vm, vmm); }));
  const std::string log = VmmLog(s, "host-a", vm);
  CHECK_MESSAGE(Occurrences(log, kIgnored) == 1, log);  // pressed once, never again
  CHECK(Occurrences(log, kPowerOff) == 0);
  CHECK(HostdLog(s, "host-a").find("forced a graceful stop") != std::string::npos);
}

TEST_CASE("a forced stop is immediate and overtakes a graceful stop that waits") {
  Stack s;
  s.StartHostd("host-a",
               {{"STRATO_STOP_TIMEOUT_SECONDS", "60"}, {"STRATO_CH_BINARY", IgnoringSimulator(s)}});
  std::string forced = s.CreateVm("forced");
  std::string escalated = s.CreateVm("escalated");
  for (const auto& vm : {forced, escalated}) {
    REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, vm, VmObs::kRunning); }),
                    Describe(s, vm));
  }
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(s.Command(forced, domain::StopVm{true}).ok());
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, forced, VmObs::kStopped); },
                                   std::chrono::seconds(10)),
                  Describe(s, forced));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
  CHECK(Occurrences(VmmLog(s, "host-a", forced), kIgnored) == 0);  // no button pressed

  pid_t escalated_vmm = test::VmmProcesses(s.StateDir("host-a"))[escalated][0];
  REQUIRE(s.Command(escalated, domain::StopVm{}).ok());
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return s.Vm(escalated).observed == VmObs::kStopping; }),
                  Describe(s, escalated));
  REQUIRE(
      Stack::WaitUntil([&] { return Occurrences(VmmLog(s, "host-a", escalated), kIgnored) == 1; }));
  auto t1 = std::chrono::steady_clock::now();
  REQUIRE(s.Command(escalated, domain::StopVm{true}).ok());
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, escalated, VmObs::kStopped); },
                                   std::chrono::seconds(10)),
                  Describe(s, escalated));
  CHECK(std::chrono::steady_clock::now() - t1 < std::chrono::seconds(10));
  CHECK(Stack::WaitUntil([&] { return Prepared(s, "host-a", escalated, escalated_vmm); }));
}

TEST_CASE("a graceful stop under way keeps its deadline across a hostd restart") {
  Stack s;
  std::map<std::string, std::string> env = {{"STRATO_STOP_TIMEOUT_SECONDS", "6"},
                                            {"STRATO_CH_BINARY", IgnoringSimulator(s)}};
  s.StartHostd("host-a", env);
  std::string vm = s.CreateVm("patient");
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, vm, VmObs::kRunning); }),
                  Describe(s, vm));
  pid_t vmm = test::VmmProcesses(s.StateDir("host-a"))[vm][0];
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(s.Command(vm, domain::StopVm{}).ok());
  REQUIRE(Stack::WaitUntil([&] { return Occurrences(VmmLog(s, "host-a", vm), kIgnored) == 1; }));
  REQUIRE(s.hostd("host-a")->Kill(SIGTERM).ok());
  REQUIRE(s.hostd("host-a")->Wait(std::chrono::seconds(10)).ok());
  CHECK(CountVmms(s.StateDir("host-a"), vm) == 1);  // the VMM outlived hostd
  s.StartHostd("host-a", env);
  REQUIRE_MESSAGE(Stack::WaitUntil([&] { return Converged(s, vm, VmObs::kStopped); }),
                  Describe(s, vm));
  // The restart neither cut the wait short nor forced the guest at once.
  CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(5900));
  // The restarted hostd did not press the button again.
  CHECK(Occurrences(VmmLog(s, "host-a", vm), kIgnored) == 1);
  CHECK(Stack::WaitUntil([&] { return Prepared(s, "host-a", vm, vmm); }));
}
