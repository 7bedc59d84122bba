// VmProjection: the VMs read model, table vms (schema/migrations/0003): one row per VM with its
// spec, its desired state and generation, where it is placed (or why it could not be), and what
// its host last observed. Folded from the vm-<id> streams (schema/events.md); the VM id of an
// event other than VmCreated is the id part of its stream.
//
// Deletion: VmDeleteRequested sets desired = 'deleted' and deleted = true but keeps the row. The
// catalogue has no event yet saying a host has destroyed the VM, and until then hosts, the
// reconciler and operators need to see it; lists of live VMs filter on NOT deleted. When such
// an event exists, this projection is where the row goes away.
//
// Every event becomes one parameterized statement; a batch is sent as one pipeline (one round
// trip). Use from one thread at a time (the runner's).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "projections/runner/planned_projection.h"

namespace strato::projections {

class VmProjection final : public PlannedProjection {
 public:
  static constexpr const char* kName = "vms";

  VmProjection() : PlannedProjection(kName) {}
  std::vector<std::string> tables() const override { return {"vms"}; }
  std::unique_ptr<BulkFold> StartBulk() const override;

 private:
  // The statements folding `e` into the tables (none for an event it ignores).
  Status Plan(const events::RecordedEvent& e, std::vector<events::PgStatement>& out) const override;
};

}  // namespace strato::projections
