#include "hostd/daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>
#include <uv.h>

#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include "core/clock.h"
#include "core/log.h"
#include "events/bus/nats_bus.h"
#include "events/bus/nats_link.h"
#include "events/hosts/host_protocol.h"
#include "events/log/event.h"
#include "hostd/nats_permissions.h"
#include "hostd/reconcile.h"

namespace strato::hostd {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;
using std::chrono::milliseconds;

constexpr milliseconds kRpcTimeout{10000};
constexpr size_t kReportBatch = events::kMaxReportsPerMessage;
constexpr size_t kFetchBatch = 100;
// VMMs being prepared at once (spawned for stopped VMs; each step holds a worker thread while
// its VMM starts). Preparing is background work: it waits while other steps run, so that it
// never crowds out stops, starts and reports.
constexpr int kMaxPrepares = 2;

SteadyTime Now() {
  return std::chrono::steady_clock::now();
}

milliseconds Backoff(int failures, milliseconds first, milliseconds cap) {
  milliseconds d = first;
  for (int i = 1; i < failures && d < cap; ++i) d *= 2;
  return d < cap ? d : cap;
}

// Errors compare as reported (bounded): the log holds the bounded text.
bool SameReport(const events::VmReport& a, const events::VmReport& b) {
  if (a.state != b.state || a.generation != b.generation) return false;
  if (a.error.has_value() != b.error.has_value()) return false;
  return !a.error || *a.error == *b.error ||
         events::BoundedReportError(*a.error) == events::BoundedReportError(*b.error);
}

int PidfdOpen(int pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
#else
  return -1;
#endif
}

struct Vm {
  std::string id;
  VmPaths paths;
  bool have_desired = false;
  events::DesiredVm desired;
  // The VMM process: a child (uv_process_t) or adopted at start (pid, watched by pidfd).
  uv_process_t* child = nullptr;
  uv_poll_t* pidfd_poll = nullptr;
  int pid = 0;
  bool alive = false;
  bool adopted = false;
  bool exit_expected = false;
  SteadyTime started_at{};
  // Reconcile.
  bool busy = false;
  bool dirty = false;
  int64_t step_position = 0;  // the desired position the running (or last) step started from
  // A graceful stop pressed the power button and waits for the guest (until the deadline kept
  // in the VM's stop file); a step polls every second and forces the stop once it has passed.
  bool waiting_guest = false;
  int failures = 0;
  int crashes = 0;
  SteadyTime next_attempt{};
  bool gone = false;                            // deleted and cleaned up
  std::optional<events::VmReport> observation;  // what hostd last saw
  std::optional<events::VmReport> reported;     // what the control plane last accepted
  std::optional<events::VmReport> logged;       // the last VmObserved seen on the bus
  int64_t logged_position = 0;
};

class Daemon;

struct ExitContext {
  Daemon* daemon;
  std::string vm_id;
};

class Daemon {
 public:
  Daemon(const HostdConfig& config, Hypervisor& hv) : config_(config), hv_(hv) {}

  Status Run();

  // Called from libuv callbacks.
  void OnSignal();
  void OnTick();
  void OnHeartbeat();
  void OnResync();
  void OnInbox();
  void OnChildExit(const std::string& vm_id, int64_t status, int signal);
  void OnPidfd(const std::string& vm_id);

 private:
  // Runs `work` on a libuv worker thread, then `after` on the loop.
  void OffLoop(std::function<void()> work, std::function<void()> after);

  void Adopt();
  void StartRegister();
  void StartFullFetch(bool first);
  void StartFollow();
  void ApplyRow(const events::DesiredVm& row);
  void ApplyEvent(int64_t sequence, const std::string& payload);
  void QueueFetch(const std::string& vm_id, int64_t min_position);
  void FlushFetches();
  void Report(Vm& vm, events::VmReport report);
  void FlushReports();

  Vm& GetVm(const std::string& id);
  void Dispatch(Vm& vm);
  void OnStepDone(const std::string& vm_id, const StepResult& r);
  Status Spawn(Vm& vm);
  void Watch(Vm& vm);
  void ProcessGone(Vm& vm);
  void Finish();

  HostdConfig config_;
  Hypervisor& hv_;
  uv_loop_t loop_{};
  uv_timer_t tick_{}, heartbeat_{}, resync_{};
  uv_signal_t sigterm_{}, sigint_{};
  uv_async_t inbox_async_{};
  std::unique_ptr<events::NatsLink> nats_;
  std::unique_ptr<events::NatsFollow> follow_;

  std::mutex inbox_mu_;  // the only state shared with other threads
  std::deque<std::pair<int64_t, std::string>> inbox_;

  std::map<std::string, std::unique_ptr<Vm>> vms_;
  bool stopping_ = false;
  bool finished_ = false;
  bool registered_ = false, register_in_flight_ = false;
  int register_failures_ = 0;
  bool have_snapshot_ = false, full_fetch_in_flight_ = false;
  bool follow_in_flight_ = false;
  int64_t position_ = 0;  // the last bus sequence applied (or the snapshot's position)
  SteadyTime retry_register_at_{}, retry_follow_at_{}, retry_fetch_at_{}, retry_report_at_{};
  std::map<std::string, int64_t> pending_fetch_;
  bool fetch_in_flight_ = false;
  std::map<std::string, events::VmReport> pending_reports_;
  bool report_in_flight_ = false;
  int works_ = 0;
  int steps_ = 0;     // reconcile steps under way
  int prepares_ = 0;  // of which preparing a VMM for a stopped VM
};

namespace {

// A libuv return code as a Status naming what failed (0: Ok).
Status UvStatus(int rc, std::string_view what) {
  if (rc == 0) return Status::Ok();
  return Status::Internal(std::string(what) + ": " + uv_strerror(rc));
}

}  // namespace

void Daemon::OffLoop(std::function<void()> work, std::function<void()> after) {
  struct Job {
    uv_work_t req;
    std::function<void()> work, after;
    Daemon* daemon;
  };
  auto* job = new Job{{}, std::move(work), std::move(after), this};
  job->req.data = job;
  ++works_;
  int rc = uv_queue_work(
      &loop_, &job->req, [](uv_work_t* r) { static_cast<Job*>(r->data)->work(); },
      [](uv_work_t* r, int) {
        auto* j = static_cast<Job*>(r->data);
        --j->daemon->works_;
        j->after();
        Daemon* d = j->daemon;
        delete j;
        if (d->stopping_) d->OnSignal();
      });
  if (rc != 0) {
    // Never seen (libuv refuses only a bad request): do the work here rather than lose it.
    log::Error("cannot queue work off the loop; doing it on the loop",
               {{"error", UvStatus(rc, "uv_queue_work").message()}});
    --works_;
    job->work();
    job->after();
    delete job;
  }
}

Vm& Daemon::GetVm(const std::string& id) {
  auto& slot = vms_[id];
  if (!slot) {
    slot = std::make_unique<Vm>();
    slot->id = id;
    slot->paths = PathsFor(config_.vms_dir(), id);
  }
  return *slot;
}

// VMM processes serving an API socket under `vms_dir`, found by their command lines
// ("--api-socket" "path=<vms_dir>/<vm>.sock"): vm id -> pid.
std::map<std::string, int> VmmsUnder(const std::string& vms_dir) {
  std::map<std::string, int> out;
  const std::string prefix = vms_dir + "/";
  const int self = static_cast<int>(getpid());
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const int pid = std::atoi(name.c_str());
    if (pid == self) continue;
    std::ifstream in("/proc/" + name + "/cmdline");
    std::string arg;
    bool socket_next = false;
    while (std::getline(in, arg, '\0')) {
      if (socket_next) {
        std::string path = arg.rfind("path=", 0) == 0 ? arg.substr(5) : arg;
        path = path.substr(0, path.find(','));
        if (path.size() > prefix.size() + 5 && path.rfind(prefix, 0) == 0 &&
            path.compare(path.size() - 5, 5, ".sock") == 0) {
          std::string id = path.substr(prefix.size(), path.size() - prefix.size() - 5);
          if (id.find('/') == std::string::npos) out[id] = pid;
        }
        break;
      }
      socket_next = arg == "--api-socket";
    }
  }
  return out;
}

// VMMs that outlived an earlier hostd, found by their command lines (not only their pid files
// and sockets: a VMM spawned just before the previous hostd died may have neither a pid file
// nor a socket yet). One that answers on its socket (given 2 s, as it may still be starting)
// is adopted; one that does not is killed, so it can neither run unwatched nor hold the
// socket's lock against the VMM started in its place. Sockets nobody serves are removed.
void Daemon::Adopt() {
  std::error_code ec;
  std::map<std::string, int> procs = VmmsUnder(config_.vms_dir());
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
      Vm& vm = GetVm(id);
      vm.pid = pid;
      vm.alive = true;
      vm.adopted = true;
      vm.started_at = Now();
      std::ofstream(paths.pid_file, std::ios::trunc) << pid << "\n";
      Watch(vm);
      log::Info("adopted a running VMM", {{"vm_id", id}, {"pid", pid}});
    } else {
      kill(pid, SIGKILL);  // a VMM that does not answer is of no use
      std::filesystem::remove(paths.socket, ec);
      log::Warn("killed a VMM that does not answer on its socket", {{"vm_id", id}, {"pid", pid}});
    }
  }
}

void Daemon::Watch(Vm& vm) {
  int fd = PidfdOpen(vm.pid);
  if (fd < 0) return;  // the tick checks the pid instead
  auto* poll = new uv_poll_t;
  if (uv_poll_init(&loop_, poll, fd) != 0) {
    delete poll;
    close(fd);
    return;
  }
  poll->data = new ExitContext{this, vm.id};
  vm.pidfd_poll = poll;
  Status started = UvStatus(uv_poll_start(poll, UV_READABLE,
                                          [](uv_poll_t* p, int, int) {
                                            auto* ctx = static_cast<ExitContext*>(p->data);
                                            ctx->daemon->OnPidfd(ctx->vm_id);
                                          }),
                            "watching the VMM's exit");
  if (!started.ok()) {
    // The tick checks the pid instead.
    log::Warn("cannot watch a VMM's exit at once",
              {{"vm_id", vm.id}, {"error", started.message()}});
  }
}

void Daemon::OnPidfd(const std::string& vm_id) {
  auto it = vms_.find(vm_id);
  if (it == vms_.end()) return;
  OnChildExit(vm_id, -1, 0);
}

void CloseAndFree(uv_handle_t* h) {
  uv_close(h, [](uv_handle_t* x) {
    if (x->type == UV_POLL) {
      uv_os_fd_t fd;
      if (uv_fileno(x, &fd) == 0) close(fd);
    }
    delete static_cast<ExitContext*>(x->data);
    if (x->type == UV_POLL) {
      delete reinterpret_cast<uv_poll_t*>(x);
    } else {
      delete reinterpret_cast<uv_process_t*>(x);
    }
  });
}

void Daemon::ProcessGone(Vm& vm) {
  vm.alive = false;
  vm.pid = 0;
  vm.adopted = false;
  if (vm.child != nullptr) {
    CloseAndFree(reinterpret_cast<uv_handle_t*>(vm.child));
    vm.child = nullptr;
  }
  if (vm.pidfd_poll != nullptr) {
    (void)uv_poll_stop(vm.pidfd_poll);  // cannot fail
    CloseAndFree(reinterpret_cast<uv_handle_t*>(vm.pidfd_poll));
    vm.pidfd_poll = nullptr;
  }
  std::error_code ec;
  std::filesystem::remove(vm.paths.pid_file, ec);
}

void Daemon::OnChildExit(const std::string& vm_id, int64_t status, int signal) {
  auto it = vms_.find(vm_id);
  if (it == vms_.end()) return;
  Vm& vm = *it->second;
  if (!vm.alive) return;
  const bool adopted = vm.adopted;
  const int pid = vm.pid;
  const auto ran = Now() - vm.started_at;
  ProcessGone(vm);
  const std::string& d = vm.desired.desired;
  const bool asked = vm.exit_expected;
  const bool expected = asked || (vm.have_desired && (d == "stopped" || d == "deleted"));
  vm.exit_expected = false;
  if (expected || stopping_) {
    if (!asked && !stopping_ && d == "stopped" && !vm.busy && vm.observation &&
        vm.observation->state == "stopped") {
      // A prepared VMM (no guest in it) exited by itself: it is prepared again after a
      // back-off, so a VMM that cannot stay up is not restarted in a loop.
      log::Warn("a prepared VMM exited",
                {{"vm_id", vm_id}, {"exit_status", status}, {"signal", signal}});
      if (ran > std::chrono::seconds(60)) vm.crashes = 0;
      ++vm.crashes;
      vm.next_attempt = Now() + Backoff(vm.crashes, milliseconds(1000), milliseconds(30000));
    }
    if (vm.waiting_guest) {
      // The guest acted on the power button: its VMM exited by itself. (During a step, the
      // step's completion says so: that step may have forced the stop.)
      if (!vm.busy) {
        log::Info("the guest powered off after the power button",
                  {{"vm_id", vm_id}, {"exit_status", status}, {"signal", signal}});
      }
      vm.waiting_guest = false;
      vm.next_attempt = {};  // report "stopped" now, not at the next poll
    }
    vm.dirty = true;
    Dispatch(vm);
    return;
  }
  std::string why;
  if (adopted) {
    why = "the VMM process (pid " + std::to_string(pid) +
          ", adopted from an earlier hostd) exited; its exit status is unknown";
  } else if (signal != 0) {
    why = "the VMM process was killed by signal " + std::to_string(signal);
  } else {
    why = "the VMM process exited with status " + std::to_string(status);
  }
  log::Warn("VMM exited unexpectedly", {{"vm_id", vm_id}, {"error", why}});
  if (ran > std::chrono::seconds(60)) vm.crashes = 0;
  ++vm.crashes;
  events::VmReport r{vm_id, "crashed", vm.desired.generation, why};
  vm.observation = r;
  Report(vm, r);
  vm.next_attempt = Now() + Backoff(vm.crashes, milliseconds(1000), milliseconds(30000));
  vm.dirty = true;  // restarted at next_attempt when desired is running or paused
}

// VMMs outlive hostd, so they must not inherit its descriptors (the NATS socket above all: a
// VMM holding it would keep a dead hostd's connection open). nats.c and whoever started hostd
// may leave descriptors inheritable; mark every one above stderr close-on-exec before a spawn.
void CloseOnExecAll() {
  std::error_code ec;
  std::vector<int> fds;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    int fd = std::atoi(entry.path().filename().c_str());
    if (fd > 2) fds.push_back(fd);
  }
  for (int fd : fds) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && (flags & FD_CLOEXEC) == 0) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
}

Status Daemon::Spawn(Vm& vm) {
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
  std::vector<std::string> argv = hv_.VmmCommandLine(vm.paths.socket);
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
    ctx->daemon->OnChildExit(ctx->vm_id, status, signal);
  };
  auto* child = new uv_process_t;
  child->data = new ExitContext{this, vm.id};
  int rc = uv_spawn(&loop_, child, &o);
  if (fd >= 0) close(fd);
  if (rc != 0) {
    CloseAndFree(reinterpret_cast<uv_handle_t*>(child));
    return Status::Unavailable("cannot start the VMM " + argv[0] + ": " + uv_strerror(rc));
  }
  vm.child = child;
  vm.pid = child->pid;
  vm.alive = true;
  vm.adopted = false;
  vm.started_at = Now();
  std::ofstream(vm.paths.pid_file, std::ios::trunc) << vm.pid << "\n";
  return Status::Ok();
}

void Daemon::Dispatch(Vm& vm) {
  if (stopping_ || !vm.have_desired || vm.busy) {
    if (vm.busy) vm.dirty = true;
    return;
  }
  if (Now() < vm.next_attempt) {
    vm.dirty = true;  // the tick dispatches it when due
    return;
  }
  vm.dirty = false;
  const std::string d = vm.desired.desired;
  const bool want_on = d == "running" || d == "paused";
  // Destroyed and reported in this run: nothing left to do. (After a restart one more step
  // runs, which reports "stopped" again; the control plane appends nothing for it.)
  if (d == "deleted" && !vm.alive && vm.gone) return;
  // A stopped VM keeps a VMM too, prepared (its VM created, not booted) once it has been
  // reported stopped: a start then only boots it, without waiting for a process to start.
  const bool prepare = d == "stopped" && vm.observation && vm.observation->state == "stopped";
  bool spawned = false;
  if ((want_on || prepare) && !vm.alive) {
    if (!want_on && (prepares_ >= kMaxPrepares || steps_ > prepares_)) {
      vm.dirty = true;  // the tick dispatches it again
      return;
    }
    Status s = Spawn(vm);
    if (!s.ok()) {
      ++vm.failures;
      vm.next_attempt = Now() + Backoff(vm.failures, milliseconds(500), milliseconds(30000));
      vm.dirty = true;
      if (want_on) {
        events::VmReport r{vm.id, "failed", vm.desired.generation, s.message()};
        vm.observation = r;
        Report(vm, r);
      } else {
        log::Warn("cannot prepare a VMM; will retry", {{"vm_id", vm.id}, {"error", s.message()}});
      }
      return;
    }
    spawned = true;
    if (want_on) Report(vm, {vm.id, "starting", vm.desired.generation, std::nullopt});
  }
  // Say what is under way (a report not yet sent is replaced by a newer one, so quick
  // transitions show only their outcome). A stop says so once it has found a guest to stop.
  if (!want_on && vm.alive) vm.exit_expected = true;
  if (d == "deleted" && vm.alive) {
    Report(vm, {vm.id, "stopping", vm.desired.generation, std::nullopt});
  }
  vm.busy = true;
  vm.step_position = vm.desired.position;
  StepInput in;
  in.desired = vm.desired;
  in.process_alive = vm.alive;
  in.spawned = spawned;
  in.paths = vm.paths;
  in.stop_timeout = config_.stop_timeout;
  in.now = std::chrono::system_clock::now();
  in.kernel_path = config_.kernel_path;
  in.kernel_cmdline = config_.kernel_cmdline;
  const bool preparing = spawned && !want_on;
  ++steps_;
  if (preparing) ++prepares_;
  auto result = std::make_shared<StepResult>();
  Hypervisor* hv = &hv_;
  std::string id = vm.id;
  OffLoop([hv, in, result] { *result = Converge(*hv, in); },
          [this, id, result, preparing] {
            --steps_;
            if (preparing) --prepares_;
            OnStepDone(id, *result);
          });
}

void Daemon::OnStepDone(const std::string& vm_id, const StepResult& r) {
  Vm& vm = GetVm(vm_id);
  vm.busy = false;
  vm.waiting_guest = false;
  if (r.next == StepNext::kAwaitExit) {
    // The exit callback (or an exit already seen) finishes the step.
    events::VmReport rep{vm_id, "stopping", r.generation, std::nullopt};
    vm.observation = rep;
    Report(vm, rep);
    if (!vm.alive) vm.dirty = true;
    if (r.forced_after_timeout) {
      log::Warn("forced a graceful stop: the guest did not power off in time",
                {{"vm_id", vm_id},
                 {"stop_timeout_ms", static_cast<int64_t>(config_.stop_timeout.count())}});
    }
  } else if (r.next == StepNext::kAwaitGuest) {
    vm.failures = 0;
    events::VmReport rep{vm_id, "stopping", r.generation, std::nullopt};
    vm.observation = rep;
    Report(vm, rep);
    if (!vm.alive) {
      // It exited while the step ran, which did nothing but look or press the button.
      log::Info("the guest powered off after the power button", {{"vm_id", vm_id}});
      vm.dirty = true;
    } else {
      // Look again in a second (a guest that powered off without its VMM exiting), and at the
      // deadline at the latest; an exit, or a changed desired state (a forced stop, a start),
      // dispatches at once.
      vm.waiting_guest = true;
      vm.dirty = true;
      auto left = std::chrono::duration_cast<milliseconds>(r.stop_deadline -
                                                           std::chrono::system_clock::now());
      if (left < milliseconds(0)) left = milliseconds(0);
      vm.next_attempt = Now() + std::min(left, milliseconds(1000));
      if (vm.desired.position != vm.step_position) vm.next_attempt = {};
    }
  } else {
    vm.exit_expected = false;  // no exit was asked for (a stopped VM's VMM stays prepared)
    events::VmReport rep{vm_id, r.observed, r.generation, r.error};
    vm.observation = rep;
    Report(vm, rep);
    if (r.retry) {
      ++vm.failures;
      vm.next_attempt = Now() + Backoff(vm.failures, milliseconds(500), milliseconds(30000));
      vm.dirty = true;
      log::Warn("VM action failed; retrying",
                {{"vm_id", vm_id}, {"error", r.error.value_or("")}, {"failures", vm.failures}});
    } else {
      vm.failures = 0;
    }
    if (r.cleaned) vm.gone = true;
    // Reported stopped without a VMM (the stop is done): now prepare one.
    if (!r.retry && vm.desired.desired == "stopped" && !vm.alive) vm.dirty = true;
  }
  if (vm.dirty) Dispatch(vm);
}

void Daemon::Report(Vm& vm, events::VmReport report) {
  // The control plane refuses a batch with an error text it cannot take (host_protocol.md).
  if (report.error) report.error = events::BoundedReportError(*report.error);
  if (vm.reported && SameReport(*vm.reported, report)) {
    pending_reports_.erase(vm.id);
    return;
  }
  pending_reports_[vm.id] = std::move(report);
  FlushReports();
}

void Daemon::FlushReports() {
  if (report_in_flight_ || pending_reports_.empty() || !registered_ || stopping_) return;
  if (Now() < retry_report_at_) return;
  auto batch = std::make_shared<std::vector<events::VmReport>>();
  while (!pending_reports_.empty() && batch->size() < kReportBatch) {
    batch->push_back(std::move(pending_reports_.begin()->second));
    pending_reports_.erase(pending_reports_.begin());
  }
  report_in_flight_ = true;
  auto reply = std::make_shared<Result<std::string>>(Status::Internal("not sent"));
  events::NatsLink* nats = nats_.get();
  std::string subject = events::HostRpcSubject(config_.host_id, "report");
  OffLoop(
      [nats, subject, batch, reply] {
        *reply = nats->Request(subject, events::EncodeReports(*batch), kRpcTimeout);
      },
      [this, batch, reply] {
        report_in_flight_ = false;
        auto requeue = [this](const events::VmReport& r) {
          if (!pending_reports_.count(r.vm_id)) pending_reports_[r.vm_id] = r;
        };
        Result<std::vector<events::VmReportResult>> results =
            reply->ok() ? events::DecodeReportResults(**reply) : reply->status();
        if (!results.ok()) {
          log::Warn("reporting failed; will retry", {{"error", results.status().message()}});
          for (const auto& r : *batch) requeue(r);
          retry_report_at_ = Now() + milliseconds(1000);
          return;
        }
        for (size_t i = 0; i < batch->size(); ++i) {
          const events::VmReport& sent = (*batch)[i];
          Vm& vm = GetVm(sent.vm_id);
          if (i < results->size() && !(*results)[i].status.ok()) {
            const Status& s = (*results)[i].status;
            if (s.code() == Code::kUnavailable || s.code() == Code::kConflict ||
                s.code() == Code::kInternal) {
              requeue(sent);
              retry_report_at_ = Now() + milliseconds(1000);
            } else {
              log::Warn("a report was refused", {{"vm_id", sent.vm_id}, {"error", s.message()}});
              vm.reported = sent;  // do not insist on what the control plane refuses
            }
            continue;
          }
          // Accepted, unless the log has since said otherwise (then say it again).
          const events::VmReportResult* res = i < results->size() ? &(*results)[i] : nullptr;
          if (res != nullptr && vm.logged && vm.logged_position > res->position &&
              !SameReport(*vm.logged, sent)) {
            requeue(sent);
            retry_report_at_ = Now() + milliseconds(200);
            continue;
          }
          vm.reported = sent;
        }
        FlushReports();
      });
}

void Daemon::ApplyRow(const events::DesiredVm& row) {
  Vm& vm = GetVm(row.vm_id);
  if (vm.have_desired && row.position < vm.desired.position) return;
  const bool changed = !vm.have_desired || row.position != vm.desired.position;
  vm.desired = row;
  vm.have_desired = true;
  if (changed && vm.waiting_guest) vm.next_attempt = {};  // e.g. a forced stop escalates now
  if (changed && vm.gone && row.desired != "deleted") vm.gone = false;
  vm.dirty = true;
  Dispatch(vm);
}

void Daemon::QueueFetch(const std::string& vm_id, int64_t min_position) {
  int64_t& p = pending_fetch_[vm_id];
  if (min_position > p) p = min_position;
  FlushFetches();
}

void Daemon::FlushFetches() {
  if (fetch_in_flight_ || pending_fetch_.empty() || !registered_ || stopping_) return;
  if (Now() < retry_fetch_at_) return;
  events::DesiredRequest req;
  auto asked = std::make_shared<std::map<std::string, int64_t>>();
  while (!pending_fetch_.empty() && req.vm_ids.size() < kFetchBatch) {
    auto it = pending_fetch_.begin();
    req.vm_ids.push_back(it->first);
    req.min_position = std::max(req.min_position, it->second);
    asked->insert(*it);
    pending_fetch_.erase(it);
  }
  fetch_in_flight_ = true;
  auto reply = std::make_shared<Result<std::string>>(Status::Internal("not sent"));
  events::NatsLink* nats = nats_.get();
  std::string subject = events::HostRpcSubject(config_.host_id, "desired");
  std::string body = events::EncodeDesiredRequest(req);
  OffLoop(
      [nats, subject, body, reply] { *reply = nats->Request(subject, body, kRpcTimeout); },
      [this, asked, reply] {
        fetch_in_flight_ = false;
        Result<events::DesiredReply> r =
            reply->ok() ? events::DecodeDesiredReply(**reply) : reply->status();
        if (!r.ok()) {
          log::Warn("fetching desired VMs failed; will retry", {{"error", r.status().message()}});
          for (const auto& [id, p] : *asked) QueueFetch(id, p);
          retry_fetch_at_ = Now() + milliseconds(500);
          return;
        }
        for (const auto& row : r->vms) ApplyRow(row);
        for (const auto& [id, p] : *asked) {
          if (r->position < p) {
            pending_fetch_[id] = std::max(pending_fetch_[id], p);
            retry_fetch_at_ = Now() + milliseconds(200);
          }
        }
        FlushFetches();
      });
}

void Daemon::ApplyEvent(int64_t sequence, const std::string& payload) {
  if (sequence > 0 && sequence <= position_) return;  // at or before the snapshot
  if (sequence > 0) position_ = sequence;
  auto e = events::FromJsonLine(payload);
  if (!e.ok()) {
    log::Warn("an event on the bus does not decode", {{"error", e.status().message()}});
    return;
  }
  if (e->stream_id.rfind("vm-", 0) != 0) return;
  const std::string id = e->stream_id.substr(3);
  rapidjson::Document data;
  data.Parse(e->data.c_str());
  if (!data.IsObject()) return;
  auto str = [&](const char* k) -> std::string {
    auto it = data.FindMember(k);
    return it != data.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
  };
  auto num = [&](const char* k) -> int64_t {
    auto it = data.FindMember(k);
    return it != data.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : 0;
  };
  auto it = vms_.find(id);
  Vm* vm = it == vms_.end() ? nullptr : it->second.get();
  if (e->type == "VmObserved") {
    if (vm == nullptr) return;
    events::VmReport seen{id, str("state"), num("generation"), std::nullopt};
    auto err = data.FindMember("error");
    if (err != data.MemberEnd() && err->value.IsString()) seen.error = err->value.GetString();
    vm->logged = seen;
    vm->logged_position = e->position;
    if (!vm->observation || !vm->have_desired) return;
    if (SameReport(*vm->observation, seen)) {
      vm->reported = seen;
      return;
    }
    // The log says something other than what hostd sees: the liveness monitor's "unknown", or
    // an older report of ours arriving late. Say it again (a report already queued, or the
    // one the running step ends with, goes out because `reported` no longer matches).
    vm->reported.reset();
    if (pending_reports_.count(id) || vm->busy) return;
    Report(*vm, *vm->observation);
    return;
  }
  if (vm == nullptr || !vm->have_desired || e->type == "VmScheduled") {
    QueueFetch(id, e->position);
    return;
  }
  if (e->position <= vm->desired.position) return;
  events::DesiredVm& d = vm->desired;
  auto set = [&](const char* desired, const char* action) {
    d.desired = desired;
    d.last_action = action;
    d.generation = num("generation");
  };
  if (e->type == "VmStartRequested") {
    set("running", "start");
  } else if (e->type == "VmResumeRequested") {
    set("running", "resume");
  } else if (e->type == "VmRestartRequested") {
    set("running", "restart");
  } else if (e->type == "VmStopRequested") {
    set("stopped", "stop");
    auto f = data.FindMember("force");
    d.force = f != data.MemberEnd() && f->value.IsBool() && f->value.GetBool();
  } else if (e->type == "VmPauseRequested") {
    set("paused", "pause");
  } else if (e->type == "VmDeleteRequested") {
    set("deleted", "delete");
  } else if (e->type == "VmResized") {
    d.cpu_count = num("cpu_count");
    d.memory_mb = num("memory_mb");
    d.disk_gb = num("disk_gb");
    d.generation = num("generation");
    d.last_action = "resize";
  } else if (e->type == "VmRenamed") {
    d.name = str("name");
  } else {
    return;
  }
  d.position = e->position;
  // A graceful stop waiting for its guest: a forced stop (or a start) acts at once.
  if (vm->waiting_guest) vm->next_attempt = {};
  vm->dirty = true;
  Dispatch(*vm);
}

void Daemon::StartRegister() {
  if (register_in_flight_ || stopping_) return;
  register_in_flight_ = true;
  events::HostRegistration reg;
  reg.name = config_.host_name;
  reg.address = config_.address;
  reg.cpu_count = config_.cpu_count;
  reg.memory_mb = config_.memory_mb;
  reg.disk_gb = config_.disk_gb;
  std::string kind = hv_.Kind();
  size_t space = kind.find(' ');
  reg.hypervisor_kind = kind.substr(0, space);
  reg.hypervisor_version = space == std::string::npos ? "unknown" : kind.substr(space + 1);
  reg.heartbeat_interval_ms = config_.heartbeat_interval.count();
  auto reply = std::make_shared<Result<std::string>>(Status::Internal("not sent"));
  events::NatsLink* nats = nats_.get();
  std::string subject = events::HostRpcSubject(config_.host_id, "register");
  std::string body = events::EncodeRegistration(reg);
  OffLoop(
      [nats, subject, body, reply] { *reply = nats->Request(subject, body, kRpcTimeout); },
      [this, reply] {
        register_in_flight_ = false;
        Result<int64_t> p = reply->ok() ? events::DecodeOkPosition(**reply) : reply->status();
        if (!p.ok()) {
          // Once per outage, then every 30 attempts: a control plane that is not up yet is
          // ordinary at start-up.
          if (register_failures_++ % 30 == 0) {
            log::Warn("registering the host failed; will retry", {{"error", p.status().message()}});
          }
          retry_register_at_ = Now() + milliseconds(1000);
          return;
        }
        log::Info("host registered", {{"host_id", config_.host_id}});
        register_failures_ = 0;
        registered_ = true;
        StartFullFetch(true);
      });
}

void Daemon::StartFullFetch(bool first) {
  if (full_fetch_in_flight_ || stopping_ || !registered_) return;
  full_fetch_in_flight_ = true;
  auto reply = std::make_shared<Result<std::string>>(Status::Internal("not sent"));
  events::NatsLink* nats = nats_.get();
  std::string subject = events::HostRpcSubject(config_.host_id, "desired");
  OffLoop([nats, subject, reply] { *reply = nats->Request(subject, "{}", kRpcTimeout); },
          [this, reply, first] {
            full_fetch_in_flight_ = false;
            Result<events::DesiredReply> r =
                reply->ok() ? events::DecodeDesiredReply(**reply) : reply->status();
            if (!r.ok()) {
              log::Warn("fetching the desired state failed; will retry",
                        {{"error", r.status().message()}});
              if (r.status().code() == Code::kNotFound) registered_ = false;
              return;
            }
            if (!have_snapshot_) {
              position_ = r->position;
              have_snapshot_ = true;
              log::Info("desired state fetched",
                        {{"vms", static_cast<int64_t>(r->vms.size())}, {"position", r->position}});
            }
            for (const auto& row : r->vms) ApplyRow(row);
            for (auto& [id, vm] : vms_) {
              vm->dirty = true;
              Dispatch(*vm);
            }
            for (auto& [id, vm] : vms_) {
              if (vm->alive && !vm->have_desired) {
                log::Warn("a VMM runs for a VM this host is not asked to run; leaving it alone",
                          {{"vm_id", id}});
              }
            }
            if (!follow_) StartFollow();
            (void)first;
          });
}

void Daemon::StartFollow() {
  if (follow_in_flight_ || follow_ || stopping_ || !have_snapshot_) return;
  if (Now() < retry_follow_at_) return;
  follow_in_flight_ = true;
  auto out =
      std::make_shared<Result<std::unique_ptr<events::NatsFollow>>>(Status::Internal("not run"));
  events::NatsLink* nats = nats_.get();
  int64_t after = position_;
  std::string filter = events::VmEventsSubjectForHost(config_.host_id);
  Daemon* self = this;
  OffLoop(
      [nats, filter, after, out, self] {
        *out = nats->Follow(
            events::kEventStreamName, filter, after, [self](int64_t seq, std::string payload) {
              {
                std::lock_guard<std::mutex> lock(self->inbox_mu_);
                self->inbox_.emplace_back(seq, std::move(payload));
              }
              Status woke = UvStatus(uv_async_send(&self->inbox_async_), "waking the loop");
              // Only while the loop closes: the next resync heals it.
              if (!woke.ok()) log::Warn("event not handed over", {{"error", woke.message()}});
            });
      },
      [this, out, after] {
        follow_in_flight_ = false;
        if (!out->ok()) {
          log::Warn("following the host's events failed; will retry",
                    {{"error", out->status().message()}});
          retry_follow_at_ = Now() + milliseconds(1000);
          return;
        }
        follow_ = std::move(**out);
        if (stopping_) {
          OnSignal();
          return;
        }
        log::Info("following the host's VM events", {{"after", after}});
      });
}

void Daemon::OnInbox() {
  std::deque<std::pair<int64_t, std::string>> batch;
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    batch.swap(inbox_);
  }
  for (auto& [seq, payload] : batch) ApplyEvent(seq, payload);
}

void Daemon::OnTick() {
  if (stopping_) return;
  if (!registered_) {
    if (Now() >= retry_register_at_) StartRegister();
    return;
  }
  if (!have_snapshot_) StartFullFetch(true);
  if (have_snapshot_ && !follow_) StartFollow();
  FlushReports();
  FlushFetches();
  for (auto& [id, vm] : vms_) {
    if (vm->alive && vm->adopted && vm->pidfd_poll == nullptr && kill(vm->pid, 0) != 0) {
      OnChildExit(id, -1, 0);
    }
    if (vm->dirty && !vm->busy && Now() >= vm->next_attempt) Dispatch(*vm);
  }
}

void Daemon::OnHeartbeat() {
  if (stopping_ || !registered_) return;
  events::Heartbeat hb;
  hb.sent_at = FormatRfc3339(SystemClock::Instance().Now());
  hb.interval_ms = config_.heartbeat_interval.count();
  for (auto& [id, vm] : vms_) {
    if (!vm->have_desired || vm->gone) continue;
    ++hb.vms;
    if (vm->observation && vm->observation->state == "running") ++hb.vms_running;
  }
  double loads[3] = {0, 0, 0};
  if (getloadavg(loads, 3) == 3) {
    hb.load1 = loads[0];
    hb.load5 = loads[1];
    hb.load15 = loads[2];
  }
  struct sysinfo si {};
  if (sysinfo(&si) == 0) {
    hb.memory_available_mb =
        static_cast<int64_t>(si.freeram) * static_cast<int64_t>(si.mem_unit) / (1024 * 1024);
    hb.uptime_s = si.uptime;
  }
  Status s = nats_->Publish(events::HostHeartbeatSubject(config_.host_id), EncodeHeartbeat(hb));
  if (!s.ok()) log::Debug("heartbeat not sent", {{"error", s.message()}});
}

void Daemon::OnResync() {
  if (stopping_ || !have_snapshot_) return;
  StartFullFetch(false);
}

void Daemon::OnSignal() {
  if (!stopping_) {
    stopping_ = true;
    log::Info("stopping: VMs keep running");
    // uv_timer_stop and uv_poll_stop cannot fail (they return 0 in libuv 1.x).
    (void)uv_timer_stop(&tick_);
    (void)uv_timer_stop(&heartbeat_);
    (void)uv_timer_stop(&resync_);
  }
  if (follow_) {
    // Unsubscribing waits for the delivery thread: off the loop.
    auto f = std::make_shared<std::unique_ptr<events::NatsFollow>>(std::move(follow_));
    OffLoop([f] { f->reset(); }, [] {});
    return;
  }
  if (works_ > 0) return;  // the last work's completion calls back here
  Finish();
}

void Daemon::Finish() {
  if (finished_) return;
  finished_ = true;
  nats_->Close();
  for (auto& [id, vm] : vms_) {
    // Detach from the VMMs without stopping them.
    if (vm->child != nullptr) {
      CloseAndFree(reinterpret_cast<uv_handle_t*>(vm->child));
      vm->child = nullptr;
    }
    if (vm->pidfd_poll != nullptr) {
      (void)uv_poll_stop(vm->pidfd_poll);  // cannot fail
      CloseAndFree(reinterpret_cast<uv_handle_t*>(vm->pidfd_poll));
      vm->pidfd_poll = nullptr;
    }
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&tick_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&heartbeat_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&resync_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&inbox_async_), nullptr);
  uv_stop(&loop_);
}

Status Daemon::Run() {
  if (uv_loop_init(&loop_) != 0) return Status::Internal("cannot start the libuv loop");
  loop_.data = this;
  Adopt();
  events::NatsLinkOptions no;
  no.url = config_.nats_url;
  no.name = "strato-hostd " + config_.host_id;
  no.user = config_.nats_user;
  no.password = config_.nats_password;
  no.inbox_prefix = HostInboxPrefix(config_.host_id);
  for (int attempt = 0;; ++attempt) {
    auto link = events::NatsLink::Connect(&loop_, no);
    if (link.ok()) {
      nats_ = std::move(*link);
      break;
    }
    if (attempt % 10 == 0) {
      log::Warn("cannot reach NATS yet; retrying", {{"error", link.status().message()}});
    }
    usleep(500 * 1000);
  }
  STRATO_RETURN_IF_ERROR(
      UvStatus(uv_async_init(&loop_, &inbox_async_,
                             [](uv_async_t* a) { static_cast<Daemon*>(a->loop->data)->OnInbox(); }),
               "starting the event inbox"));
  STRATO_RETURN_IF_ERROR(UvStatus(uv_timer_init(&loop_, &tick_), "starting the tick timer"));
  STRATO_RETURN_IF_ERROR(
      UvStatus(uv_timer_init(&loop_, &heartbeat_), "starting the heartbeat timer"));
  STRATO_RETURN_IF_ERROR(UvStatus(uv_timer_init(&loop_, &resync_), "starting the resync timer"));
  STRATO_RETURN_IF_ERROR(UvStatus(
      uv_timer_start(
          &tick_, [](uv_timer_t* t) { static_cast<Daemon*>(t->loop->data)->OnTick(); }, 0, 100),
      "starting the tick timer"));
  uint64_t hb = static_cast<uint64_t>(config_.heartbeat_interval.count());
  STRATO_RETURN_IF_ERROR(UvStatus(
      uv_timer_start(
          &heartbeat_, [](uv_timer_t* t) { static_cast<Daemon*>(t->loop->data)->OnHeartbeat(); },
          hb, hb),
      "starting the heartbeat timer"));
  uint64_t rs = static_cast<uint64_t>(config_.resync_interval.count());
  STRATO_RETURN_IF_ERROR(UvStatus(
      uv_timer_start(
          &resync_, [](uv_timer_t* t) { static_cast<Daemon*>(t->loop->data)->OnResync(); }, rs, rs),
      "starting the resync timer"));
  STRATO_RETURN_IF_ERROR(UvStatus(uv_signal_init(&loop_, &sigterm_), "watching SIGTERM"));
  STRATO_RETURN_IF_ERROR(UvStatus(uv_signal_init(&loop_, &sigint_), "watching SIGINT"));
  auto on_signal = [](uv_signal_t* s, int) { static_cast<Daemon*>(s->loop->data)->OnSignal(); };
  STRATO_RETURN_IF_ERROR(
      UvStatus(uv_signal_start(&sigterm_, on_signal, SIGTERM), "watching SIGTERM"));
  STRATO_RETURN_IF_ERROR(UvStatus(uv_signal_start(&sigint_, on_signal, SIGINT), "watching SIGINT"));
  log::Info("hostd started", {{"host_id", config_.host_id},
                              {"state_dir", config_.state_dir},
                              {"vmm", config_.ch_binary},
                              {"adopted", static_cast<int64_t>(vms_.size())}});
  StartRegister();
  // uv_run answers whether handles remain; the first run ends at uv_stop, the second only
  // runs the close callbacks, whatever remains.
  (void)uv_run(&loop_, UV_RUN_DEFAULT);
  (void)uv_run(&loop_, UV_RUN_NOWAIT);
  // The NATS connection is left to the process exit: destroying it after its loop has stopped
  // would wait on the adapter's handles.
  (void)nats_.release();
  return Status::Ok();
}

}  // namespace

Status RunDaemon(const HostdConfig& config, Hypervisor& hypervisor) {
  if (getenv("UV_THREADPOOL_SIZE") == nullptr) setenv("UV_THREADPOOL_SIZE", "32", 1);
  Daemon daemon(config, hypervisor);
  return daemon.Run();
}

}  // namespace strato::hostd
