// Placement: which host a new VM should run on. Pure: the caller gathers the hosts' capacity
// and what is already placed on them (from the read models), calls PlaceVm, and records the
// answer as VmScheduled, or the error's sentence as VmPlacementFailed. Thread-safe.
#pragma once

#include <string>
#include <vector>

#include "core/domain/domain_event.h"
#include "core/status.h"

namespace strato::domain {

using HostId = std::string;
using VmSpec = Resources;  // what the VM needs

struct HostView {
  HostId id;
  std::string name;  // for sentences; the id is used when empty
  bool reachable = false;
  bool cordoned = false;
  Resources capacity;   // physical: what the host registered
  Resources allocated;  // the sum over VMs placed on it and not deleted
  // N:1 overcommit: the host takes up to capacity x ratio vCPUs and MiB (disk 1:1).
  int64_t cpu_allocation_ratio = 1;
  int64_t memory_allocation_ratio = 1;
};

// Picks a reachable, uncordoned host with room for the VM's CPUs, memory and disk, room being
// the host's schedulable capacity (SchedulableCapacity: physical x allocation ratio) less what
// is allocated: a 2-CPU host at 4:1 takes eight 1-vCPU VMs. Among those
// it spreads load: the most free memory (as a fraction of capacity) after placement wins, then
// the most free CPU fraction, then the smallest id, so equal inputs give equal answers.
// No such host: FailedPrecondition with a sentence saying why, e.g. "no host has room for
// 8 CPUs, 16384 MiB and 100 GiB: the largest free is host-2 with 4 CPUs, 8192 MiB and 50 GiB".
Result<HostId> PlaceVm(const VmSpec& vm, const std::vector<HostView>& hosts);

}  // namespace strato::domain
