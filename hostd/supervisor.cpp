#include "hostd/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <vector>

#include "core/log.h"
#include "core/parse.h"
#include "hostd/retry.h"
#include "hostd/uv_status.h"

namespace strato::hostd {

using std::chrono::milliseconds;

// VMMs being prepared at once (spawned for stopped VMs; each step holds a worker thread while
// its VMM starts). Preparing is background work: it waits while other steps run, so that it
// never crowds out stops, starts and reports.
constexpr int kMaxPrepares = 2;
// Back-offs: a failed step (or a VMM that cannot be spawned), and a VMM that exits unasked.
constexpr milliseconds kStepFirst{500}, kCrashFirst{1000}, kBackoffCap{30000};
// A VMM that ran this long before it crashed starts its crash back-off afresh.
constexpr std::chrono::seconds kCrashReset{60};

// Handed to a process or pidfd handle's callback: whose exit it is.
struct Supervisor::ExitContext {
  Supervisor* supervisor;
  std::string vm_id;
};

namespace {

int PidfdOpen(int pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  return -1;
#endif
}

// Closes a VMM's process or pidfd handle and frees it with its ExitContext (and the pidfd).
template <typename Context>
void CloseAndFree(uv_handle_t* h) {
  uv_close(h, [](uv_handle_t* x) {
    if (x->type == UV_POLL) {
      uv_os_fd_t fd;
      if (uv_fileno(x, &fd) == 0) close(fd);
    }
    delete static_cast<Context*>(x->data);
    if (x->type == UV_POLL) {
      delete reinterpret_cast<uv_poll_t*>(x);
    } else {
      delete reinterpret_cast<uv_process_t*>(x);
    }
  });
}

// A positive decimal number naming a pid or a descriptor ("/proc/<pid>", "/proc/self/fd/<fd>").
std::optional<int> ParseId(const std::string& name) {
  std::optional<int64_t> n = ParseInt(name, 0, std::numeric_limits<int>::max());
  if (!n) return std::nullopt;
  return static_cast<int>(*n);
}

// VMM processes serving an API socket under `vms_dir`, found by their command lines (the
// driver reads the socket from them: "--api-socket path=<vms_dir>/<vm>.sock" for Cloud
// Hypervisor, "-qmp unix:<vms_dir>/<vm>.sock,..." for QEMU): vm id -> pid.
std::map<std::string, int> VmmsUnder(const std::string& vms_dir, const Hypervisor& hv) {
  std::map<std::string, int> out;
  const std::string prefix = vms_dir + "/";
  const int self = static_cast<int>(getpid());
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    std::optional<int> pid = ParseId(name);
    if (!pid || *pid == 0 || *pid == self) continue;
    std::ifstream in("/proc/" + name + "/cmdline");
    std::vector<std::string> argv;
    std::string arg;
    while (std::getline(in, arg, '\0')) argv.push_back(arg);
    std::optional<std::string> path = hv.SocketFromCommandLine(argv);
    if (!path) continue;
    if (path->size() > prefix.size() + 5 && path->rfind(prefix, 0) == 0 &&
        path->compare(path->size() - 5, 5, ".sock") == 0) {
      std::string id = path->substr(prefix.size(), path->size() - prefix.size() - 5);
      if (id.find('/') == std::string::npos) out[id] = *pid;
    }
  }
  return out;
}

// VMMs outlive hostd, so they must not inherit its descriptors (the NATS socket above all: a
// VMM holding it would keep a dead hostd's connection open). nats.c and whoever started hostd
// may leave descriptors inheritable; mark every one above stderr close-on-exec before a spawn.
void CloseOnExecAll() {
  std::error_code ec;
  std::vector<int> fds;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    std::optional<int> fd = ParseId(entry.path().filename().string());
    if (fd && *fd > 2) fds.push_back(*fd);
  }
  for (int fd : fds) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && (flags & FD_CLOEXEC) == 0) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
}

}  // namespace

Supervisor::Supervisor(const HostdConfig& config, Hypervisor& hv, uv_loop_t* loop, WorkQueue& work,
                       const SteadyClock& steady, const Clock& wall, ReportFn report)
    : config_(config),
      hv_(hv),
      loop_(loop),
      work_(work),
      steady_(steady),
      wall_(wall),
      report_(std::move(report)) {}

VmRecord& Supervisor::GetVm(const std::string& id) {
  auto& slot = vms_[id];
  if (!slot) {
    slot = std::make_unique<VmRecord>();
    slot->id = id;
    slot->paths = PathsFor(config_.vms_dir(), id);
  }
  return *slot;
}

const VmRecord* Supervisor::Find(const std::string& vm_id) const {
  auto it = vms_.find(vm_id);
  return it == vms_.end() ? nullptr : it->second.get();
}

Supervisor::Counts Supervisor::Count() const {
  Counts c;
  for (const auto& [id, vm] : vms_) {
    if (vm->state == VmState::kUnknown || vm->state == VmState::kGone) continue;
    ++c.vms;
    if (vm->observation && vm->observation->state == "running") ++c.running;
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// VMM processes.

void Supervisor::WritePidFile(const VmRecord& vm) {
  std::ofstream out(vm.paths.pid_file, std::ios::trunc);
  out << vm.vmm.pid << "\n";
  out.flush();
  if (!out) {
    // Only a help for people: hostd finds its VMMs by their command lines.
    log::Warn("cannot write the VMM's pid file", {{"vm_id", vm.id}, {"path", vm.paths.pid_file}});
  }
}

// VMMs that outlived an earlier hostd, found by their command lines (not only their pid files
// and sockets: a VMM spawned just before the previous hostd died may have neither a pid file
// nor a socket yet). One that answers on its socket (given 2 s, as it may still be starting)
// is adopted; one that does not is killed, so it can neither run unwatched nor hold the
// socket's lock against the VMM started in its place. Sockets nobody serves are removed.
void Supervisor::Adopt() {
  std::error_code ec;
  std::map<std::string, int> procs = VmmsUnder(config_.vms_dir(), hv_);
  std::set<std::string> ids;
  for (const auto& [id, pid] : procs) ids.insert(id);
  for (const auto& entry : std::filesystem::directory_iterator(config_.vms_dir(), ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".sock") ids.insert(name.substr(0, name.size() - 5));
  }
  for (const std::string& id : ids) {
    VmPaths paths = PathsFor(config_.vms_dir(), id);
    auto it = procs.find(id);
    if (it == procs.end()) {
      std::filesystem::remove(paths.socket, ec);
      log::Info("removed a stale VMM socket", {{"vm_id", id}});
      continue;
    }
    const int pid = it->second;
    bool answers = false;
    for (int i = 0; i < 40 && kill(pid, 0) == 0; ++i) {
      answers = hv_.Ping(paths.socket).ok();
      if (answers) break;
      usleep(50 * 1000);
    }
    if (answers) {
      VmRecord& vm = GetVm(id);
      vm.vmm.pid = pid;  // no child handle: adopted
      vm.vmm.started_at = steady_.Now();
      WritePidFile(vm);
      Watch(vm);
      log::Info("adopted a running VMM", {{"vm_id", id}, {"pid", pid}});
    } else {
      kill(pid, SIGKILL);  // a VMM that does not answer is of no use
      std::filesystem::remove(paths.socket, ec);
      log::Warn("killed a VMM that does not answer on its socket", {{"vm_id", id}, {"pid", pid}});
    }
  }
}

// An adopted VMM is not hostd's child: its exit is watched through a pidfd. Without one (an
// old kernel, or libuv refusing the poll) the tick checks the pid every 100 ms instead.
void Supervisor::Watch(VmRecord& vm) {
  int fd = PidfdOpen(vm.vmm.pid);
  if (fd < 0) return;
  auto* poll = new uv_poll_t;
  Status init = UvStatus(uv_poll_init(loop_, poll, fd), "watching the VMM's exit");
  if (!init.ok()) {
    log::Warn("cannot watch a VMM's exit at once; checking its pid every tick",
              {{"vm_id", vm.id}, {"error", init.message()}});
    delete poll;
    close(fd);
    return;
  }
  poll->data = new ExitContext{this, vm.id};
  Status started = UvStatus(uv_poll_start(poll, UV_READABLE,
                                          [](uv_poll_t* p, int, int) {
                                            auto* ctx = static_cast<ExitContext*>(p->data);
                                            ctx->supervisor->OnPidfd(ctx->vm_id);
                                          }),
                            "watching the VMM's exit");
  if (!started.ok()) {
    log::Warn("cannot watch a VMM's exit at once; checking its pid every tick",
              {{"vm_id", vm.id}, {"error", started.message()}});
    CloseAndFree<ExitContext>(reinterpret_cast<uv_handle_t*>(poll));  // closes the pidfd too
    return;
  }
  vm.vmm.pidfd_poll = poll;
}

void Supervisor::OnPidfd(const std::string& vm_id) {
  if (vms_.find(vm_id) == vms_.end()) return;
  OnChildExit(vm_id, -1, 0);
}

void Supervisor::ProcessGone(VmRecord& vm) {
  if (vm.vmm.child != nullptr) {
    CloseAndFree<ExitContext>(reinterpret_cast<uv_handle_t*>(vm.vmm.child));
  }
  if (vm.vmm.pidfd_poll != nullptr) {
    (void)uv_poll_stop(vm.vmm.pidfd_poll);  // cannot fail
    CloseAndFree<ExitContext>(reinterpret_cast<uv_handle_t*>(vm.vmm.pidfd_poll));
  }
  vm.vmm = VmmProcess{};
  std::error_code ec;
  std::filesystem::remove(vm.paths.pid_file, ec);
}

void Supervisor::Detach() {
  for (auto& [id, vm] : vms_) {
    if (vm->vmm.child != nullptr) {
      CloseAndFree<ExitContext>(reinterpret_cast<uv_handle_t*>(vm->vmm.child));
      vm->vmm.child = nullptr;
    }
    if (vm->vmm.pidfd_poll != nullptr) {
      (void)uv_poll_stop(vm->vmm.pidfd_poll);  // cannot fail
      CloseAndFree<ExitContext>(reinterpret_cast<uv_handle_t*>(vm->vmm.pidfd_poll));
      vm->vmm.pidfd_poll = nullptr;
    }
  }
}

void Supervisor::OnChildExit(const std::string& vm_id, int64_t status, int signal) {
  auto it = vms_.find(vm_id);
  if (it == vms_.end()) return;
  VmRecord& vm = *it->second;
  if (!vm.vmm.alive()) return;
  const bool adopted = vm.vmm.adopted();
  const int pid = vm.vmm.pid;
  const bool asked = vm.vmm.exit_expected;
  const auto ran = steady_.Now() - vm.vmm.started_at;
  ProcessGone(vm);
  const std::string& d = vm.desired.desired;
  const bool expected = asked || (vm.has_desired() && (d == "stopped" || d == "deleted"));
  if (expected || stopping_) {
    OnExpectedExit(vm, asked, status, signal, ran);
  } else {
    OnCrash(vm, adopted, pid, status, signal, ran);
  }
}

void Supervisor::OnExpectedExit(VmRecord& vm, bool asked, int64_t status, int signal,
                                SteadyTime::duration ran) {
  if (!asked && !stopping_ && vm.desired.desired == "stopped" && vm.state != VmState::kStepping &&
      vm.observation && vm.observation->state == "stopped") {
    // A prepared VMM (no guest in it) exited by itself: it is prepared again after a
    // back-off, so a VMM that cannot stay up is not restarted in a loop.
    log::Warn("a prepared VMM exited",
              {{"vm_id", vm.id}, {"exit_status", status}, {"signal", signal}});
    if (ran > kCrashReset) vm.crashes = 0;
    ++vm.crashes;
    vm.next_attempt = steady_.Now() + Backoff(vm.crashes, kCrashFirst, kBackoffCap);
  }
  if (vm.state == VmState::kAwaitingGuest) {
    // The guest acted on the power button: its VMM exited by itself. (During a step, the
    // step's completion says so: that step may have forced the stop.)
    log::Info("the guest powered off after the power button",
              {{"vm_id", vm.id}, {"exit_status", status}, {"signal", signal}});
    Move(vm, VmState::kIdle);
    vm.next_attempt = {};  // report "stopped" now, not at the next poll
  }
  vm.dirty = true;
  Dispatch(vm);
}

void Supervisor::OnCrash(VmRecord& vm, bool adopted, int pid, int64_t status, int signal,
                         SteadyTime::duration ran) {
  std::string why;
  if (adopted) {
    why = "the VMM process (pid " + std::to_string(pid) +
          ", adopted from an earlier hostd) exited; its exit status is unknown";
  } else if (signal != 0) {
    why = "the VMM process was killed by signal " + std::to_string(signal);
  } else {
    why = "the VMM process exited with status " + std::to_string(status);
  }
  log::Warn("VMM exited unexpectedly", {{"vm_id", vm.id}, {"error", why}});
  if (ran > kCrashReset) vm.crashes = 0;
  ++vm.crashes;
  events::VmReport r{vm.id, "crashed", vm.desired.generation, why};
  vm.observation = r;
  Report(r);
  vm.next_attempt = steady_.Now() + Backoff(vm.crashes, kCrashFirst, kBackoffCap);
  vm.dirty = true;  // restarted at next_attempt when desired is running or paused
}

Status Supervisor::Spawn(VmRecord& vm) {
  CloseOnExecAll();
  std::error_code ec;
  STRATO_RETURN_IF_ERROR(MakePrivateDirs(vm.paths.dir));
  std::filesystem::remove(vm.paths.socket, ec);
  // The VMM's stdout and stderr; the owner's only (an existing file keeps its mode through
  // O_CREAT, hence the fchmod).
  int fd = open(vm.paths.vmm_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd >= 0 && fchmod(fd, 0600) != 0) {
    close(fd);
    fd = -1;
  }
  // A VMM whose machine is on its command line (QEMU) opens the disk, seed and serial log at
  // its start: they must exist before.
  if (hv_.MachineOnCommandLine()) {
    Status files = PrepareVmFiles(vm.desired, vm.paths, config_.payload());
    if (!files.ok()) {
      if (fd >= 0) close(fd);
      return files;
    }
  }
  std::vector<std::string> argv =
      hv_.VmmCommandLine(vm.paths.socket, SpecFor(vm.desired, vm.paths, config_.payload()));
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  uv_stdio_container_t stdio[3];
  stdio[0].flags = UV_IGNORE;
  for (int i = 1; i < 3; ++i) {
    stdio[i].flags = fd >= 0 ? UV_INHERIT_FD : UV_IGNORE;
    stdio[i].data.fd = fd;
  }
  uv_process_options_t o{};
  o.file = args[0];
  o.args = args.data();
  o.flags = UV_PROCESS_DETACHED;  // its own session: it outlives hostd
  o.stdio_count = 3;
  o.stdio = stdio;
  o.exit_cb = [](uv_process_t* p, int64_t status, int signal) {
    auto* ctx = static_cast<ExitContext*>(p->data);
    ctx->supervisor->OnChildExit(ctx->vm_id, status, signal);
  };
  auto* child = new uv_process_t;
  child->data = new ExitContext{this, vm.id};
  int rc = uv_spawn(loop_, child, &o);
  if (fd >= 0) close(fd);
  if (rc != 0) {
    CloseAndFree<ExitContext>(reinterpret_cast<uv_handle_t*>(child));
    return Status::Unavailable("cannot start the VMM " + argv[0] + ": " + uv_strerror(rc));
  }
  vm.vmm.child = child;
  vm.vmm.pid = child->pid;
  vm.vmm.started_at = steady_.Now();
  WritePidFile(vm);
  return Status::Ok();
}

void Supervisor::OnTick() {
  const SteadyTime now = steady_.Now();
  for (auto& [id, vm] : vms_) {
    if (vm->vmm.adopted() && vm->vmm.pidfd_poll == nullptr && kill(vm->vmm.pid, 0) != 0) {
      OnChildExit(id, -1, 0);
    }
    if (vm->dirty && vm->state != VmState::kStepping && now >= vm->next_attempt) Dispatch(*vm);
  }
}

// ---------------------------------------------------------------------------------------------
// Desired state.

void Supervisor::ApplyRow(const events::DesiredVm& row) {
  VmRecord& vm = GetVm(row.vm_id);
  if (vm.has_desired() && row.position < vm.desired.position) return;
  const bool changed = !vm.has_desired() || row.position != vm.desired.position;
  vm.desired = row;
  if (vm.state == VmState::kUnknown) Move(vm, VmState::kIdle);
  if (changed && vm.state == VmState::kAwaitingGuest) {
    vm.next_attempt = {};  // e.g. a forced stop escalates now
  }
  if (changed && vm.state == VmState::kGone && row.desired != "deleted") {
    Move(vm, VmState::kIdle);  // wanted again
  }
  vm.dirty = true;
  Dispatch(vm);
}

void Supervisor::Resynced() {
  for (auto& [id, vm] : vms_) {
    vm->dirty = true;
    Dispatch(*vm);
  }
  for (auto& [id, vm] : vms_) {
    if (vm->vmm.alive() && !vm->has_desired()) {
      log::Warn("a VMM runs for a VM this host is not asked to run; leaving it alone",
                {{"vm_id", id}});
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Reconcile steps.

void Supervisor::Dispatch(VmRecord& vm) {
  if (stopping_ || vm.state == VmState::kUnknown || vm.state == VmState::kStepping) {
    if (vm.state == VmState::kStepping) vm.dirty = true;
    return;
  }
  if (steady_.Now() < vm.next_attempt) {
    vm.dirty = true;  // the tick dispatches it when due
    return;
  }
  vm.dirty = false;
  // Destroyed and reported in this run: nothing left to do. (After a restart one more step
  // runs, which reports "stopped" again; the control plane appends nothing for it.)
  if (vm.state == VmState::kGone) return;
  const std::string d = vm.desired.desired;
  const bool want_on = d == "running" || d == "paused";
  // A stopped VM keeps a VMM too, prepared (its VM created, not booted) once it has been
  // reported stopped: a start then only boots it, without waiting for a process to start.
  const bool prepare = d == "stopped" && vm.observation && vm.observation->state == "stopped";
  bool spawned = false;
  if ((want_on || prepare) && !vm.vmm.alive()) {
    if (!want_on && (prepares_ >= kMaxPrepares || steps_ > prepares_)) {
      vm.dirty = true;  // the tick dispatches it again
      return;
    }
    Status s = Spawn(vm);
    if (!s.ok()) {
      ++vm.failures;
      vm.next_attempt = steady_.Now() + Backoff(vm.failures, kStepFirst, kBackoffCap);
      vm.dirty = true;
      if (want_on) {
        events::VmReport r{vm.id, "failed", vm.desired.generation, s.message()};
        vm.observation = r;
        Report(r);
      } else {
        log::Warn("cannot prepare a VMM; will retry", {{"vm_id", vm.id}, {"error", s.message()}});
      }
      return;
    }
    spawned = true;
    if (want_on) Report({vm.id, "starting", vm.desired.generation, std::nullopt});
  }
  // Say what is under way (a report not yet sent is replaced by a newer one, so quick
  // transitions show only their outcome). A stop says so once it has found a guest to stop.
  if (!want_on && vm.vmm.alive()) vm.vmm.exit_expected = true;
  if (d == "deleted" && vm.vmm.alive()) {
    Report({vm.id, "stopping", vm.desired.generation, std::nullopt});
  }
  Move(vm, VmState::kStepping);
  vm.step_position = vm.desired.position;
  StepInput in;
  in.desired = vm.desired;
  in.process_alive = vm.vmm.alive();
  in.spawned = spawned;
  in.paths = vm.paths;
  in.stop_timeout = config_.stop_timeout;
  in.now = wall_.Now();
  in.payload = config_.payload();
  const bool preparing = spawned && !want_on;
  ++steps_;
  if (preparing) ++prepares_;
  auto result = std::make_shared<StepResult>();
  Hypervisor* hv = &hv_;
  std::string id = vm.id;
  work_.Run([hv, in, result] { *result = Converge(*hv, in); },
            [this, id, result, preparing] {
              --steps_;
              if (preparing) --prepares_;
              OnStepDone(id, *result);
            });
}

void Supervisor::OnStepDone(const std::string& vm_id, const StepResult& r) {
  VmRecord& vm = GetVm(vm_id);
  switch (r.next) {
    case StepNext::kAwaitExit:
      AwaitExit(vm, r);
      break;
    case StepNext::kAwaitGuest:
      AwaitGuest(vm, r);
      break;
    case StepNext::kDone:
      StepDone(vm, r);
      break;
  }
  if (vm.dirty) Dispatch(vm);
}

// The step asked the VMM to exit: the exit callback (or an exit already seen) finishes it.
void Supervisor::AwaitExit(VmRecord& vm, const StepResult& r) {
  Move(vm, VmState::kIdle);
  if (r.respawn) {
    // Its VMM holds an earlier machine (QEMU, resized while stopped): it is ended (QEMU exits
    // cleanly on SIGTERM) and its exit starts a new one with the desired configuration.
    log::Info("starting the VMM again with the VM's new configuration", {{"vm_id", vm.id}});
    if (vm.vmm.alive()) {
      vm.vmm.exit_expected = true;
      kill(vm.vmm.pid, SIGTERM);
    } else {
      vm.dirty = true;
    }
    return;
  }
  events::VmReport rep{vm.id, "stopping", r.generation, std::nullopt};
  vm.observation = rep;
  Report(rep);
  if (!vm.vmm.alive()) vm.dirty = true;
  if (r.forced_after_timeout) {
    log::Warn("forced a graceful stop: the guest did not power off in time",
              {{"vm_id", vm.id},
               {"stop_timeout_ms", static_cast<int64_t>(config_.stop_timeout.count())}});
  }
}

// The step pressed the power button (or found it pressed): wait for the guest.
void Supervisor::AwaitGuest(VmRecord& vm, const StepResult& r) {
  vm.failures = 0;
  events::VmReport rep{vm.id, "stopping", r.generation, std::nullopt};
  vm.observation = rep;
  if (!vm.vmm.alive()) {
    Move(vm, VmState::kIdle);
    Report(rep);
    // It exited while the step ran, which did nothing but look or press the button.
    log::Info("the guest powered off after the power button", {{"vm_id", vm.id}});
    vm.dirty = true;
    return;
  }
  Move(vm, VmState::kAwaitingGuest);
  Report(rep);
  // Look again in a second (a guest that powered off without its VMM exiting), and at the
  // deadline at the latest; an exit, or a changed desired state (a forced stop, a start),
  // dispatches at once.
  vm.dirty = true;
  auto left = std::chrono::duration_cast<milliseconds>(r.stop_deadline - wall_.Now());
  if (left < milliseconds(0)) left = milliseconds(0);
  vm.next_attempt = steady_.Now() + std::min(left, milliseconds(1000));
  if (vm.desired.position != vm.step_position) vm.next_attempt = {};
}

// Converged, or failed (backs off and retries).
void Supervisor::StepDone(VmRecord& vm, const StepResult& r) {
  // Deleted and its files removed, unless it is wanted again meanwhile (then the next step
  // makes it so).
  Move(vm, r.cleaned && vm.desired.desired == "deleted" ? VmState::kGone : VmState::kIdle);
  vm.vmm.exit_expected = false;  // no exit was asked for (a stopped VM's VMM stays prepared)
  events::VmReport rep{vm.id, r.observed, r.generation, r.error};
  vm.observation = rep;
  Report(rep);
  if (r.retry) {
    ++vm.failures;
    vm.next_attempt = steady_.Now() + Backoff(vm.failures, kStepFirst, kBackoffCap);
    vm.dirty = true;
    log::Warn("VM action failed; retrying",
              {{"vm_id", vm.id}, {"error", r.error.value_or("")}, {"failures", vm.failures}});
  } else {
    vm.failures = 0;
  }
  // Reported stopped without a VMM (the stop is done): now prepare one.
  if (!r.retry && vm.desired.desired == "stopped" && !vm.vmm.alive()) vm.dirty = true;
}

}  // namespace strato::hostd
