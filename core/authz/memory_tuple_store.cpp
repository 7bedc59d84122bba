#include "core/authz/memory_tuple_store.h"

#include <algorithm>
#include <mutex>

namespace strato::authz {

namespace {

Status TupleError(const Tuple& t, std::string_view why) {
  return Status::InvalidArgument("relationship " + ToString(t) + ": " + std::string(why));
}

template <typename T>
void EraseOne(std::vector<T>& v, const T& value) {
  auto it = std::find(v.begin(), v.end(), value);
  if (it != v.end()) {
    *it = v.back();
    v.pop_back();
  }
}

}  // namespace

Status ValidateTuple(const Schema& schema, const Tuple& t, bool check_subject_type) {
  auto type = schema.FindType(t.entity_type);
  if (!type) return TupleError(t, "entity '" + t.entity_type + "' is not defined in the schema");
  if (t.entity_id.empty() || t.subject_id.empty()) return TupleError(t, "an id is empty");
  auto rel = schema.FindMember(*type, t.relation);
  if (!rel || schema.member(*rel).kind != MemberKind::kRelation) {
    return TupleError(
        t, "relation '" + t.relation + "' is not defined on entity '" + t.entity_type + "'");
  }
  auto subject_type = schema.FindType(t.subject_type);
  if (!subject_type) {
    return TupleError(t, "subject entity '" + t.subject_type + "' is not defined in the schema");
  }
  MemberId subject_rel = kNoMember;
  if (!t.subject_relation.empty() && t.subject_relation != "...") {
    auto sr = schema.FindMember(*subject_type, t.subject_relation);
    if (!sr) {
      return TupleError(t, "subject relation '" + t.subject_relation +
                               "' is not defined on entity '" + t.subject_type + "'");
    }
    subject_rel = *sr;
  }
  if (check_subject_type) {
    bool allowed = false;
    for (const AllowedSubject& a : schema.member(*rel).allowed) {
      if (a.type == *subject_type && a.relation == subject_rel) allowed = true;
    }
    if (!allowed) {
      std::string subject = t.subject_type;
      if (subject_rel != kNoMember) subject += "#" + t.subject_relation;
      return TupleError(t, "relation '" + t.relation + "' of entity '" + t.entity_type +
                               "' does not allow subjects of type '" + subject + "'");
    }
  }
  return Status::Ok();
}

size_t MemoryTupleStore::KeyHash::operator()(const Key& k) const {
  uint64_t h = 0x9E3779B97F4A7C15ull;
  for (uint32_t v : {k.entity_id, k.relation, k.subject_type, k.subject_id, k.subject_relation}) {
    h ^= v;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 32;
  }
  return static_cast<size_t>(h);
}

MemoryTupleStore::MemoryTupleStore(std::shared_ptr<const Schema> schema, StoreOptions options)
    : schema_(std::move(schema)), options_(options) {
  known_by_type_.resize(schema_->entities().size());
}

void MemoryTupleStore::NoteKnownLocked(TypeId type, Sym id) {
  bool inserted = false;
  known_index_.FindOrInsert(Pack(type, id), [&] {
    inserted = true;
    return 0u;
  });
  if (inserted) known_by_type_[type].push_back(id);
}

Status MemoryTupleStore::WriteAttributes(std::span<const AttributeText> attributes) {
  std::unique_lock lock(mu_);
  revision_.fetch_add(1, std::memory_order_acq_rel);
  const Schema& s = *schema_;
  for (const AttributeText& a : attributes) {
    const std::string where = "attribute " + a.entity_type + ":" + a.entity_id + "$" + a.name;
    auto type = s.FindType(a.entity_type);
    if (!type) {
      return Status::InvalidArgument(where + ": entity '" + a.entity_type +
                                     "' is not defined in the schema");
    }
    auto m = s.FindMember(*type, a.name);
    if (!m || s.member(*m).kind != MemberKind::kAttribute) {
      return Status::InvalidArgument(where + ": '" + a.name + "' is not an attribute of entity '" +
                                     a.entity_type + "'");
    }
    if (s.member(*m).attribute_type != a.type) {
      return Status::InvalidArgument(where + ": the value is " + a.type + " but the attribute is " +
                                     s.member(*m).attribute_type);
    }
  }
  for (const AttributeText& a : attributes) {
    const TypeId type = *s.FindType(a.entity_type);
    const MemberId m = *s.FindMember(type, a.name);
    const Sym id = Intern(a.entity_id);
    NoteKnownLocked(type, id);
    const uint32_t slot = attribute_index_.FindOrInsert(Pack(id, m), [&] {
      attributes_.emplace_back();
      return static_cast<uint32_t>(attributes_.size() - 1);
    });
    attributes_[slot] = a.value;
  }
  return Status::Ok();
}

const Value* MemoryTupleStore::Attribute(Sym entity_id, MemberId attribute) const {
  const uint32_t slot = attribute_index_.Find(Pack(entity_id, attribute));
  if (slot == internal::FlatIndex64::kMissing) return nullptr;
  const Value& v = attributes_[slot];
  return v.kind == Value::Kind::kNull ? nullptr : &v;
}

std::span<const Sym> MemoryTupleStore::KnownIds(TypeId type) const {
  if (type >= known_by_type_.size()) return {};
  return known_by_type_[type];
}

Result<std::unique_ptr<MemoryTupleStore>> MemoryTupleStore::FromRows(
    std::shared_ptr<const Schema> schema, std::span<const Tuple> rows, StoreOptions options) {
  auto store = std::make_unique<MemoryTupleStore>(std::move(schema), options);
  STRATO_RETURN_IF_ERROR(store->Write(rows));
  return store;
}

std::optional<Sym> MemoryTupleStore::FindId(std::string_view id) const {
  const uint32_t s = syms_.Find(id);
  if (s == internal::SymbolTable::kMissing) return std::nullopt;
  return s;
}

Sym MemoryTupleStore::Intern(std::string_view id) {
  return syms_.Intern(id);
}

Result<MemoryTupleStore::Key> MemoryTupleStore::Resolve(const Tuple& t, bool intern, bool& known) {
  STRATO_RETURN_IF_ERROR(ValidateTuple(*schema_, t, intern && options_.check_subject_types));
  const Schema& s = *schema_;
  Key k{};
  k.relation = *s.FindMember(*s.FindType(t.entity_type), t.relation);
  k.subject_type = *s.FindType(t.subject_type);
  k.subject_relation = kNoMember;
  if (!t.subject_relation.empty() && t.subject_relation != "...") {
    k.subject_relation = *s.FindMember(k.subject_type, t.subject_relation);
  }
  known = true;
  if (intern) {
    k.entity_id = Intern(t.entity_id);
    k.subject_id = Intern(t.subject_id);
  } else {
    auto e = FindId(t.entity_id);
    auto sub = FindId(t.subject_id);
    if (!e || !sub) {
      known = false;
      return k;
    }
    k.entity_id = *e;
    k.subject_id = *sub;
  }
  return k;
}

void MemoryTupleStore::InsertLocked(const Key& k) {
  if (!tuples_.insert(k).second) return;
  const SubjectRef subject{k.subject_type, k.subject_id, k.subject_relation};
  const uint32_t b = entity_index_.FindOrInsert(Pack(k.entity_id, k.relation), [&] {
    buckets_.emplace_back();
    return static_cast<uint32_t>(buckets_.size() - 1);
  });
  buckets_[b].all.push_back(subject);
  if (subject.relation != kNoMember) buckets_[b].sets.push_back(subject);
  SyncSlotLocked(Pack(k.entity_id, k.relation));
  const uint32_t r = subject_index_.FindOrInsert(Pack(k.subject_type, k.subject_id), [&] {
    referrers_.emplace_back();
    return static_cast<uint32_t>(referrers_.size() - 1);
  });
  referrers_[r].push_back(Referrer{k.relation, k.entity_id, k.subject_relation});
  NoteKnownLocked(schema_->member(k.relation).owner, k.entity_id);
  NoteKnownLocked(k.subject_type, k.subject_id);
}

void MemoryTupleStore::SyncSlotLocked(uint64_t key) {
  auto* slot = entity_index_.FindSlot(key);
  if (slot == nullptr) return;
  const Bucket& b = buckets_[slot->value];
  slot->extra.count = static_cast<uint32_t>(b.all.size());
  if (b.all.size() == 1) slot->extra.one = b.all[0];
}

void MemoryTupleStore::EraseLocked(const Key& k) {
  if (tuples_.erase(k) == 0) return;
  const SubjectRef subject{k.subject_type, k.subject_id, k.subject_relation};
  const uint32_t b = entity_index_.Find(Pack(k.entity_id, k.relation));
  if (b != internal::FlatIndex64::kMissing) {
    EraseOne(buckets_[b].all, subject);
    EraseOne(buckets_[b].sets, subject);
    SyncSlotLocked(Pack(k.entity_id, k.relation));
  }
  const uint32_t r = subject_index_.Find(Pack(k.subject_type, k.subject_id));
  if (r != internal::FlatIndex64::kMissing) {
    EraseOne(referrers_[r], Referrer{k.relation, k.entity_id, k.subject_relation});
  }
}

Status MemoryTupleStore::ApplyLocked(const TupleBatch& batch) {
  // Validate everything before changing anything, so a bad batch leaves the store as it was.
  for (const Tuple& t : batch.deletes) {
    STRATO_RETURN_IF_ERROR(ValidateTuple(*schema_, t, false));
  }
  for (const auto& [type, id] : batch.delete_entities) {
    if (!schema_->FindType(type)) {
      return Status::InvalidArgument("cannot delete the relationships of " + type + ":" + id +
                                     ": entity '" + type + "' is not defined in the schema");
    }
  }
  for (const Tuple& t : batch.inserts) {
    STRATO_RETURN_IF_ERROR(ValidateTuple(*schema_, t, options_.check_subject_types));
  }
  for (const Tuple& t : batch.deletes) {
    bool known = false;
    auto k = Resolve(t, false, known);
    if (k.ok() && known) EraseLocked(*k);
  }
  for (const auto& [type, id] : batch.delete_entities) {
    auto sym = FindId(id);
    if (!sym) continue;
    const TypeId t = *schema_->FindType(type);
    for (MemberId m : schema_->entity(t).members) {
      const uint32_t b = entity_index_.Find(Pack(*sym, m));
      if (b == internal::FlatIndex64::kMissing) continue;
      const std::vector<SubjectRef> subjects = buckets_[b].all;
      for (const SubjectRef& s : subjects) {
        EraseLocked(Key{*sym, m, s.type, s.id, s.relation});
      }
    }
  }
  for (const Tuple& t : batch.inserts) {
    bool known = false;
    auto k = Resolve(t, true, known);
    if (!k.ok()) return k.status();  // cannot happen: validated above
    InsertLocked(*k);
  }
  return Status::Ok();
}

Status MemoryTupleStore::Apply(const TupleBatch& batch) {
  std::unique_lock lock(mu_);
  revision_.fetch_add(1, std::memory_order_acq_rel);
  return ApplyLocked(batch);
}

Status MemoryTupleStore::Write(std::span<const Tuple> inserts) {
  TupleBatch batch;
  batch.inserts.assign(inserts.begin(), inserts.end());
  return Apply(batch);
}

Status MemoryTupleStore::Delete(std::span<const Tuple> deletes) {
  TupleBatch batch;
  batch.deletes.assign(deletes.begin(), deletes.end());
  return Apply(batch);
}

std::unique_ptr<MemoryTupleStore> MemoryTupleStore::Clone() const {
  auto copy = std::make_unique<MemoryTupleStore>(schema_, options_);
  std::shared_lock lock(mu_);
  copy->syms_ = syms_;
  copy->tuples_ = tuples_;
  copy->entity_index_ = entity_index_;
  copy->buckets_ = buckets_;
  copy->subject_index_ = subject_index_;
  copy->referrers_ = referrers_;
  copy->attribute_index_ = attribute_index_;
  copy->attributes_ = attributes_;
  copy->known_index_ = known_index_;
  copy->known_by_type_ = known_by_type_;
  return copy;
}

size_t MemoryTupleStore::size() const {
  std::shared_lock lock(mu_);
  return tuples_.size();
}

bool MemoryTupleStore::Contains(Sym entity_id, MemberId relation, const SubjectRef& subject) const {
  return tuples_.count(Key{entity_id, relation, subject.type, subject.id, subject.relation}) != 0;
}

RelationView MemoryTupleStore::Relation(Sym entity_id, MemberId relation) const {
  const auto* slot = entity_index_.FindSlot(Pack(entity_id, relation));
  if (slot == nullptr || slot->extra.count == 0) return {};
  if (slot->extra.count == 1) {
    const std::span<const SubjectRef> one(&slot->extra.one, 1);
    return {one, slot->extra.one.relation != kNoMember ? one : std::span<const SubjectRef>()};
  }
  const Bucket& b = buckets_[slot->value];
  return {b.all, b.sets};
}

std::span<const Referrer> MemoryTupleStore::Referrers(TypeId type, Sym id) const {
  const uint32_t r = subject_index_.Find(Pack(type, id));
  if (r == internal::FlatIndex64::kMissing) return {};
  return referrers_[r];
}

}  // namespace strato::authz
