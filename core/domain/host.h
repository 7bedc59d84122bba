// The Host aggregate: a hypervisor machine that runs VMs, with its capacity, whether it takes
// new VMs (cordoned or not) and whether the control plane can reach it. Decide and Evolve are
// pure functions over plain values (no I/O, thread-safe). Stream: host-<host_id>.
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
  bool cordoned = false;           // true: takes no new VMs
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
  std::string hypervisor_kind;
  std::string hypervisor_version;
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

std::string HostStreamId(std::string_view host_id);  // "host-<host_id>"

inline constexpr int64_t kMaxHostCpus = 4096;
inline constexpr int64_t kMaxHostMemoryMb = 64LL * 1024 * 1024;  // 64 TiB
inline constexpr int64_t kMaxHostDiskGb = 1024LL * 1024;         // 1 PiB

}  // namespace strato::domain
