// OrgProjection: organizations and their members, tables organizations and
// organization_members (schema/migrations/0003), folded from the org-<id> streams
// (schema/events.md): OrganizationCreated adds the organization and its creator as owner,
// OrganizationRenamed renames it, MemberAdded / MemberRemoved add and remove members with
// their role (owner or member), OwnershipTransferred makes to_user_id an owner and
// from_user_id a member. A batch is one pipeline of parameterized statements. Use from one
// thread at a time (the runner's).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "projections/runner/planned_projection.h"

namespace strato::projections {

class OrgProjection final : public PlannedProjection {
 public:
  static constexpr const char* kName = "organizations";

  OrgProjection() : PlannedProjection(kName) {}
  std::vector<std::string> tables() const override {
    return {"organizations", "organization_members"};
  }
  std::unique_ptr<BulkFold> StartBulk() const override;

 private:
  Status Plan(const events::RecordedEvent& e, std::vector<events::PgStatement>& out) const override;
};

}  // namespace strato::projections
