#include "hostd/reconcile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "core/log.h"
#include "hostd/config.h"
#include "hostd/hypervisor/seed.h"

namespace strato::hostd {
namespace {

// Waits until the VMM's API answers (right after a spawn it may not listen yet).
Status WaitForApi(Hypervisor& hv, const std::string& socket, std::chrono::milliseconds wait) {
  auto until = std::chrono::steady_clock::now() + wait;
  Status s;
  for (;;) {
    s = hv.Ping(socket);
    if (s.ok() || s.code() != Code::kUnavailable) return s;
    if (std::chrono::steady_clock::now() >= until) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// Creates `path` if missing and makes it the owner's only (mode 0600).
Status MakePrivateFile(const std::string& path) {
  int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Internal("cannot create " + path + ": " + std::strerror(errno));
  int rc = fchmod(fd, 0600);
  close(fd);
  if (rc != 0) return Status::Internal("cannot make " + path + " private (mode 0600)");
  return Status::Ok();
}

Status EnsureDisk(const VmPaths& p, int64_t disk_gb) {
  STRATO_RETURN_IF_ERROR(MakePrivateDirs(p.dir));
  // Sparse; a resize grows it (disks never shrink: the domain refuses that).
  const off_t want = static_cast<off_t>(disk_gb) * 1024 * 1024 * 1024;
  struct stat st {};
  if (stat(p.disk.c_str(), &st) == 0 && st.st_size >= want) return Status::Ok();
  int fd = open(p.disk.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Internal("cannot create the disk " + p.disk);
  int rc = ftruncate(fd, want);
  close(fd);
  if (rc != 0) return Status::Internal("cannot size the disk " + p.disk);
  return Status::Ok();
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The seed is made again only when its meta-data changes (kept beside it).
Status EnsureSeed(const events::DesiredVm& d, const VmPaths& p) {
  const std::string meta = NoCloudMetaData(d.vm_id, d.name.empty() ? d.vm_id : d.name);
  const std::string kept = p.seed + ".meta-data";
  if (access(p.seed.c_str(), R_OK) == 0 && ReadText(kept) == meta) return Status::Ok();
  NoCloudSeed seed;
  seed.meta_data = meta;
  seed.user_data = "#cloud-config\n";
  STRATO_RETURN_IF_ERROR(MakeNoCloudSeed(p.seed, seed));
  std::ofstream out(kept, std::ios::trunc | std::ios::binary);
  out << meta;
  return Status::Ok();
}

// The VMM holds a machine with other CPUs or memory than desired, and it cannot change it
// without a new process (QEMU).
bool StaleMachine(const Hypervisor& hv, const events::DesiredVm& d, const VmInfo& info) {
  return hv.MachineOnCommandLine() && info.state != "NotCreated" &&
         (info.cpus != d.cpu_count || info.memory_bytes != d.memory_mb * 1024 * 1024);
}

// A VM created in the VMM with the desired CPUs and memory, not booted: created when the VMM
// has none, created again when the VMM holds another configuration (a resize while stopped). The
// disk grows to the desired size (the VMM reads its size at boot). `state` is the VMM's state
// from vm.info (NotCreated, Created or Shutdown) with the CPUs and memory it reported.
Status EnsureCreated(Hypervisor& hv, const StepInput& in, const VmInfo& info) {
  const events::DesiredVm& d = in.desired;
  STRATO_RETURN_IF_ERROR(PrepareVmFiles(d, in.paths, in.payload));
  if (info.state != "NotCreated") {
    if (info.cpus == d.cpu_count && info.memory_bytes == d.memory_mb * 1024 * 1024) {
      return Status::Ok();
    }
    Status s = hv.Delete(in.paths.socket);
    if (!s.ok()) return s;
  }
  return hv.Create(in.paths.socket, SpecFor(d, in.paths, in.payload));
}

// No guest runs in the VMM in this state: it has no VM, or one created and not booted (again).
bool GuestOff(const std::string& vmm_state) {
  return vmm_state == "NotCreated" || vmm_state == "Created" || vmm_state == "Shutdown";
}

StepResult Failed(const StepInput& in, std::string observed, const Status& s) {
  StepResult r;
  r.observed = std::move(observed);
  r.generation = in.desired.generation;
  r.error = s.message();
  r.retry = true;
  return r;
}

using WallTime = std::chrono::system_clock::time_point;

// <dir>/stop: "<generation> <deadline> <last press>" (times in ms since the epoch), written
// when the power button is pressed for a stop of that generation. (A file without the last
// press, from an older hostd, reads as pressed at the epoch.)
struct StopMark {
  int64_t generation = 0;
  WallTime deadline{};
  WallTime pressed{};
};

int64_t EpochMs(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::optional<StopMark> ReadStopMark(const VmPaths& p) {
  std::ifstream in(p.stop_file);
  int64_t g = 0, ms = 0, pressed = 0;
  if (!(in >> g >> ms)) return std::nullopt;
  if (!(in >> pressed)) pressed = 0;
  return StopMark{g, WallTime(std::chrono::milliseconds(ms)),
                  WallTime(std::chrono::milliseconds(pressed))};
}

void WriteStopMark(const VmPaths& p, const StopMark& m) {
  (void)MakePrivateDirs(p.dir);  // best effort, as the write itself
  const std::string tmp = p.stop_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << m.generation << " " << EpochMs(m.deadline) << " " << EpochMs(m.pressed) << "\n";
  }
  std::rename(tmp.c_str(), p.stop_file.c_str());
}

void RemoveStopMark(const VmPaths& p) {
  std::error_code ec;
  std::filesystem::remove(p.stop_file, ec);
}

// The forced path: the guest is stopped at once, then the VMM exits (deleting its VM). Errors
// of the first (no VM created, already shut down) do not matter.
StepResult ForceStop(Hypervisor& hv, const StepInput& in, StepResult r) {
  (void)hv.Shutdown(in.paths.socket);
  Status s = hv.ShutdownVmm(in.paths.socket);
  if (!s.ok() && s.code() != Code::kUnavailable) return Failed(in, "stopping", s);
  r.observed = "stopping";
  r.next = StepNext::kAwaitExit;
  return r;
}

// `info` is the VMM's vm.info, taken by the caller; a guest that is off was handled there.
StepResult GracefulStop(Hypervisor& hv, const StepInput& in, const Result<VmInfo>& info,
                        StepResult r) {
  const events::DesiredVm& d = in.desired;
  const WallTime now = in.now == WallTime{} ? std::chrono::system_clock::now() : in.now;
  if (!info.ok()) {
    // A VMM that is exiting (the guest powered off) no longer answers: its exit finishes the
    // step. Anything else: the forced path.
    if (info.status().code() == Code::kUnavailable) {
      r.observed = "stopping";
      r.next = StepNext::kAwaitExit;
      return r;
    }
    return ForceStop(hv, in, std::move(r));
  }
  const std::string& st = info->state;
  std::optional<StopMark> mark = ReadStopMark(in.paths);
  if (mark && mark->generation == d.generation) {
    if (now >= mark->deadline) {
      log::Warn(
          "the guest did not power off in time; stopping it by force",
          {{"vm_id", d.vm_id}, {"stop_timeout_ms", static_cast<int64_t>(in.stop_timeout.count())}});
      r.forced_after_timeout = true;
      return ForceStop(hv, in, std::move(r));
    }
    const auto repeat = hv.PowerButtonRepeat();
    if (repeat > std::chrono::milliseconds(0) && st == "Running" && now - mark->pressed >= repeat) {
      // QEMU loses a press that comes while the guest boots: press again. A refusal changes
      // nothing (the guest may be powering off); the deadline still holds.
      Status again = hv.PowerButton(in.paths.socket);
      if (again.ok()) {
        mark->pressed = now;
        WriteStopMark(in.paths, *mark);
      }
    }
    r.observed = "stopping";
    r.next = StepNext::kAwaitGuest;
    r.stop_deadline = mark->deadline;
    return r;
  }
  // A paused guest cannot act on the button: it runs again to shut down.
  if (st != "Running") {
    Status s = hv.Resume(in.paths.socket);
    if (!s.ok()) return ForceStop(hv, in, std::move(r));
  }
  Status pressed = hv.PowerButton(in.paths.socket);
  if (!pressed.ok()) {
    if (pressed.code() == Code::kUnavailable) {
      r.observed = "stopping";
      r.next = StepNext::kAwaitExit;
      return r;
    }
    log::Warn("the power button could not be pressed; stopping the guest by force",
              {{"vm_id", d.vm_id}, {"error", pressed.message()}});
    return ForceStop(hv, in, std::move(r));
  }
  StopMark m{d.generation, now + in.stop_timeout, now};
  WriteStopMark(in.paths, m);
  log::Info(
      "pressed the guest's power button; waiting for it to power off",
      {{"vm_id", d.vm_id}, {"stop_timeout_ms", static_cast<int64_t>(in.stop_timeout.count())}});
  r.observed = "stopping";
  r.next = StepNext::kAwaitGuest;
  r.stop_deadline = m.deadline;
  r.pressed_power_button = true;
  return r;
}

}  // namespace

VmPaths PathsFor(const std::string& vms_dir, const std::string& vm_id) {
  VmPaths p;
  p.socket = vms_dir + "/" + vm_id + ".sock";
  p.dir = vms_dir + "/" + vm_id;
  p.disk = p.dir + "/root.img";
  p.serial = p.dir + "/serial.log";
  p.vmm_log = p.dir + "/vmm.log";
  p.pid_file = p.dir + "/vmm.pid";
  p.state_file = p.dir + "/state";
  p.stop_file = p.dir + "/stop";
  p.seed = p.dir + "/seed.iso";
  p.qemu_pid = p.dir + "/qemu.pid";
  return p;
}

VmSpec SpecFor(const events::DesiredVm& d, const VmPaths& paths, const GuestPayload& payload) {
  VmSpec spec;
  spec.vm_id = d.vm_id;
  spec.cpus = static_cast<int>(d.cpu_count);
  spec.memory_mb = d.memory_mb;
  spec.kernel_path = payload.kernel_path;
  spec.initrd_path = payload.initrd_path;
  spec.cmdline = payload.cmdline;
  spec.disk_paths = {paths.disk};
  if (payload.seed) spec.seed_path = paths.seed;
  spec.serial_path = paths.serial;
  spec.pid_path = paths.qemu_pid;
  return spec;
}

Status PrepareVmFiles(const events::DesiredVm& d, const VmPaths& paths,
                      const GuestPayload& payload) {
  STRATO_RETURN_IF_ERROR(EnsureDisk(paths, d.disk_gb));
  // The VMM appends the guest's console to it: create it as the owner's only.
  STRATO_RETURN_IF_ERROR(MakePrivateFile(paths.serial));
  if (payload.seed) STRATO_RETURN_IF_ERROR(EnsureSeed(d, paths));
  return Status::Ok();
}

std::string ObservedFromVmm(const std::string& s) {
  if (s == "Running") return "running";
  if (s == "Paused" || s == "BreakPoint") return "paused";
  return "stopped";  // Created, Shutdown, NotCreated
}

int64_t ReadAppliedGeneration(const VmPaths& p) {
  std::ifstream in(p.state_file);
  int64_t g = 0;
  if (in >> g) return g;
  return 0;
}

void WriteAppliedGeneration(const VmPaths& p, int64_t generation) {
  (void)MakePrivateDirs(p.dir);  // best effort, as the write itself
  const std::string tmp = p.state_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << generation << "\n";
  }
  std::rename(tmp.c_str(), p.state_file.c_str());
}

void RemoveVmFiles(const VmPaths& p) {
  std::error_code ec;
  std::filesystem::remove(p.socket, ec);
  std::filesystem::remove_all(p.dir, ec);
}

StepResult Converge(Hypervisor& hv, const StepInput& in) {
  const events::DesiredVm& d = in.desired;
  StepResult r;
  r.generation = d.generation;
  const bool keep_off = d.desired == "stopped" || d.desired == "deleted";
  if (keep_off) {
    if (in.process_alive) {
      if (in.spawned) {
        Status up = WaitForApi(hv, in.paths.socket, in.socket_wait);
        if (!up.ok()) return Failed(in, "stopped", up);
      }
      // A delete destroys the disk: nothing for the guest to save, so it is always forced.
      if (d.desired == "deleted") return ForceStop(hv, in, std::move(r));
      Result<VmInfo> info = hv.Info(in.paths.socket);
      if (info.ok() && GuestOff(info->state)) {
        // No guest runs: the VMM stays, prepared (its VM created, ready to boot at a start).
        RemoveStopMark(in.paths);
        if (StaleMachine(hv, d, *info)) {
          // Its machine is fixed on its command line: a new process is started instead.
          r.observed = "stopped";
          r.next = StepNext::kAwaitExit;
          r.respawn = true;
          return r;
        }
        Status s = EnsureCreated(hv, in, *info);
        if (!s.ok()) return Failed(in, "stopped", s);
        r.observed = "stopped";
        return r;
      }
      const bool graceful = !d.force && in.stop_timeout > std::chrono::milliseconds(0);
      if (graceful) return GracefulStop(hv, in, info, std::move(r));
      return ForceStop(hv, in, std::move(r));
    }
    RemoveStopMark(in.paths);
    r.observed = "stopped";
    if (d.desired == "deleted") {
      RemoveVmFiles(in.paths);
      r.cleaned = true;
    } else {
      std::error_code ec;
      std::filesystem::remove(in.paths.socket, ec);
    }
    return r;
  }

  // running or paused: a VMM process runs (hostd spawned it before this step).
  if (!in.process_alive) {
    return Failed(in, "stopped", Status::Unavailable("the VMM process is not running"));
  }
  // A VMM spawned for this step may not listen yet; one that ran before (prepared while the
  // VM was stopped, or adopted) is asked at once.
  if (in.spawned) {
    Status up = WaitForApi(hv, in.paths.socket, in.socket_wait);
    if (!up.ok()) return Failed(in, "failed", up);
  }
  auto info = hv.Info(in.paths.socket);
  if (!info.ok()) return Failed(in, "failed", info.status());
  std::string st = info->state;
  bool booted = false;
  if (GuestOff(st) && StaleMachine(hv, d, *info)) {
    // A prepared VMM with an earlier configuration (resized while stopped): a new process.
    r.observed = "stopped";
    r.next = StepNext::kAwaitExit;
    r.respawn = true;
    return r;
  }
  if (GuestOff(st)) {
    Status s = EnsureCreated(hv, in, *info);
    if (!s.ok()) return Failed(in, "failed", s);
    st = "Created";
  }
  if (st == "Created") {
    Status s = hv.Boot(in.paths.socket);
    if (!s.ok()) return Failed(in, ObservedFromVmm(st), s);
    st = "Running";
    booted = true;
  }
  const int64_t applied = ReadAppliedGeneration(in.paths);
  RemoveStopMark(in.paths);  // a stop that was overtaken by a start
  if (d.desired == "running") {
    if (st == "Paused" || st == "BreakPoint") {
      Status s = hv.Resume(in.paths.socket);
      if (!s.ok()) return Failed(in, "paused", s);
      st = "Running";
    }
    if (st == "Running" && !booted && d.last_action == "restart" && applied < d.generation) {
      Status s = hv.Reboot(in.paths.socket);
      if (!s.ok()) return Failed(in, "running", s);
    }
  } else if (d.desired == "paused" && st == "Running") {
    Status s = hv.Pause(in.paths.socket);
    if (!s.ok()) return Failed(in, "running", s);
    st = "Paused";
  }
  if (applied != d.generation) WriteAppliedGeneration(in.paths, d.generation);
  auto after = hv.Info(in.paths.socket);
  r.observed = after.ok() ? ObservedFromVmm(after->state) : ObservedFromVmm(st);
  const std::string want = d.desired == "paused" ? "paused" : "running";
  if (r.observed != want) {
    r.retry = true;
    r.error = "the VMM reports " + (after.ok() ? after->state : st) + " after the actions";
  }
  return r;
}

}  // namespace strato::hostd
