#include "projections/relationship_projection.h"

#include <set>
#include <tuple>

#include "core/domain/domain_event.h"

namespace strato::projections {

namespace {

// entity_type, entity_id, relation, subject_type, subject_id; subject_relation is ''.
constexpr const char* kAddSql =
    "INSERT INTO relationship_tuples (entity_type, entity_id, relation, subject_type, "
    "subject_id) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";

constexpr const char* kRemoveEntitySql =
    "DELETE FROM relationship_tuples WHERE entity_type = $1 AND entity_id = $2";

// The user's owner and member tuples of an organization.
constexpr const char* kRemoveMemberSql =
    "DELETE FROM relationship_tuples WHERE entity_type = 'organization' AND entity_id = $1 "
    "AND relation IN ('owner', 'member') AND subject_type = 'user' AND subject_id = $2 "
    "AND subject_relation = ''";

}  // namespace

Status RelationshipProjection::Plan(const events::RecordedEvent& e,
                                    std::vector<events::PgStatement>& out) const {
  const std::string_view category = e.Category();
  if (category != "vm" && category != "org") return Status::Ok();
  domain::DomainEvent de{e.type, e.data};
  domain::EventFields f(de);
  const std::string id = StreamEntityId(e);
  auto add = [&](const std::string& entity_type, const std::string& entity_id,
                 const std::string& relation, const std::string& subject_type,
                 const std::string& subject_id) {
    out.push_back(
        {name_ + "_add", kAddSql, {entity_type, entity_id, relation, subject_type, subject_id}});
  };
  auto remove_member = [&](const std::string& user_id) {
    out.push_back({name_ + "_remove_member", kRemoveMemberSql, {id, user_id}});
  };

  if (category == "vm") {
    if (e.type == "VmCreated") {
      const std::string vm = f.Str("vm_id");
      add("vm", vm, "owner", "user", f.Str("owner_id"));
      add("vm", vm, "organization", "organization", f.Str("org_id"));
    } else if (e.type == "VmDeleteRequested") {
      out.push_back({name_ + "_remove_entity", kRemoveEntitySql, {"vm", id}});
    }
  } else if (e.type == "OrganizationCreated") {
    add("organization", f.Str("org_id"), "owner", "user", f.Str("owner_id"));
  } else if (e.type == "MemberAdded") {
    const std::string user = f.Str("user_id");
    remove_member(user);  // one role per organization
    add("organization", id, f.Str("role"), "user", user);
  } else if (e.type == "MemberRemoved") {
    remove_member(f.Str("user_id"));
  } else if (e.type == "OwnershipTransferred") {
    const std::string from = f.Str("from_user_id"), to = f.Str("to_user_id");
    remove_member(from);
    remove_member(to);
    add("organization", id, "member", "user", from);
    add("organization", id, "owner", "user", to);
  }
  return f.status();
}

}  // namespace strato::projections

namespace strato::projections {

namespace {

// The tuples as a sorted set (subject_relation is always ''), so an entity's tuples are a range.
class RelationshipBulk final : public BulkFold {
 public:
  Status Add(const events::RecordedEvent& e) override {
    const std::string_view category = e.Category();
    if (category != "vm" && category != "org") return Status::Ok();
    domain::DomainEvent de{e.type, e.data};
    domain::EventFields f(de);
    const std::string id = StreamEntityId(e);
    auto remove_member = [&](const std::string& user) {
      tuples_.erase({"organization", id, "owner", "user", user});
      tuples_.erase({"organization", id, "member", "user", user});
    };
    if (category == "vm") {
      if (e.type == "VmCreated") {
        std::string vm = f.Str("vm_id"), owner = f.Str("owner_id"), org = f.Str("org_id");
        STRATO_RETURN_IF_ERROR(f.status());
        tuples_.insert({"vm", vm, "owner", "user", owner});
        tuples_.insert({"vm", vm, "organization", "organization", org});
      } else if (e.type == "VmDeleteRequested") {
        auto it = tuples_.lower_bound({"vm", id, "", "", ""});
        while (it != tuples_.end() && std::get<0>(*it) == "vm" && std::get<1>(*it) == id) {
          it = tuples_.erase(it);
        }
      }
    } else if (e.type == "OrganizationCreated") {
      std::string org = f.Str("org_id"), owner = f.Str("owner_id");
      STRATO_RETURN_IF_ERROR(f.status());
      tuples_.insert({"organization", org, "owner", "user", owner});
    } else if (e.type == "MemberAdded") {
      std::string user = f.Str("user_id"), role = f.Str("role");
      STRATO_RETURN_IF_ERROR(f.status());
      remove_member(user);
      tuples_.insert({"organization", id, role, "user", user});
    } else if (e.type == "MemberRemoved") {
      std::string user = f.Str("user_id");
      STRATO_RETURN_IF_ERROR(f.status());
      remove_member(user);
    } else if (e.type == "OwnershipTransferred") {
      std::string from = f.Str("from_user_id"), to = f.Str("to_user_id");
      STRATO_RETURN_IF_ERROR(f.status());
      remove_member(from);
      remove_member(to);
      tuples_.insert({"organization", id, "member", "user", from});
      tuples_.insert({"organization", id, "owner", "user", to});
    }
    return f.status();
  }
  Status Write(events::PgConnection& tx) override {
    events::PgCopyText rows;
    for (const Tuple& t : tuples_) {
      rows.Add(std::get<0>(t))
          .Add(std::get<1>(t))
          .Add(std::get<2>(t))
          .Add(std::get<3>(t))
          .Add(std::get<4>(t))
          .Add("")
          .EndRow();
    }
    return tx
        .CopyIn(
            "COPY relationship_tuples (entity_type, entity_id, relation, subject_type, "
            "subject_id, subject_relation) FROM STDIN",
            rows.data())
        .WithContext("relationship tuples");
  }

 private:
  using Tuple = std::tuple<std::string, std::string, std::string, std::string, std::string>;
  std::set<Tuple> tuples_;
};

}  // namespace

std::unique_ptr<BulkFold> RelationshipProjection::StartBulk() const {
  return std::make_unique<RelationshipBulk>();
}

}  // namespace strato::projections
