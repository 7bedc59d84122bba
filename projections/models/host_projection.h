// HostProjection: the hosts read model and the host desired state, folded from the host-<id>
// and vm-<id> streams (schema/events.md) into three tables (schema/migrations/0003):
//
//   hosts             one row per registered host: capacity, what is allocated on it, cordon,
//                     reachability, hypervisor (kind, version, accelerator) and allocation
//                     ratios (schema/migrations/0014; "" and 1 for HostRegistered events older
//                     than those fields). A host registering again keeps its cordon,
//                     reachability and allocation.
//   host_allocations  one row per VM scheduled on a host and not deleted, with its resources.
//                     VmScheduled adds the row, VmResized changes it, VmDeleteRequested removes
//                     it, and each adjusts hosts.allocated_* by the difference, so allocated is
//                     always the sum of the host's rows (also for a host registered after VMs
//                     were scheduled on it, which starts from that sum).
//   host_desired_vms  what each host must run: one row per VM from VmCreated on (host_id NULL
//                     until VmScheduled) with its name, image, spec, desired state, generation,
//                     the action of the last generation change and whether the last stop was
//                     forced. A deleted VM's row stays with desired = 'deleted': that is how its
//                     host learns to destroy it.
//
// It keeps its own copy of each VM's spec (host_desired_vms) instead of reading vms, since
// each projection has its own checkpoint and the vms table may be ahead or behind it.
// A batch is one pipeline of parameterized statements. Use from one thread at a time.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "projections/runner/planned_projection.h"

namespace strato::projections {

class HostProjection final : public PlannedProjection {
 public:
  static constexpr const char* kName = "hosts";

  HostProjection() : PlannedProjection(kName) {}
  std::vector<std::string> tables() const override {
    return {"hosts", "host_allocations", "host_desired_vms"};
  }
  std::unique_ptr<BulkFold> StartBulk() const override;

 private:
  Status Plan(const events::RecordedEvent& e, std::vector<events::PgStatement>& out) const override;
};

}  // namespace strato::projections
