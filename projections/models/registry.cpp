#include "projections/models/registry.h"

#include "projections/models/audit_projection.h"
#include "projections/models/host_projection.h"
#include "projections/models/org_projection.h"
#include "projections/models/relationship_projection.h"
#include "projections/models/user_projection.h"
#include "projections/models/vm_projection.h"

namespace strato::projections {

std::vector<std::unique_ptr<Projection>> AllProjections() {
  std::vector<std::unique_ptr<Projection>> all;
  // Append new read models at the end: the order is the order checkpoint rows are locked in,
  // by the runner and by rebuilds.
  all.push_back(std::make_unique<AuditProjection>());
  all.push_back(std::make_unique<VmProjection>());
  all.push_back(std::make_unique<HostProjection>());
  all.push_back(std::make_unique<OrgProjection>());
  all.push_back(std::make_unique<UserProjection>());
  all.push_back(std::make_unique<RelationshipProjection>());
  return all;
}

}  // namespace strato::projections
