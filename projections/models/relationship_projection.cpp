#include "projections/models/relationship_projection.h"

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

// One tuple (subject_relation '').
constexpr const char* kRemoveSql =
    "DELETE FROM relationship_tuples WHERE entity_type = $1 AND entity_id = $2 AND relation = $3 "
    "AND subject_type = $4 AND subject_id = $5 AND subject_relation = ''";

}  // namespace

namespace {

bool HasTuples(std::string_view category) {
  return category == "vm" || category == "org" || category == "user" || category == "host" ||
         category == "platform";
}

}  // namespace

Result<std::vector<TupleChange>> RelationshipChanges(const events::RecordedEvent& e) {
  if (!HasTuples(e.Category())) return std::vector<TupleChange>{};
  domain::DomainEvent de{e.type, e.data};
  domain::EventFields f(de);
  return RelationshipChanges(e, f);
}

Result<std::vector<TupleChange>> RelationshipChanges(const events::RecordedEvent& e,
                                                     domain::EventFields& f) {
  std::vector<TupleChange> out;
  const std::string_view category = e.Category();
  if (!HasTuples(category)) return out;
  const std::string id = StreamEntityId(e);
  using K = TupleChange::Kind;
  auto add = [&](std::string entity_type, std::string entity_id, std::string relation,
                 std::string subject_type, std::string subject_id) {
    out.push_back({K::kAdd, std::move(entity_type), std::move(entity_id), std::move(relation),
                   std::move(subject_type), std::move(subject_id)});
  };
  auto remove_member = [&](std::string user_id) {
    out.push_back({K::kRemoveMember, "organization", id, "", "user", std::move(user_id)});
  };
  if (category == "user") {
    if (e.type == "UserRegistered") {
      const std::string user = f.Str("user_id");
      add("user", user, "self", "user", user);
    }
  } else if (category == "host") {
    if (e.type == "HostRegistered") {
      const std::string host = f.Str("host_id");
      add("host", host, "self", "host", host);
      add("host", host, "platform", "platform", "strato");  // the one installation
    }
  } else if (category == "platform") {
    // The stream's id is the platform's ("strato"); the role is checked by the aggregate.
    if (e.type == "PlatformRoleGranted") {
      add("platform", id, f.Str("role"), "user", f.Str("user_id"));
    } else if (e.type == "PlatformRoleRevoked") {
      out.push_back({K::kRemove, "platform", id, f.Str("role"), "user", f.Str("user_id")});
    }
  } else if (category == "vm") {
    if (e.type == "VmCreated") {
      const std::string vm = f.Str("vm_id");
      add("vm", vm, "owner", "user", f.Str("owner_id"));
      add("vm", vm, "organization", "organization", f.Str("org_id"));
    } else if (e.type == "VmDeleteRequested") {
      out.push_back({K::kRemoveEntity, "vm", id, "", "", ""});
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
  STRATO_RETURN_IF_ERROR(f.status());
  return out;
}

Status RelationshipProjection::Plan(const events::RecordedEvent& e,
                                    std::vector<events::PgStatement>& out) const {
  auto changes = RelationshipChanges(e);
  if (!changes.ok()) return changes.status();
  for (TupleChange& c : *changes) {
    switch (c.kind) {
      case TupleChange::Kind::kAdd:
        out.push_back({name_ + "_add",
                       kAddSql,
                       {std::move(c.entity_type), std::move(c.entity_id), std::move(c.relation),
                        std::move(c.subject_type), std::move(c.subject_id)}});
        break;
      case TupleChange::Kind::kRemoveEntity:
        out.push_back({name_ + "_remove_entity", kRemoveEntitySql, {c.entity_type, c.entity_id}});
        break;
      case TupleChange::Kind::kRemoveMember:
        out.push_back({name_ + "_remove_member", kRemoveMemberSql, {c.entity_id, c.subject_id}});
        break;
      case TupleChange::Kind::kRemove:
        out.push_back({name_ + "_remove",
                       kRemoveSql,
                       {std::move(c.entity_type), std::move(c.entity_id), std::move(c.relation),
                        std::move(c.subject_type), std::move(c.subject_id)}});
        break;
    }
  }
  return Status::Ok();
}

}  // namespace strato::projections

namespace strato::projections {

namespace {

// The tuples as a sorted set (subject_relation is always ''), so an entity's tuples are a range.
class RelationshipBulk final : public BulkFold {
 public:
  Status Add(const FoldEvent& fe) override {
    domain::EventFields f(fe.event.type, fe.data);
    auto changes = RelationshipChanges(fe.event, f);
    if (!changes.ok()) return changes.status();
    for (TupleChange& c : *changes) {
      switch (c.kind) {
        case TupleChange::Kind::kAdd:
          tuples_.insert({std::move(c.entity_type), std::move(c.entity_id), std::move(c.relation),
                          std::move(c.subject_type), std::move(c.subject_id)});
          break;
        case TupleChange::Kind::kRemoveEntity: {
          auto it = tuples_.lower_bound({c.entity_type, c.entity_id, "", "", ""});
          while (it != tuples_.end() && std::get<0>(*it) == c.entity_type &&
                 std::get<1>(*it) == c.entity_id) {
            it = tuples_.erase(it);
          }
          break;
        }
        case TupleChange::Kind::kRemoveMember:
          tuples_.erase({"organization", c.entity_id, "owner", "user", c.subject_id});
          tuples_.erase({"organization", c.entity_id, "member", "user", c.subject_id});
          break;
        case TupleChange::Kind::kRemove:
          tuples_.erase({c.entity_type, c.entity_id, c.relation, c.subject_type, c.subject_id});
          break;
      }
    }
    return Status::Ok();
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
