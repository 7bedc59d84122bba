// The Host aggregate: a hypervisor machine that runs VMs, with its capacity, its hypervisor
// (kind, version, accelerator), its allocation ratios, whether it takes new VMs (cordoned or not)
// and whether the control plane can reach it. Decide and Evolve are pure functions over plain
// values (no I/O, thread-safe). Stream: host-<host_id>.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "core/domain/domain_event.h"
#include "core/status.h"

namespace strato::domain {

struct HostState {
  int64_t version = 0;  // events folded
  bool exists = false;
  std::string id;
  std::string name;
  std::string address;
  Resources capacity;
  std::string hypervisor_kind;     // e.g. "cloud-hypervisor"
  std::string hypervisor_version;  // e.g. "38.0"
  std::string accelerator;         // "kvm", "tcg"; "" when not said (the CH simulator, old events)
  // vCPUs and memory the scheduler may place per physical CPU and MiB (N means N:1). Events
  // from before the ratios mean 1: every host was scheduled 1:1 then.
  int64_t cpu_allocation_ratio = 1;
  int64_t memory_allocation_ratio = 1;
  bool cordoned = false;  // true: takes no new VMs
  std::string cordon_reason;
  bool reachable = false;  // true from registration until marked unreachable
  std::string unreachable_reason;
};

// hostd registers at every start. Registering again with the same facts changes nothing;
// with changed facts it records HostRegistered again (cordon and reachability are kept).
struct RegisterHost {
  std::string host_id;
  std::string name;     // 1-253 of letters, digits, '-', '_', '.'
  std::string address;  // how the control plane reaches it, e.g. "10.0.0.5"; no spaces
  int64_t cpu_count = 0;
  int64_t memory_mb = 0;
  int64_t disk_gb = 0;
  std::string hypervisor_kind;          // "cloud-hypervisor", "qemu"
  std::string hypervisor_version;       // e.g. "7.2.19"
  std::string accelerator;              // "" (not said) or a token: "kvm", "tcg"
  int64_t cpu_allocation_ratio = 1;     // 1 to kMaxCpuAllocationRatio
  int64_t memory_allocation_ratio = 1;  // 1 to kMaxMemoryAllocationRatio
};
struct UpdateHostCapacity {
  Resources capacity;
};
struct CordonHost {
  std::string reason;  // optional, shown to operators
};
struct UncordonHost {};
struct MarkHostUnreachable {
  std::string reason;  // e.g. "no heartbeat for 30 s"
};
struct MarkHostReachable {};

using HostCommand = std::variant<RegisterHost, UpdateHostCapacity, CordonHost, UncordonHost,
                                 MarkHostUnreachable, MarkHostReachable>;

Result<Events> Decide(const HostState& state, const HostCommand& command, const DecideContext& ctx);
Status Evolve(HostState& state, const DomainEvent& event);

Status ValidateHostCapacity(const Resources& capacity);
// A host's allocation ratios, with sentences naming which one is out of range.
Status ValidateAllocationRatios(int64_t cpu_ratio, int64_t memory_ratio);

// What the scheduler may place on a host: its physical CPUs and memory times their ratios, its
// disk as it is (disk by the images' real use needs images; until then 1:1).
Resources SchedulableCapacity(const Resources& physical, int64_t cpu_ratio, int64_t memory_ratio);

std::string HostStreamId(std::string_view host_id);  // "host-<host_id>"

inline constexpr int64_t kMaxHostCpus = 4096;
inline constexpr int64_t kMaxHostMemoryMb = 64LL * 1024 * 1024;  // 64 TiB
inline constexpr int64_t kMaxHostDiskGb = 1024LL * 1024;         // 1 PiB
// Allocation ratios are whole numbers (N:1) from 1 up to these.
inline constexpr int64_t kMaxCpuAllocationRatio = 64;
inline constexpr int64_t kMaxMemoryAllocationRatio = 16;

}  // namespace strato::domain
