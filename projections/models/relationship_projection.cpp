#include "projections/models/relationship_projection.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

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

// The tuples grouped by entity (subject_relation is always ''): a hash map from
// "entity_type\0entity_id" to the entity's few (relation, subject_type, subject_id), which a
// VM's, user's or organization's changes touch without comparing whole tuples. Written sorted
// by the primary key's columns (byte order, as their "C" collation sorts), so that
// PostgreSQL's sort for the primary key finds its input in order.
class RelationshipBulk final : public BulkFold {
 public:
  Status Add(const FoldEvent& fe) override {
    const events::RecordedEvent& e = fe.event;
    // Most of a log is VM lifecycle events that change no tuple.
    if (e.Category() == "vm" && e.type != "VmCreated" && e.type != "VmDeleteRequested") {
      return Status::Ok();
    }
    domain::EventFields f(e.type, fe.data);
    auto changes = RelationshipChanges(e, f);
    if (!changes.ok()) return changes.status();
    for (TupleChange& c : *changes) {
      switch (c.kind) {
        case TupleChange::Kind::kAdd: {
          std::vector<Rel>& rels = entities_[Key(c.entity_type, c.entity_id)];
          Rel r{std::move(c.relation), std::move(c.subject_type), std::move(c.subject_id)};
          if (std::find(rels.begin(), rels.end(), r) == rels.end()) {
            if (rels.empty()) rels.reserve(2);
            rels.push_back(std::move(r));
          }
          break;
        }
        case TupleChange::Kind::kRemoveEntity:
          entities_.erase(Key(c.entity_type, c.entity_id));
          break;
        case TupleChange::Kind::kRemoveMember:
          Erase("organization", c.entity_id, [&](const Rel& r) {
            return (r.relation == "owner" || r.relation == "member") && r.subject_type == "user" &&
                   r.subject_id == c.subject_id;
          });
          break;
        case TupleChange::Kind::kRemove:
          Erase(c.entity_type, c.entity_id, [&](const Rel& r) {
            return r.relation == c.relation && r.subject_type == c.subject_type &&
                   r.subject_id == c.subject_id;
          });
          break;
      }
    }
    return Status::Ok();
  }
  Status Write(events::PgConnection& tx) override {
    std::vector<std::pair<const std::string*, std::vector<Rel>*>> sorted;
    sorted.reserve(entities_.size());
    for (auto& [key, rels] : entities_) {
      if (!rels.empty()) sorted.emplace_back(&key, &rels);
    }
    std::sort(sorted.begin(), sorted.end(),
              [](const auto& a, const auto& b) { return *a.first < *b.first; });
    events::PgCopyText rows;
    for (const auto& [key, rels] : sorted) {
      const size_t zero = key->find('\0');
      const std::string_view type(key->data(), zero);
      const std::string_view id(key->data() + zero + 1, key->size() - zero - 1);
      if (rels->size() > 1) std::sort(rels->begin(), rels->end());
      for (const Rel& r : *rels) {
        rows.Add(type)
            .Add(id)
            .Add(r.relation)
            .Add(r.subject_type)
            .Add(r.subject_id)
            .Add(std::string_view())
            .EndRow();
      }
    }
    return tx
        .CopyIn(
            "COPY relationship_tuples (entity_type, entity_id, relation, subject_type, "
            "subject_id, subject_relation) FROM STDIN",
            rows.data())
        .WithContext("relationship tuples");
  }

 private:
  struct Rel {
    std::string relation, subject_type, subject_id;
    bool operator==(const Rel&) const = default;
    auto operator<=>(const Rel&) const = default;
  };
  // Byte order of the key is the order of (entity_type, entity_id): '\0' sorts first, and
  // neither holds one (PostgreSQL text cannot).
  static std::string Key(std::string_view type, std::string_view id) {
    std::string k;
    k.reserve(type.size() + 1 + id.size());
    k.append(type).push_back('\0');
    k.append(id);
    return k;
  }
  template <typename Match>
  void Erase(std::string_view type, std::string_view id, Match match) {
    auto it = entities_.find(Key(type, id));
    if (it == entities_.end()) return;
    std::erase_if(it->second, match);
    if (it->second.empty()) entities_.erase(it);
  }

  std::unordered_map<std::string, std::vector<Rel>> entities_;
};

}  // namespace

std::unique_ptr<BulkFold> RelationshipProjection::StartBulk() const {
  return std::make_unique<RelationshipBulk>();
}

}  // namespace strato::projections
