#include "core/domain/vm.h"

#include <type_traits>

namespace strato::domain {
namespace {

constexpr std::string_view kAggregate = "the VM aggregate";

std::string Named(const VmState& s) {
  return "VM " + s.name;
}

// "VM web-1 is stopped; start it before pausing it"
Status Illegal(const VmState& s, std::string_view advice) {
  return Status::FailedPrecondition(Named(s) + " is " + std::string(VmDesiredStateName(s.desired)) +
                                    "; " + std::string(advice));
}

// Every command but delete is refused once the VM is deleted: "...; it cannot be started".
Status RefuseIfDeleted(const VmState& s, std::string_view participle) {
  if (s.desired != VmDesiredState::kDeleted) return Status::Ok();
  return Illegal(s, "it cannot be " + std::string(participle));
}

DomainEvent DesiredChange(const VmState& s, const char* type) {
  return JsonObjectBuilder().Int("generation", s.generation + 1).Event(type);
}

Status CheckDescription(std::string_view d) {
  std::optional<size_t> n = Utf8Length(d);
  if (!n) return Status::InvalidArgument("a VM description is not valid UTF-8");
  if (*n > kMaxVmDescriptionChars) {
    return Status::InvalidArgument("a VM description must be at most " +
                                   std::to_string(kMaxVmDescriptionChars) +
                                   " characters long; got " + std::to_string(*n));
  }
  for (char c : d) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\n' && c != '\t') || u == 0x7F) {
      return Status::InvalidArgument(
          "a VM description must not contain control characters other than newlines and tabs");
    }
  }
  return Status::Ok();
}

Result<Events> Create(const VmState& s, const CreateVm& c, const DecideContext& ctx) {
  if (s.exists) return Status::AlreadyExists(Named(s) + " already exists");
  if (c.vm_id.empty()) return Status::InvalidArgument("a VM id is required");
  if (c.org_id.empty()) return Status::InvalidArgument("a VM needs an organization");
  const std::string& owner = c.owner_id.empty() ? ctx.actor_id : c.owner_id;
  if (owner.empty()) return Status::InvalidArgument("a VM needs an owner");
  STRATO_RETURN_IF_ERROR(ValidateVmName(c.name));
  STRATO_RETURN_IF_ERROR(CheckDescription(c.description));
  STRATO_RETURN_IF_ERROR(CheckToken("a VM image", c.image, 200));
  STRATO_RETURN_IF_ERROR(ValidateVmResources({c.cpu_count, c.memory_mb, c.disk_gb}));
  VmDesiredState desired = c.start ? VmDesiredState::kRunning : VmDesiredState::kStopped;
  return Events{JsonObjectBuilder()
                    .Str("vm_id", c.vm_id)
                    .Str("org_id", c.org_id)
                    .Str("owner_id", owner)
                    .Str("name", c.name)
                    .Str("description", c.description)
                    .Str("image", c.image)
                    .Int("cpu_count", c.cpu_count)
                    .Int("memory_mb", c.memory_mb)
                    .Int("disk_gb", c.disk_gb)
                    .Str("desired", VmDesiredStateName(desired))
                    .Int("generation", 1)
                    .Event("VmCreated")};
}

Result<Events> Start(const VmState& s) {
  STRATO_RETURN_IF_ERROR(RefuseIfDeleted(s, "started"));
  switch (s.desired) {
    case VmDesiredState::kRunning:
      return Events{};
    case VmDesiredState::kPaused:
      return Illegal(s, "resume it instead of starting it");
    default:
      return Events{DesiredChange(s, "VmStartRequested")};
  }
}

Result<Events> Stop(const VmState& s, const StopVm& c) {
  STRATO_RETURN_IF_ERROR(RefuseIfDeleted(s, "stopped"));
  if (s.desired == VmDesiredState::kStopped) {
    // A forced stop may overtake a graceful one the host has not finished.
    bool finished =
        s.observed == VmObservedState::kStopped && s.observed_generation == s.generation;
    if (!c.force || s.last_stop_forced || finished) return Events{};
  }
  return Events{JsonObjectBuilder()
                    .Bool("force", c.force)
                    .Int("generation", s.generation + 1)
                    .Event("VmStopRequested")};
}

Result<Events> Restart(const VmState& s) {
  STRATO_RETURN_IF_ERROR(RefuseIfDeleted(s, "restarted"));
  switch (s.desired) {
    case VmDesiredState::kStopped:
      return Illegal(s, "start it instead of restarting it");
    case VmDesiredState::kPaused:
      return Illegal(s, "resume it before restarting it");
    default:
      return Events{DesiredChange(s, "VmRestartRequested")};
  }
}

Result<Events> Pause(const VmState& s) {
  STRATO_RETURN_IF_ERROR(RefuseIfDeleted(s, "paused"));
  switch (s.desired) {
    case VmDesiredState::kPaused:
      return Events{};
    case VmDesiredState::kStopped:
      return Illegal(s, "start it before pausing it");
    default:
      return Events{DesiredChange(s, "VmPauseRequested")};
  }
}

Result<Events> Resume(const VmState& s) {
  STRATO_RETURN_IF_ERROR(RefuseIfDeleted(s, "resumed"));
  switch (s.desired) {
    case VmDesiredState::kRunning:
      return Events{};
    case VmDesiredState::kStopped:
      return Illegal(s, "start it instead of resuming it");
    default:
      return Events{DesiredChange(s, "VmResumeRequested")};
  }
}

Result<Events> Resize(const VmState& s, const ResizeVm& c) {
  Resources r{c.cpu_count, c.memory_mb, c.disk_gb};
  STRATO_RETURN_IF_ERROR(ValidateVmResources(r));
  STRATO_RETURN_IF_ERROR(RefuseIfDeleted(s, "resized"));
  if (s.desired != VmDesiredState::kStopped) return Illegal(s, "stop it before resizing it");
  if (r.disk_gb < s.resources.disk_gb) {
    return Status::InvalidArgument(Named(s) + " has a " + std::to_string(s.resources.disk_gb) +
                                   " GiB disk; a disk can grow but not shrink");
  }
  if (r == s.resources) return Events{};
  return Events{JsonObjectBuilder()
                    .Int("cpu_count", r.cpu_count)
                    .Int("memory_mb", r.memory_mb)
                    .Int("disk_gb", r.disk_gb)
                    .Int("generation", s.generation + 1)
                    .Event("VmResized")};
}

Result<Events> Rename(const VmState& s, const RenameVm& c) {
  STRATO_RETURN_IF_ERROR(ValidateVmName(c.name));
  STRATO_RETURN_IF_ERROR(RefuseIfDeleted(s, "renamed"));
  if (c.name == s.name) return Events{};
  return Events{
      JsonObjectBuilder().Str("name", c.name).Str("previous_name", s.name).Event("VmRenamed")};
}

Result<Events> Delete(const VmState& s) {
  if (s.desired == VmDesiredState::kDeleted) return Events{};
  return Events{DesiredChange(s, "VmDeleteRequested")};
}

Result<Events> Schedule(const VmState& s, const ScheduleVm& c) {
  if (c.host_id.empty()) return Status::InvalidArgument("a host id is required to place a VM");
  STRATO_RETURN_IF_ERROR(RefuseIfDeleted(s, "scheduled"));
  if (s.host_id == c.host_id) return Events{};
  if (!s.host_id.empty()) {
    return Status::FailedPrecondition(Named(s) + " is already placed on host " + s.host_id);
  }
  return Events{JsonObjectBuilder().Str("host_id", c.host_id).Event("VmScheduled")};
}

Result<Events> PlacementFailure(const VmState& s, const ReportVmPlacementFailure& c) {
  STRATO_RETURN_IF_ERROR(CheckText("a placement failure reason", c.reason, 1, 1000));
  STRATO_RETURN_IF_ERROR(RefuseIfDeleted(s, "scheduled"));
  if (!s.host_id.empty()) {
    return Status::FailedPrecondition(Named(s) + " is already placed on host " + s.host_id);
  }
  if (s.placement_failure == c.reason) return Events{};
  return Events{JsonObjectBuilder().Str("reason", c.reason).Event("VmPlacementFailed")};
}

Result<Events> Observed(const VmState& s, const ReportVmObserved& c) {
  if (c.error) {
    if (!Utf8Length(*c.error)) {
      return Status::InvalidArgument("the error in a report on " + Named(s) +
                                     " is not valid UTF-8");
    }
    if (c.error->size() > kMaxVmErrorBytes) {
      return Status::InvalidArgument("the error in a report on " + Named(s) + " is longer than " +
                                     std::to_string(kMaxVmErrorBytes) + " bytes");
    }
  }
  if (!c.host_id.empty() && c.host_id != s.host_id) {
    return Status::FailedPrecondition(s.host_id.empty()
                                          ? Named(s) + " is not placed on any host; host " +
                                                c.host_id + " cannot report on it"
                                          : Named(s) + " is placed on host " + s.host_id +
                                                "; host " + c.host_id + " cannot report on it");
  }
  if (c.generation < 0 || c.generation > s.generation) {
    return Status::InvalidArgument("a report on " + Named(s) + " reflects generation " +
                                   std::to_string(c.generation) + ", but the VM is at generation " +
                                   std::to_string(s.generation));
  }
  if (c.generation < s.observed_generation) return Events{};  // stale: a newer report is in
  if (c.state == s.observed && c.generation == s.observed_generation &&
      c.error == s.observed_error) {
    return Events{};
  }
  return Events{JsonObjectBuilder()
                    .Str("state", VmObservedStateName(c.state))
                    .Int("generation", c.generation)
                    .OptStr("error", c.error)
                    .Event("VmObserved")};
}

constexpr std::string_view kDesiredNames[] = {"running", "stopped", "paused", "deleted"};
constexpr std::string_view kObservedNames[] = {"pending",  "scheduled", "starting", "running",
                                               "stopping", "stopped",   "paused",   "crashed",
                                               "failed",   "unknown"};

}  // namespace

std::string_view VmDesiredStateName(VmDesiredState s) {
  return kDesiredNames[static_cast<int>(s)];
}

Result<VmDesiredState> ParseVmDesiredState(std::string_view text) {
  for (size_t i = 0; i < std::size(kDesiredNames); ++i) {
    if (kDesiredNames[i] == text) return static_cast<VmDesiredState>(i);
  }
  return Status::InvalidArgument(
      "a desired VM state is running, stopped, paused or deleted; got \"" + std::string(text) +
      "\"");
}

std::string_view VmObservedStateName(VmObservedState s) {
  return kObservedNames[static_cast<int>(s)];
}

Result<VmObservedState> ParseVmObservedState(std::string_view text) {
  for (size_t i = 0; i < std::size(kObservedNames); ++i) {
    if (kObservedNames[i] == text) return static_cast<VmObservedState>(i);
  }
  return Status::InvalidArgument(
      "an observed VM state is pending, scheduled, starting, running, stopping, stopped, paused, "
      "crashed, failed or unknown; got \"" +
      std::string(text) + "\"");
}

Status ValidateVmName(std::string_view n) {
  bool ok = !n.empty() && n.size() <= 63 && n.front() != '-' && n.back() != '-';
  for (char c : n) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  if (ok) return Status::Ok();
  return Status::InvalidArgument(
      "a VM name must be 1 to 63 lowercase letters, digits and '-', not starting or ending with "
      "'-'; \"" +
      std::string(n) + "\" is not");
}

Status ValidateVmResources(const Resources& r) {
  STRATO_RETURN_IF_ERROR(CheckRange("a VM's cpu_count", r.cpu_count, kMinVmCpus, kMaxVmCpus));
  STRATO_RETURN_IF_ERROR(
      CheckRange("a VM's memory_mb", r.memory_mb, kMinVmMemoryMb, kMaxVmMemoryMb));
  return CheckRange("a VM's disk_gb", r.disk_gb, kMinVmDiskGb, kMaxVmDiskGb);
}

std::string VmStreamId(std::string_view vm_id) {
  return "vm-" + std::string(vm_id);
}

std::string VmNameStreamId(std::string_view org_id, std::string_view name) {
  return "vmname-" + std::string(org_id) + "-" + std::string(name);
}

Result<Events> Decide(const VmState& state, const VmCommand& command, const DecideContext& ctx) {
  if (!std::holds_alternative<CreateVm>(command) && !state.exists) {
    return Status::NotFound("the VM does not exist");
  }
  return std::visit(
      [&](const auto& c) -> Result<Events> {
        using C = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<C, CreateVm>) return Create(state, c, ctx);
        if constexpr (std::is_same_v<C, StartVm>) return Start(state);
        if constexpr (std::is_same_v<C, StopVm>) return Stop(state, c);
        if constexpr (std::is_same_v<C, RestartVm>) return Restart(state);
        if constexpr (std::is_same_v<C, PauseVm>) return Pause(state);
        if constexpr (std::is_same_v<C, ResumeVm>) return Resume(state);
        if constexpr (std::is_same_v<C, ResizeVm>) return Resize(state, c);
        if constexpr (std::is_same_v<C, RenameVm>) return Rename(state, c);
        if constexpr (std::is_same_v<C, DeleteVm>) return Delete(state);
        if constexpr (std::is_same_v<C, ScheduleVm>) return Schedule(state, c);
        if constexpr (std::is_same_v<C, ReportVmPlacementFailure>) {
          return PlacementFailure(state, c);
        }
        if constexpr (std::is_same_v<C, ReportVmObserved>) return Observed(state, c);
      },
      command);
}

Status Evolve(VmState& s, const DomainEvent& e) {
  static constexpr std::string_view kTypes[] = {
      "VmCreated",         "VmStartRequested",  "VmStopRequested",   "VmRestartRequested",
      "VmPauseRequested",  "VmResumeRequested", "VmResized",         "VmRenamed",
      "VmDeleteRequested", "VmScheduled",       "VmPlacementFailed", "VmObserved"};
  if (!IsOneOf(e.type, kTypes)) return UnknownEventType(kAggregate, e.type);
  const bool creation = e.type == "VmCreated";
  if (creation && s.exists) {
    return Status::Internal("VmCreated for " + Named(s) + ", which exists");
  }
  if (!creation && !s.exists) return Status::Internal(e.type + " before VmCreated");

  EventFields f(e);
  VmState n = s;  // applied only when every field reads
  auto desired = [&](VmDesiredState d) {
    n.desired = d;
    n.generation = f.Int("generation");
  };
  if (creation) {
    n.exists = true;
    n.id = f.Str("vm_id");
    n.org_id = f.Str("org_id");
    n.owner_id = f.Str("owner_id");
    n.name = f.Str("name");
    n.description = f.Str("description");
    n.image = f.Str("image");
    n.resources = {f.Int("cpu_count"), f.Int("memory_mb"), f.Int("disk_gb")};
    n.generation = f.Int("generation");
    Result<VmDesiredState> d = ParseVmDesiredState(f.Str("desired"));
    STRATO_RETURN_IF_ERROR(f.status());
    if (!d.ok()) return Status::Internal("event VmCreated: " + d.status().message());
    n.desired = *d;
  } else if (e.type == "VmStartRequested" || e.type == "VmResumeRequested" ||
             e.type == "VmRestartRequested") {
    desired(VmDesiredState::kRunning);
  } else if (e.type == "VmStopRequested") {
    desired(VmDesiredState::kStopped);
    n.last_stop_forced = f.Bool("force");
  } else if (e.type == "VmPauseRequested") {
    desired(VmDesiredState::kPaused);
  } else if (e.type == "VmDeleteRequested") {
    desired(VmDesiredState::kDeleted);
  } else if (e.type == "VmResized") {
    n.resources = {f.Int("cpu_count"), f.Int("memory_mb"), f.Int("disk_gb")};
    n.generation = f.Int("generation");
  } else if (e.type == "VmRenamed") {
    n.name = f.Str("name");
  } else if (e.type == "VmScheduled") {
    n.host_id = f.Str("host_id");
    n.placement_failure.clear();
    if (n.observed == VmObservedState::kPending) n.observed = VmObservedState::kScheduled;
  } else if (e.type == "VmPlacementFailed") {
    n.placement_failure = f.Str("reason");
  } else if (e.type == "VmObserved") {
    Result<VmObservedState> st = ParseVmObservedState(f.Str("state"));
    n.observed_generation = f.Int("generation");
    n.observed_error = f.OptStr("error");
    STRATO_RETURN_IF_ERROR(f.status());
    if (!st.ok()) return Status::Internal("event VmObserved: " + st.status().message());
    n.observed = *st;
  }
  STRATO_RETURN_IF_ERROR(f.status());
  ++n.version;
  s = std::move(n);
  return Status::Ok();
}

Status Evolve(VmNameReservation& s, const DomainEvent& e) {
  static constexpr std::string_view kTypes[] = {"VmNameReserved", "VmNameReleased"};
  if (!IsOneOf(e.type, kTypes)) return UnknownEventType("a VM name reservation", e.type);
  EventFields f(e);
  std::string vm_id = f.Str("vm_id");
  STRATO_RETURN_IF_ERROR(f.status());
  if (e.type == "VmNameReserved") {
    s.held = true;
    s.vm_id = std::move(vm_id);
  } else {
    s.held = false;
    s.vm_id.clear();
  }
  ++s.version;
  return Status::Ok();
}

Result<Events> ReserveVmName(const VmNameReservation& s, std::string_view vm_id,
                             std::string_view name) {
  if (s.held && s.vm_id == vm_id) return Events{};
  if (s.held) {
    return Status::AlreadyExists("a VM named " + std::string(name) +
                                 " already exists in this organization");
  }
  return Events{VmNameReservedEvent(vm_id)};
}

DomainEvent VmNameReservedEvent(std::string_view vm_id) {
  return JsonObjectBuilder().Str("vm_id", vm_id).Event("VmNameReserved");
}

DomainEvent VmNameReleasedEvent(std::string_view vm_id) {
  return JsonObjectBuilder().Str("vm_id", vm_id).Event("VmNameReleased");
}

}  // namespace strato::domain
