#include "core/domain/organization.h"

#include <type_traits>

namespace strato::domain {
namespace {

constexpr std::string_view kAggregate = "the Organization aggregate";

std::string Named(const OrganizationState& s) {
  return "organization " + s.name;
}

Status CheckName(std::string_view name) {
  return CheckText("an organization name", name, 1, kMaxOrganizationNameChars);
}

Status CheckUserId(std::string_view user_id) {
  if (user_id.empty()) return Status::InvalidArgument("a user id is required");
  return Status::Ok();
}

Result<Events> Create(const OrganizationState& s, const CreateOrganization& c,
                      const DecideContext& ctx) {
  if (s.exists) return Status::AlreadyExists(Named(s) + " already exists");
  if (c.org_id.empty()) return Status::InvalidArgument("an organization id is required");
  STRATO_RETURN_IF_ERROR(CheckName(c.name));
  if (ctx.actor_id.empty()) {
    return Status::InvalidArgument("an organization needs a creator to become its owner");
  }
  return Events{JsonObjectBuilder()
                    .Str("org_id", c.org_id)
                    .Str("name", c.name)
                    .Str("owner_id", ctx.actor_id)
                    .Event("OrganizationCreated")};
}

Result<Events> Rename(const OrganizationState& s, const RenameOrganization& c) {
  STRATO_RETURN_IF_ERROR(CheckName(c.name));
  if (c.name == s.name) return Events{};
  return Events{JsonObjectBuilder()
                    .Str("name", c.name)
                    .Str("previous_name", s.name)
                    .Event("OrganizationRenamed")};
}

Result<Events> Add(const OrganizationState& s, const AddMember& c) {
  STRATO_RETURN_IF_ERROR(CheckUserId(c.user_id));
  auto it = s.members.find(c.user_id);
  if (it != s.members.end()) {
    if (it->second == c.role) return Events{};
    return Status::FailedPrecondition("user " + c.user_id + " is already " +
                                      (it->second == OrgRole::kOwner ? "an owner" : "a member") +
                                      " of " + Named(s) + "; transfer ownership to change roles");
  }
  return Events{JsonObjectBuilder()
                    .Str("user_id", c.user_id)
                    .Str("role", OrgRoleName(c.role))
                    .Event("MemberAdded")};
}

Result<Events> Remove(const OrganizationState& s, const RemoveMember& c) {
  STRATO_RETURN_IF_ERROR(CheckUserId(c.user_id));
  auto it = s.members.find(c.user_id);
  if (it == s.members.end()) return Events{};
  if (it->second == OrgRole::kOwner && s.OwnerCount() == 1) {
    return Status::FailedPrecondition("user " + c.user_id + " is the last owner of " + Named(s) +
                                      "; transfer ownership before removing them");
  }
  return Events{JsonObjectBuilder()
                    .Str("user_id", c.user_id)
                    .Str("role", OrgRoleName(it->second))
                    .Event("MemberRemoved")};
}

Result<Events> Transfer(const OrganizationState& s, const TransferOwnership& c,
                        const DecideContext& ctx) {
  std::string from = c.from_user_id.empty() ? ctx.actor_id : c.from_user_id;
  STRATO_RETURN_IF_ERROR(CheckUserId(c.to_user_id));
  STRATO_RETURN_IF_ERROR(CheckUserId(from));
  auto f = s.members.find(from);
  if (f == s.members.end() || f->second != OrgRole::kOwner) {
    return Status::FailedPrecondition("user " + from + " is not an owner of " + Named(s) +
                                      "; only an owner can hand over ownership");
  }
  if (c.to_user_id == from) {
    return Status::InvalidArgument("user " + from + " cannot transfer ownership of " + Named(s) +
                                   " to themselves");
  }
  auto t = s.members.find(c.to_user_id);
  if (t == s.members.end()) {
    return Status::FailedPrecondition("user " + c.to_user_id + " is not a member of " + Named(s) +
                                      "; add them before transferring ownership");
  }
  if (t->second == OrgRole::kOwner) {
    return Status::FailedPrecondition("user " + c.to_user_id + " is already an owner of " +
                                      Named(s));
  }
  return Events{JsonObjectBuilder()
                    .Str("from_user_id", from)
                    .Str("to_user_id", c.to_user_id)
                    .Event("OwnershipTransferred")};
}

}  // namespace

std::string_view OrgRoleName(OrgRole role) {
  return role == OrgRole::kOwner ? "owner" : "member";
}

Result<OrgRole> ParseOrgRole(std::string_view text) {
  if (text == "owner") return OrgRole::kOwner;
  if (text == "member") return OrgRole::kMember;
  return Status::InvalidArgument("a role is owner or member; got \"" + std::string(text) + "\"");
}

int OrganizationState::OwnerCount() const {
  int n = 0;
  for (const auto& [user, role] : members) n += role == OrgRole::kOwner ? 1 : 0;
  return n;
}

std::string OrganizationStreamId(std::string_view org_id) {
  return "org-" + std::string(org_id);
}

Result<Events> Decide(const OrganizationState& state, const OrganizationCommand& command,
                      const DecideContext& ctx) {
  if (!std::holds_alternative<CreateOrganization>(command) && !state.exists) {
    return Status::NotFound("the organization does not exist");
  }
  return std::visit(
      [&](const auto& c) -> Result<Events> {
        using C = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<C, CreateOrganization>) return Create(state, c, ctx);
        if constexpr (std::is_same_v<C, RenameOrganization>) return Rename(state, c);
        if constexpr (std::is_same_v<C, AddMember>) return Add(state, c);
        if constexpr (std::is_same_v<C, RemoveMember>) return Remove(state, c);
        if constexpr (std::is_same_v<C, TransferOwnership>) return Transfer(state, c, ctx);
      },
      command);
}

Status Evolve(OrganizationState& s, const DomainEvent& e) {
  static constexpr std::string_view kTypes[] = {"OrganizationCreated", "OrganizationRenamed",
                                                "MemberAdded", "MemberRemoved",
                                                "OwnershipTransferred"};
  if (!IsOneOf(e.type, kTypes)) return UnknownEventType(kAggregate, e.type);
  EventFields f(e);
  const bool creation = e.type == "OrganizationCreated";
  if (creation && s.exists) {
    return Status::Internal("OrganizationCreated for organization " + s.id + ", which exists");
  }
  if (!creation && !s.exists) {
    return Status::Internal(e.type + " before OrganizationCreated");
  }
  if (creation) {
    std::string id = f.Str("org_id"), name = f.Str("name"), owner = f.Str("owner_id");
    STRATO_RETURN_IF_ERROR(f.status());
    s.exists = true;
    s.id = std::move(id);
    s.name = std::move(name);
    s.members[owner] = OrgRole::kOwner;
  } else if (e.type == "OrganizationRenamed") {
    std::string name = f.Str("name");
    STRATO_RETURN_IF_ERROR(f.status());
    s.name = std::move(name);
  } else if (e.type == "MemberAdded") {
    std::string user = f.Str("user_id"), role_text = f.Str("role");
    STRATO_RETURN_IF_ERROR(f.status());
    Result<OrgRole> role = ParseOrgRole(role_text);
    if (!role.ok()) return Status::Internal("event MemberAdded: " + role.status().message());
    s.members[user] = *role;
  } else if (e.type == "MemberRemoved") {
    std::string user = f.Str("user_id");
    STRATO_RETURN_IF_ERROR(f.status());
    s.members.erase(user);
  } else if (e.type == "OwnershipTransferred") {
    std::string from = f.Str("from_user_id"), to = f.Str("to_user_id");
    STRATO_RETURN_IF_ERROR(f.status());
    s.members[from] = OrgRole::kMember;
    s.members[to] = OrgRole::kOwner;
  }
  ++s.version;
  return Status::Ok();
}

}  // namespace strato::domain
