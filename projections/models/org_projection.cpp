#include "projections/models/org_projection.h"

#include <map>

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

namespace strato::projections {

namespace {

class OrgBulk final : public BulkFold {
 public:
  Status Add(const FoldEvent& fe) override {
    const events::RecordedEvent& e = fe.event;
    if (e.Category() != "org") return Status::Ok();
    domain::EventFields f(e.type, fe.data);
    const std::string id = StreamEntityId(e);
    auto set_member = [&](const std::string& user, const std::string& role) -> Status {
      if (role != "owner" && role != "member") {
        return Status::InvalidArgument("organizations: the role " + role + " at position " +
                                       std::to_string(e.position));
      }
      members_[{id, user}] = role;
      return Status::Ok();
    };
    if (e.type == "OrganizationCreated") {
      std::string org = f.Str("org_id"), name = f.Str("name"), owner = f.Str("owner_id");
      STRATO_RETURN_IF_ERROR(f.status());
      if (orgs_.count(org) || members_.count({org, owner})) {
        return Status::Conflict("organizations: a duplicate at position " +
                                std::to_string(e.position));
      }
      const std::string at = FormatRfc3339(e.recorded_at);
      orgs_[org] = {name, at, at, e.position};
      members_[{org, owner}] = "owner";
    } else if (e.type == "OrganizationRenamed") {
      std::string name = f.Str("name");
      STRATO_RETURN_IF_ERROR(f.status());
      auto it = orgs_.find(id);
      if (it != orgs_.end()) {
        it->second.name = name;
        it->second.updated_at = FormatRfc3339(e.recorded_at);
        it->second.last_position = e.position;
      }
    } else if (e.type == "MemberAdded") {
      std::string user = f.Str("user_id"), role = f.Str("role");
      STRATO_RETURN_IF_ERROR(f.status());
      STRATO_RETURN_IF_ERROR(set_member(user, role));
    } else if (e.type == "MemberRemoved") {
      std::string user = f.Str("user_id");
      STRATO_RETURN_IF_ERROR(f.status());
      members_.erase({id, user});
    } else if (e.type == "OwnershipTransferred") {
      std::string from = f.Str("from_user_id"), to = f.Str("to_user_id");
      STRATO_RETURN_IF_ERROR(f.status());
      STRATO_RETURN_IF_ERROR(set_member(from, "member"));
      STRATO_RETURN_IF_ERROR(set_member(to, "owner"));
    }
    return f.status();
  }
  Status Write(events::PgConnection& tx) override {
    events::PgCopyText orgs, members;
    for (const auto& [id, o] : orgs_) {
      orgs.Add(id).Add(o.name).Add(o.created_at).Add(o.updated_at).Add(o.last_position).EndRow();
    }
    for (const auto& [key, role] : members_)
      members.Add(key.first).Add(key.second).Add(role).EndRow();
    STRATO_RETURN_IF_ERROR(
        tx.CopyIn("COPY organizations (org_id, name, created_at, updated_at, last_position) "
                  "FROM STDIN",
                  orgs.data())
            .WithContext("organizations"));
    return tx.CopyIn("COPY organization_members (org_id, user_id, role) FROM STDIN", members.data())
        .WithContext("organization members");
  }

 private:
  struct Org {
    std::string name, created_at, updated_at;
    int64_t last_position = 0;
  };
  std::map<std::string, Org> orgs_;
  std::map<std::pair<std::string, std::string>, std::string> members_;
};

}  // namespace

std::unique_ptr<BulkFold> OrgProjection::StartBulk() const {
  return std::make_unique<OrgBulk>();
}

}  // namespace strato::projections
