#include "projections/org_projection.h"

#include "core/clock.h"
#include "core/domain/domain_event.h"

namespace strato::projections {

namespace {

constexpr const char* kCreateSql =
    "WITH o AS (INSERT INTO organizations (org_id, name, created_at, updated_at, last_position) "
    "  VALUES ($1, $2, $4::timestamptz, $4::timestamptz, $5)) "
    "INSERT INTO organization_members (org_id, user_id, role) VALUES ($1, $3, 'owner')";

constexpr const char* kRenameSql =
    "UPDATE organizations SET name = $2, updated_at = $3::timestamptz, last_position = $4 "
    "WHERE org_id = $1";

constexpr const char* kSetMemberSql =
    "INSERT INTO organization_members (org_id, user_id, role) VALUES ($1, $2, $3) "
    "ON CONFLICT (org_id, user_id) DO UPDATE SET role = EXCLUDED.role";

constexpr const char* kRemoveMemberSql =
    "DELETE FROM organization_members WHERE org_id = $1 AND user_id = $2";

}  // namespace

Status OrgProjection::Plan(const events::RecordedEvent& e,
                           std::vector<events::PgStatement>& out) const {
  if (e.Category() != "org") return Status::Ok();
  domain::DomainEvent de{e.type, e.data};
  domain::EventFields f(de);
  const std::string id = StreamEntityId(e);
  const std::string at = FormatRfc3339(e.recorded_at);
  const std::string pos = std::to_string(e.position);
  auto set_member = [&](const std::string& user, const std::string& role) {
    out.push_back({name_ + "_set_member", kSetMemberSql, {id, user, role}});
  };

  if (e.type == "OrganizationCreated") {
    out.push_back({name_ + "_create",
                   kCreateSql,
                   {f.Str("org_id"), f.Str("name"), f.Str("owner_id"), at, pos}});
  } else if (e.type == "OrganizationRenamed") {
    out.push_back({name_ + "_rename", kRenameSql, {id, f.Str("name"), at, pos}});
  } else if (e.type == "MemberAdded") {
    set_member(f.Str("user_id"), f.Str("role"));
  } else if (e.type == "MemberRemoved") {
    out.push_back({name_ + "_remove_member", kRemoveMemberSql, {id, f.Str("user_id")}});
  } else if (e.type == "OwnershipTransferred") {
    set_member(f.Str("from_user_id"), "member");
    set_member(f.Str("to_user_id"), "owner");
  }
  return f.status();
}

}  // namespace strato::projections
