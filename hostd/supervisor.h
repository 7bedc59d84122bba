// The supervisor: hostd's side of the VMs. It keeps one record per VM (its desired row, its
// state, its VMM process), spawns VMM processes (detached in their own session, so they outlive
// hostd) and adopts the ones an earlier hostd left running, watches them exit (uv_process_t for
// a child, a pidfd for an adopted one), and dispatches reconcile steps (reconcile.h) off the
// loop, at most one at a time per VM, backing off after failures and crashes. What it observes
// goes out through `report` (the control link, control_link.h); it knows nothing of the control
// plane or the bus. Loop thread only; the hypervisor is borrowed and must be thread-safe.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "events/hosts/host_protocol.h"
#include "hostd/clock.h"
#include "hostd/config.h"
#include "hostd/hypervisor/hypervisor.h"
#include "hostd/reconcile.h"
#include "hostd/vm_state.h"
#include "hostd/work_queue.h"

namespace strato::hostd {

// The VMM process of one VM: a child hostd spawned (uv_process_t) or one adopted at start (its
// pid, watched by a pidfd). pid 0: none runs.
struct VmmProcess {
  uv_process_t* child = nullptr;
  uv_poll_t* pidfd_poll = nullptr;
  int pid = 0;
  bool exit_expected = false;  // a step asked it to exit (a stop or a delete)
  SteadyTime started_at{};

  bool alive() const { return pid != 0; }
  bool adopted() const { return pid != 0 && child == nullptr; }
};

// What the supervisor keeps of one VM.
struct VmRecord {
  std::string id;
  VmPaths paths;
  VmState state = VmState::kUnknown;  // vm_state.h; moved only by MoveVmState
  events::DesiredVm desired;          // meaningful once state is not kUnknown
  bool dirty = false;                 // a step is owed (something changed since the last one)
  VmmProcess vmm;
  int64_t step_position = 0;  // the desired position the running (or last) step started from
  int failures = 0;           // failed steps in a row: back-off 0.5 s doubling to 30 s
  int crashes = 0;  // VMM exits not asked for: back-off 1 s doubling to 30 s (reset after 60 s up)
  SteadyTime next_attempt{};                    // no step before (a back-off, a guest's poll)
  std::optional<events::VmReport> observation;  // what hostd last saw

  bool has_desired() const { return state != VmState::kUnknown; }
};

class Supervisor {
 public:
  using ReportFn = std::function<void(events::VmReport)>;

  Supervisor(const HostdConfig& config, Hypervisor& hv, uv_loop_t* loop, WorkQueue& work,
             const SteadyClock& steady, const Clock& wall, ReportFn report);
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // At start, before the loop runs: VMMs an earlier hostd left are adopted or killed (below).
  void Adopt();

  // A VM's desired row (fetched, or changed by an event): kept unless older than the one held;
  // a change dispatches a step at once.
  void ApplyRow(const events::DesiredVm& row);
  // After a full fetch: every VM looks again (and a VMM no desired row asks for is logged).
  void Resynced();
  // Every 100 ms: an adopted VMM without a pidfd is checked by pid; due steps are dispatched.
  void OnTick();

  // Stopping: no step is started any more; the VMMs keep running.
  void Stop() { stopping_ = true; }
  // The end: closes the process handles without stopping the VMMs.
  void Detach();

  // nullptr when the VM has no record (neither adopted nor in a desired row).
  const VmRecord* Find(const std::string& vm_id) const;
  size_t size() const { return vms_.size(); }
  // For the heartbeat: VMs with a desired row that are not deleted and cleaned up, and those
  // last seen running.
  struct Counts {
    int64_t vms = 0;
    int64_t running = 0;
  };
  Counts Count() const;

 private:
  struct ExitContext;

  VmRecord& GetVm(const std::string& id);
  void Move(VmRecord& vm, VmState to) { MoveVmState(vm.state, to, vm.id); }
  void Report(events::VmReport report) { report_(std::move(report)); }

  // VMM processes.
  void Watch(VmRecord& vm);
  void OnPidfd(const std::string& vm_id);
  void OnChildExit(const std::string& vm_id, int64_t status, int signal);
  void OnExpectedExit(VmRecord& vm, bool asked, int64_t status, int signal,
                      SteadyTime::duration ran);
  void OnCrash(VmRecord& vm, bool adopted, int pid, int64_t status, int signal,
               SteadyTime::duration ran);
  void ProcessGone(VmRecord& vm);
  Status Spawn(VmRecord& vm);
  void WritePidFile(const VmRecord& vm);

  // Reconcile steps.
  void Dispatch(VmRecord& vm);
  void OnStepDone(const std::string& vm_id, const StepResult& r);
  void AwaitExit(VmRecord& vm, const StepResult& r);
  void AwaitGuest(VmRecord& vm, const StepResult& r);
  void StepDone(VmRecord& vm, const StepResult& r);

  HostdConfig config_;
  Hypervisor& hv_;
  uv_loop_t* loop_;
  WorkQueue& work_;
  const SteadyClock& steady_;
  const Clock& wall_;
  ReportFn report_;
  std::map<std::string, std::unique_ptr<VmRecord>> vms_;
  bool stopping_ = false;
  int steps_ = 0;     // reconcile steps under way
  int prepares_ = 0;  // of which preparing a VMM for a stopped VM
};

}  // namespace strato::hostd
