#include "core/domain/host.h"

#include <algorithm>
#include <type_traits>

namespace strato::domain {
namespace {

constexpr std::string_view kAggregate = "the Host aggregate";

std::string Named(const HostState& s) {
  return "host " + s.name;
}

Status CheckHostName(std::string_view name) {
  if (name.empty() || name.size() > 253) {
    return Status::InvalidArgument("a host name must be 1 to 253 characters long");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) {
      return Status::InvalidArgument(
          "a host name may hold only letters, digits, '-', '_' and '.'; \"" + std::string(name) +
          "\" does not");
    }
  }
  return Status::Ok();
}

// Reasons are optional free text for operators.
Status CheckReason(std::string_view reason) {
  if (reason.empty()) return Status::Ok();
  return CheckText("a reason", reason, 1, 500);
}

Result<Events> Register(const HostState& s, const RegisterHost& c) {
  if (c.host_id.empty()) return Status::InvalidArgument("a host id is required");
  STRATO_RETURN_IF_ERROR(CheckHostName(c.name));
  STRATO_RETURN_IF_ERROR(CheckToken("a host address", c.address, 255));
  Resources cap{c.cpu_count, c.memory_mb, c.disk_gb};
  STRATO_RETURN_IF_ERROR(ValidateHostCapacity(cap));
  STRATO_RETURN_IF_ERROR(CheckToken("a hypervisor kind", c.hypervisor_kind, 64));
  STRATO_RETURN_IF_ERROR(CheckToken("a hypervisor version", c.hypervisor_version, 64));
  if (!c.accelerator.empty()) {
    STRATO_RETURN_IF_ERROR(CheckToken("an accelerator", c.accelerator, 64));
  }
  STRATO_RETURN_IF_ERROR(
      ValidateAllocationRatios(c.cpu_allocation_ratio, c.memory_allocation_ratio));
  if (s.exists) {
    if (c.host_id != s.id) {
      return Status::InvalidArgument(Named(s) + " has id " + s.id + "; a registration for id " +
                                     c.host_id + " does not match");
    }
    if (c.name == s.name && c.address == s.address && cap == s.capacity &&
        c.hypervisor_kind == s.hypervisor_kind && c.hypervisor_version == s.hypervisor_version &&
        c.accelerator == s.accelerator && c.cpu_allocation_ratio == s.cpu_allocation_ratio &&
        c.memory_allocation_ratio == s.memory_allocation_ratio) {
      return Events{};
    }
  }
  return Events{JsonObjectBuilder()
                    .Str("host_id", c.host_id)
                    .Str("name", c.name)
                    .Str("address", c.address)
                    .Int("cpu_count", c.cpu_count)
                    .Int("memory_mb", c.memory_mb)
                    .Int("disk_gb", c.disk_gb)
                    .Str("hypervisor_kind", c.hypervisor_kind)
                    .Str("hypervisor_version", c.hypervisor_version)
                    .Str("accelerator", c.accelerator)
                    .Int("cpu_allocation_ratio", c.cpu_allocation_ratio)
                    .Int("memory_allocation_ratio", c.memory_allocation_ratio)
                    .Event("HostRegistered")};
}

Result<Events> UpdateCapacity(const HostState& s, const UpdateHostCapacity& c) {
  STRATO_RETURN_IF_ERROR(ValidateHostCapacity(c.capacity));
  if (c.capacity == s.capacity) return Events{};
  return Events{JsonObjectBuilder()
                    .Int("cpu_count", c.capacity.cpu_count)
                    .Int("memory_mb", c.capacity.memory_mb)
                    .Int("disk_gb", c.capacity.disk_gb)
                    .Event("HostCapacityUpdated")};
}

}  // namespace

Status ValidateHostCapacity(const Resources& c) {
  STRATO_RETURN_IF_ERROR(CheckRange("a host's cpu_count", c.cpu_count, 1, kMaxHostCpus));
  STRATO_RETURN_IF_ERROR(CheckRange("a host's memory_mb", c.memory_mb, 128, kMaxHostMemoryMb));
  return CheckRange("a host's disk_gb", c.disk_gb, 1, kMaxHostDiskGb);
}

Status ValidateAllocationRatios(int64_t cpu_ratio, int64_t memory_ratio) {
  STRATO_RETURN_IF_ERROR(
      CheckRange("a host's cpu_allocation_ratio", cpu_ratio, 1, kMaxCpuAllocationRatio));
  return CheckRange("a host's memory_allocation_ratio", memory_ratio, 1, kMaxMemoryAllocationRatio);
}

Resources SchedulableCapacity(const Resources& physical, int64_t cpu_ratio, int64_t memory_ratio) {
  // Ratios below 1 (never recorded) count as 1; the products stay far below 2^63.
  return {physical.cpu_count * std::max<int64_t>(1, cpu_ratio),
          physical.memory_mb * std::max<int64_t>(1, memory_ratio), physical.disk_gb};
}

std::string HostStreamId(std::string_view host_id) {
  return "host-" + std::string(host_id);
}

Result<Events> Decide(const HostState& s, const HostCommand& command, const DecideContext& ctx) {
  if (!std::holds_alternative<RegisterHost>(command) && !s.exists) {
    return Status::NotFound("the host is not registered");
  }
  return std::visit(
      [&](const auto& c) -> Result<Events> {
        using C = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<C, RegisterHost>) return Register(s, c);
        if constexpr (std::is_same_v<C, UpdateHostCapacity>) return UpdateCapacity(s, c);
        if constexpr (std::is_same_v<C, CordonHost>) {
          STRATO_RETURN_IF_ERROR(CheckReason(c.reason));
          if (s.cordoned) return Events{};
          return Events{JsonObjectBuilder().Str("reason", c.reason).Event("HostCordoned")};
        }
        if constexpr (std::is_same_v<C, UncordonHost>) {
          if (!s.cordoned) return Events{};
          return Events{DomainEvent{"HostUncordoned", "{}"}};
        }
        if constexpr (std::is_same_v<C, MarkHostUnreachable>) {
          STRATO_RETURN_IF_ERROR(CheckReason(c.reason));
          if (!s.reachable) return Events{};
          return Events{JsonObjectBuilder().Str("reason", c.reason).Event("HostUnreachable")};
        }
        if constexpr (std::is_same_v<C, MarkHostReachable>) {
          if (s.reachable) return Events{};
          return Events{DomainEvent{"HostReachable", "{}"}};
        }
      },
      command);
}

Status Evolve(HostState& s, const DomainEvent& e) {
  static constexpr std::string_view kTypes[] = {"HostRegistered",  "HostCapacityUpdated",
                                                "HostCordoned",    "HostUncordoned",
                                                "HostUnreachable", "HostReachable"};
  if (!IsOneOf(e.type, kTypes)) return UnknownEventType(kAggregate, e.type);
  if (e.type != "HostRegistered" && !s.exists) {
    return Status::Internal(e.type + " before HostRegistered");
  }
  EventFields f(e);
  if (e.type == "HostRegistered") {
    HostState next = s;
    next.id = f.Str("host_id");
    next.name = f.Str("name");
    next.address = f.Str("address");
    next.capacity = {f.Int("cpu_count"), f.Int("memory_mb"), f.Int("disk_gb")};
    next.hypervisor_kind = f.Str("hypervisor_kind");
    next.hypervisor_version = f.Str("hypervisor_version");
    // Added later: older events said no accelerator and meant 1:1.
    next.accelerator = f.OptStr("accelerator").value_or("");
    next.cpu_allocation_ratio = f.OptInt("cpu_allocation_ratio").value_or(1);
    next.memory_allocation_ratio = f.OptInt("memory_allocation_ratio").value_or(1);
    STRATO_RETURN_IF_ERROR(f.status());
    if (!s.exists) next.reachable = true;
    next.exists = true;
    s = std::move(next);
  } else if (e.type == "HostCapacityUpdated") {
    Resources cap{f.Int("cpu_count"), f.Int("memory_mb"), f.Int("disk_gb")};
    STRATO_RETURN_IF_ERROR(f.status());
    s.capacity = cap;
  } else if (e.type == "HostCordoned") {
    std::optional<std::string> reason = f.OptStr("reason");
    STRATO_RETURN_IF_ERROR(f.status());
    s.cordoned = true;
    s.cordon_reason = reason.value_or("");
  } else if (e.type == "HostUncordoned") {
    s.cordoned = false;
    s.cordon_reason.clear();
  } else if (e.type == "HostUnreachable") {
    std::optional<std::string> reason = f.OptStr("reason");
    STRATO_RETURN_IF_ERROR(f.status());
    s.reachable = false;
    s.unreachable_reason = reason.value_or("");
  } else if (e.type == "HostReachable") {
    s.reachable = true;
    s.unreachable_reason.clear();
  }
  ++s.version;
  return Status::Ok();
}

}  // namespace strato::domain
