// The VM aggregate: a virtual machine in an organization. It keeps two things apart: the
// desired state (what people asked for: running, stopped, paused, deleted) and the observed
// state (what its host last reported). Every change hosts must act on (power state, resize)
// increases `generation`; hosts report which generation their observation reflects. Decide and
// Evolve are pure functions over plain values (no I/O, thread-safe). Stream: vm-<vm_id>.
//
// Names are unique within an organization by reservation: creating (or renaming to) a name also
// appends VmNameReserved to VmNameStreamId(org_id, name) in the same append, expecting the
// version the reservation stream had when it was read; deleting (or renaming away) appends
// VmNameReleased there, so the name can be used again. VmNameReservation folds that stream.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/domain/domain_event.h"
#include "core/status.h"

namespace strato::domain {

enum class VmDesiredState { kRunning, kStopped, kPaused, kDeleted };
enum class VmObservedState {
  kPending,    // not placed on a host yet
  kScheduled,  // placed; the host has not reported yet
  kStarting,
  kRunning,
  kStopping,
  kStopped,
  kPaused,
  kCrashed,
  kFailed,
  kUnknown,  // e.g. its host is unreachable
};

std::string_view VmDesiredStateName(VmDesiredState s);  // "running", ...
Result<VmDesiredState> ParseVmDesiredState(std::string_view text);
std::string_view VmObservedStateName(VmObservedState s);  // "pending", ...
Result<VmObservedState> ParseVmObservedState(std::string_view text);

struct VmState {
  int64_t version = 0;  // events folded
  bool exists = false;
  std::string id;
  std::string org_id;
  std::string owner_id;
  std::string name;
  std::string description;
  std::string image;
  Resources resources;
  VmDesiredState desired = VmDesiredState::kStopped;
  int64_t generation = 0;  // 1 at creation; +1 per desired-state change
  bool last_stop_forced = false;
  std::string host_id;            // empty until scheduled
  std::string placement_failure;  // why the scheduler could not place it; empty once placed
  VmObservedState observed = VmObservedState::kPending;
  int64_t observed_generation = 0;  // the generation the latest report reflects
  std::optional<std::string> observed_error;
};

struct CreateVm {
  std::string vm_id;
  std::string org_id;
  std::string owner_id;     // empty: the actor
  std::string name;         // a DNS label: 1-63 of a-z 0-9 '-', not starting or ending with '-'
  std::string description;  // 0-1000 characters
  std::string image;        // 1-200 printable ASCII, no spaces
  int64_t cpu_count = 1;    // 1-64
  int64_t memory_mb = 512;  // 128-262144
  int64_t disk_gb = 10;     // 1-16384
  bool start = true;        // desired state after creation: running, else stopped
};
struct StartVm {};
// Stopping again with force while a graceful stop has not finished escalates it.
struct StopVm {
  bool force = false;
};
struct RestartVm {};
struct PauseVm {};
struct ResumeVm {};
struct ResizeVm {  // only while the desired state is stopped
  int64_t cpu_count = 0;
  int64_t memory_mb = 0;
  int64_t disk_gb = 0;
};
struct RenameVm {
  std::string name;
};
struct DeleteVm {};
// From the scheduler: the VM is placed on this host.
struct ScheduleVm {
  std::string host_id;
};
// From the scheduler: no host has room; the VM stays pending with this reason.
struct ReportVmPlacementFailure {
  std::string reason;
};
// From a host (or the liveness checker, with an empty host_id): what it observes.
struct ReportVmObserved {
  std::string host_id;
  VmObservedState state = VmObservedState::kUnknown;
  int64_t generation = 0;  // the desired generation the observation reflects
  std::optional<std::string> error;
};

using VmCommand =
    std::variant<CreateVm, StartVm, StopVm, RestartVm, PauseVm, ResumeVm, ResizeVm, RenameVm,
                 DeleteVm, ScheduleVm, ReportVmPlacementFailure, ReportVmObserved>;

Result<Events> Decide(const VmState& state, const VmCommand& command, const DecideContext& ctx);
Status Evolve(VmState& state, const DomainEvent& event);

Status ValidateVmName(std::string_view name);
Status ValidateVmResources(const Resources& resources);

std::string VmStreamId(std::string_view vm_id);  // "vm-<vm_id>"
// "vmname-<org_id>-<name>": the reservation stream of a VM name within an organization.
std::string VmNameStreamId(std::string_view org_id, std::string_view name);

// The reservation stream of one VM name, folded.
struct VmNameReservation {
  int64_t version = 0;  // events folded: the expected version for the next append
  bool held = false;
  std::string vm_id;  // the holder while held
};
Status Evolve(VmNameReservation& state, const DomainEvent& event);
// The event reserving the name for vm_id, or AlreadyExists when another VM holds it
// ("a VM named web-1 already exists in this organization"). No events when vm_id holds it.
Result<Events> ReserveVmName(const VmNameReservation& state, std::string_view vm_id,
                             std::string_view name);
// {"vm_id": ...} events, for the pipeline to append to VmNameStreamId.
DomainEvent VmNameReservedEvent(std::string_view vm_id);
DomainEvent VmNameReleasedEvent(std::string_view vm_id);

inline constexpr int64_t kMinVmCpus = 1, kMaxVmCpus = 64;
inline constexpr int64_t kMinVmMemoryMb = 128, kMaxVmMemoryMb = 262144;
inline constexpr int64_t kMinVmDiskGb = 1, kMaxVmDiskGb = 16384;
inline constexpr size_t kMaxVmDescriptionChars = 1000;
inline constexpr size_t kMaxVmErrorBytes = 4096;

}  // namespace strato::domain
