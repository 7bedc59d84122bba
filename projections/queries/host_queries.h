// Reads of the hosts read model (with each host's VM count), as structs that the JSON API, the
// hosts page and the dashboard render. Stateless; safe from any thread with its own session.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/domain/domain_event.h"
#include "core/domain/host.h"
#include "core/status.h"
#include "events/pg/pg.h"

namespace strato::projections {

struct HostRow {
  std::string id, name, address, hypervisor_kind, hypervisor_version, cordon_reason,
      unreachable_reason, registered_at, updated_at;  // times in RFC 3339, UTC
  std::string accelerator;                            // "kvm", "tcg"; "" when the host did not say
  domain::Resources capacity, allocated;              // capacity: physical, as registered
  int64_t cpu_allocation_ratio = 1, memory_allocation_ratio = 1;  // N:1
  // What the scheduler may place on it: capacity x the ratios (disk 1:1).
  domain::Resources schedulable() const {
    return domain::SchedulableCapacity(capacity, cpu_allocation_ratio, memory_allocation_ratio);
  }
  bool cordoned = false, reachable = true;
  int64_t vm_count = 0;  // VMs placed on the host and not deleted
  int64_t position = 0;  // the last event folded into the row
};

// The hosts among `ids` that the hosts read model has, by name then id.
Result<std::vector<HostRow>> ReadHosts(events::PgConnection& db,
                                       const std::vector<std::string>& ids);

// What is free of `total` once `allocated` is taken (never below 0).
inline int64_t FreeOf(int64_t total, int64_t allocated) {
  return total > allocated ? total - allocated : 0;
}

}  // namespace strato::projections
