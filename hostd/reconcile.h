// One reconcile step for one VM: compare the desired state with what the hypervisor reports
// and act (create + boot, pause, resume, reboot, shutdown, delete and clean up), then say what
// is observed. Converge blocks on the hypervisor (it runs on a libuv worker thread, never on
// the loop); hostd serializes the steps of one VM and runs different VMs at once. The files it
// touches are the VM's own (VmPaths), so steps on different VMs never share state.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "events/hosts/host_protocol.h"
#include "hostd/hypervisor/hypervisor.h"

namespace strato::hostd {

// Where one VM's files live: <state>/vms/<vm>.sock and the folder <state>/vms/<vm>/.
struct VmPaths {
  std::string socket;
  std::string dir;
  std::string disk;        // <dir>/root.img (sparse, disk_gb)
  std::string seed;        // <dir>/seed.iso (the NoCloud seed, when the host makes seeds)
  std::string serial;      // <dir>/serial.log
  std::string vmm_log;     // <dir>/vmm.log (the VMM's stdout and stderr)
  std::string pid_file;    // <dir>/vmm.pid
  std::string state_file;  // <dir>/state (the generation last applied)
  std::string stop_file;   // <dir>/stop (a graceful stop under way: generation and deadline)
  std::string qemu_pid;    // <dir>/qemu.pid (QEMU's own -pidfile)
};
VmPaths PathsFor(const std::string& vms_dir, const std::string& vm_id);

// What the guest boots when the VM has no image yet: one payload for every VM of the host.
struct GuestPayload {
  std::string kernel_path;
  std::string initrd_path;  // empty: none
  std::string cmdline;
  bool seed = false;  // attach the VM's NoCloud seed (paths.seed)
};

// The VmSpec of a VM: its desired CPUs and memory, the payload, its disk, seed and serial log.
VmSpec SpecFor(const events::DesiredVm& desired, const VmPaths& paths, const GuestPayload& payload);

// The files a VMM opens at its start or at vm.create: the VM's folder, its disk (sparse,
// grown to disk_gb), its serial log (mode 0600) and, with payload.seed, its NoCloud seed
// (meta-data: instance-id = the VM's id, local-hostname = its name; made again when these
// change). Blocking (the seed runs genisoimage).
Status PrepareVmFiles(const events::DesiredVm& desired, const VmPaths& paths,
                      const GuestPayload& payload);

// What hostd knows when it starts a step.
struct StepInput {
  events::DesiredVm desired;
  bool process_alive = false;  // a VMM process for this VM runs (child or adopted)
  bool spawned = false;        // hostd spawned it just before this step: wait for its API
  VmPaths paths;
  GuestPayload payload;
  std::chrono::milliseconds socket_wait{5000};  // after a spawn, until the API answers
  // A graceful stop (desired stopped, not forced) presses the guest's power button and gives
  // the guest this long to power off before stopping it by force. 0: every stop is forced.
  std::chrono::milliseconds stop_timeout{30000};
  // The wall-clock time of the step (the epoch: the system clock's now). Wall clock because a
  // graceful stop's deadline is kept in the VM's folder across hostd restarts.
  std::chrono::system_clock::time_point now{};
};

enum class StepNext {
  kDone,        // converged (or failed; see error)
  kAwaitExit,   // asked the VMM to exit; the process exit finishes the step
  kAwaitGuest,  // pressed the power button; waiting (until stop_deadline) for the guest to
                // power off: the process exit, or another step (polling, or after the
                // deadline, which then stops it by force) finishes it
};

struct StepResult {
  std::string observed;  // an observed state name: running, paused, stopped, stopping, failed
  int64_t generation = 0;
  std::optional<std::string> error;  // the hypervisor's error text verbatim
  StepNext next = StepNext::kDone;
  bool retry = false;    // failed: try again after a back-off
  bool cleaned = false;  // deleted: the VM's files are gone
  // kAwaitGuest: when the graceful stop gives up and the next step forces it.
  std::chrono::system_clock::time_point stop_deadline{};
  bool pressed_power_button = false;  // this step pressed it (not an earlier one)
  // kAwaitExit: the VMM (one with its machine on its command line) holds another configuration
  // than desired and was asked to exit, to be started again; nothing to report.
  bool respawn = false;
  bool forced_after_timeout = false;  // this step forced a graceful stop whose time ran out
};

// Desired running or paused (a VMM runs): a VM not created in the VMM (or created with other
// CPUs or memory) is created, then booted, resumed, rebooted or paused as asked.
// Desired stopped with a VMM alive and no guest running in it (vm.info: no VM, Created or
// Shutdown): the VMM stays, prepared: its VM is created (again, when its CPUs or memory differ)
// and not booted, so a start only has to boot it. With a guest running:
//  - forced (`force`, or stop_timeout 0): vm.shutdown then vmm.shutdown;
//  - graceful: if this generation's button was not pressed yet, resume a paused guest, press
//    the power button, record the deadline (now + stop_timeout) in paths.stop_file and return
//    kAwaitGuest; if it was pressed and the deadline has not passed, kAwaitGuest again (pressed
//    again when the hypervisor asks for it: hv.PowerButtonRepeat() after the last press, for
//    QEMU, which loses a press during boot); once the deadline has passed, the forced path. A
//    press that the VMM refuses falls back to the forced path at once.
// A VMM whose machine is on its command line (QEMU) and holds other CPUs or memory than
// desired while no guest runs is asked to exit (kAwaitExit with respawn) and started again.
// Desired deleted with a VMM alive: the forced path. The stop file is removed once the VMM is
// gone or prepared again.
StepResult Converge(Hypervisor& hv, const StepInput& in);

// The observed state word for a VMM's state ("Running" -> "running", "Created" -> "stopped").
std::string ObservedFromVmm(const std::string& vmm_state);

// The generation last applied to this VM (0 when none is recorded), kept across hostd restarts
// so a restart is not applied twice.
int64_t ReadAppliedGeneration(const VmPaths& paths);
void WriteAppliedGeneration(const VmPaths& paths, int64_t generation);

// Removes the VM's socket and folder.
void RemoveVmFiles(const VmPaths& paths);

}  // namespace strato::hostd
