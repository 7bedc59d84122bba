// RelationshipProjection: the relationship tuples authorization checks read, table
// relationship_tuples (schema/migrations/0003), in Permify's form
// entity_type:entity_id#relation@subject_type:subject_id[#subject_relation] for the schema in
// schema/strato.perm. Folded from the user-, host-, vm-, org- and platform- streams:
//
//   UserRegistered        user:<user>#self@user:<user>
//   HostRegistered        host:<host>#self@host:<host>, host:<host>#platform@platform:strato
//   VmCreated             vm:<vm>#owner@user:<owner_id>, vm:<vm>#organization@organization:<org_id>
//   VmDeleteRequested     removes every tuple of vm:<vm> (a deleted VM grants nothing)
//   OrganizationCreated   organization:<org>#owner@user:<owner_id>
//   MemberAdded           organization:<org>#<role>@user:<user_id>
//   MemberRemoved         removes the user's owner and member tuples of the organization
//   OwnershipTransferred  from_user_id: owner -> member; to_user_id: member -> owner
//   PlatformRoleGranted   platform:strato#<role>@user:<user_id>
//   PlatformRoleRevoked   removes platform:strato#<role>@user:<user_id>
//
// A user holds one role per organization (owner or member), as in the Organization aggregate.
// Adding a tuple that exists changes nothing. A batch is one pipeline of parameterized
// statements. Use from one thread at a time (the runner's).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "projections/runner/planned_projection.h"

namespace strato::domain {
class EventFields;
}

namespace strato::projections {

// What one event does to the tuples (subject_relation is always '' here). The projection, its
// bulk fold and the authorization engine's in-memory feed all apply these, so they cannot
// disagree.
struct TupleChange {
  enum class Kind {
    kAdd,           // entity_type:entity_id#relation@subject_type:subject_id
    kRemoveEntity,  // every tuple of entity_type:entity_id
    kRemoveMember,  // organization:entity_id#owner and #member of user:subject_id
    kRemove,        // exactly entity_type:entity_id#relation@subject_type:subject_id
  };
  Kind kind;
  std::string entity_type, entity_id, relation, subject_type, subject_id;
};
Result<std::vector<TupleChange>> RelationshipChanges(const events::RecordedEvent& e);
// The same, reading e's data through `f` (made from it, parsed already).
Result<std::vector<TupleChange>> RelationshipChanges(const events::RecordedEvent& e,
                                                     domain::EventFields& f);

class RelationshipProjection final : public PlannedProjection {
 public:
  static constexpr const char* kName = "relationships";

  RelationshipProjection() : PlannedProjection(kName) {}
  std::vector<std::string> tables() const override { return {"relationship_tuples"}; }
  std::unique_ptr<BulkFold> StartBulk() const override;

 private:
  Status Plan(const events::RecordedEvent& e, std::vector<events::PgStatement>& out) const override;
};

}  // namespace strato::projections
