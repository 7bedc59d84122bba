// TupleReader: the interface through which the engine reads relationship tuples.
//
// Tuples are addressed by integer ids: entity types and relations by the ids of the Schema the
// reader was built for, entity and subject ids by symbols (Sym) the reader interns. The engine
// calls LockShared() once per request and UnlockShared() when done; every span returned in
// between stays valid until UnlockShared(). Implementations must allow many threads to read at
// once. The reader owns its data; callers borrow spans.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/authz/schema.h"
#include "core/authz/value.h"

namespace strato::authz {

// An interned id string ("vm-42", "1").
using Sym = uint32_t;

// The subject of a tuple: "user:7" (relation kNoMember) or "organization:2#member".
struct SubjectRef {
  TypeId type = 0;
  Sym id = 0;
  MemberId relation = kNoMember;  // a member of `type`

  bool operator==(const SubjectRef&) const = default;
};

// A tuple seen from its subject: entity (relation's owner type):entity_id#relation@<subject>.
struct Referrer {
  MemberId relation = kNoMember;  // the entity's relation; its owner is the entity type
  Sym entity_id = 0;
  MemberId subject_relation = kNoMember;

  bool operator==(const Referrer&) const = default;
};

// The tuples of one entity and relation.
struct RelationView {
  std::span<const SubjectRef> all;   // every subject
  std::span<const SubjectRef> sets;  // only subject sets (relation != kNoMember)
};

class TupleReader {
 public:
  virtual ~TupleReader() = default;

  virtual const Schema& schema() const = 0;

  virtual void LockShared() const = 0;
  virtual void UnlockShared() const = 0;

  // The symbol of an id, or nullopt when no tuple has ever named it.
  virtual std::optional<Sym> FindId(std::string_view id) const = 0;
  virtual std::string_view IdText(Sym id) const = 0;

  // entity (relation's owner):entity_id#relation@subject exists.
  virtual bool Contains(Sym entity_id, MemberId relation, const SubjectRef& subject) const = 0;
  virtual RelationView Relation(Sym entity_id, MemberId relation) const = 0;
  // Every tuple whose subject is type:id, with any subject relation.
  virtual std::span<const Referrer> Referrers(TypeId type, Sym id) const = 0;

  // ABAC. The value of an attribute (a member of kind kAttribute) of the attribute's owner
  // type:entity_id, or null when it has none.
  virtual const Value* Attribute(Sym entity_id, MemberId attribute) const { return nullptr; }
  // Every id of the type the reader has seen (as entity, subject or attribute holder). Lookups
  // use it as the candidate set when the schema has attributes or rules, since an attribute can
  // grant without any tuple leading to the subject.
  virtual std::span<const Sym> KnownIds(TypeId type) const { return {}; }
};

// Holds a reader's shared lock for a scope.
class SharedReadLock {
 public:
  explicit SharedReadLock(const TupleReader& r) : r_(r) { r_.LockShared(); }
  ~SharedReadLock() { r_.UnlockShared(); }
  SharedReadLock(const SharedReadLock&) = delete;
  SharedReadLock& operator=(const SharedReadLock&) = delete;

 private:
  const TupleReader& r_;
};

}  // namespace strato::authz
