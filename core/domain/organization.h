// The Organization aggregate: a named group of users who own VMs together. Each member has a
// role, owner or member; there is always at least one owner. Decide and Evolve are pure
// functions over plain values (no I/O, thread-safe). Stream: org-<org_id>.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>

#include "core/domain/domain_event.h"
#include "core/status.h"

namespace strato::domain {

enum class OrgRole { kOwner, kMember };

std::string_view OrgRoleName(OrgRole role);  // "owner" | "member"
Result<OrgRole> ParseOrgRole(std::string_view text);

struct OrganizationState {
  int64_t version = 0;  // events folded
  bool exists = false;
  std::string id;
  std::string name;
  std::map<std::string, OrgRole> members;  // user id -> role, owners included

  int OwnerCount() const;
};

// The actor (DecideContext::actor_id) becomes the first owner.
struct CreateOrganization {
  std::string org_id;
  std::string name;  // 1-100 characters
};
struct RenameOrganization {
  std::string name;
};
// Adding someone who already has that role changes nothing; someone with another role is an
// error (ownership moves with TransferOwnership).
struct AddMember {
  std::string user_id;
  OrgRole role = OrgRole::kMember;
};
// Removing someone who is not a member changes nothing. The last owner cannot be removed.
struct RemoveMember {
  std::string user_id;
};
// `to_user_id` (already a member) becomes an owner; `from_user_id` (an owner; empty means the
// actor) becomes a member.
struct TransferOwnership {
  std::string to_user_id;
  std::string from_user_id;
};

using OrganizationCommand = std::variant<CreateOrganization, RenameOrganization, AddMember,
                                         RemoveMember, TransferOwnership>;

Result<Events> Decide(const OrganizationState& state, const OrganizationCommand& command,
                      const DecideContext& ctx);
Status Evolve(OrganizationState& state, const DomainEvent& event);

std::string OrganizationStreamId(std::string_view org_id);  // "org-<org_id>"

inline constexpr size_t kMaxOrganizationNameChars = 100;

}  // namespace strato::domain
