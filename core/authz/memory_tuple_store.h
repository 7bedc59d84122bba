// MemoryTupleStore: relationship tuples held in memory, indexed by entity and by subject; the
// TupleReader the engine uses in Strato (fed from the relationship_tuples read model).
//
// Thread-safety: a std::shared_mutex guards everything. Any number of threads may check and look
// up at once (each request holds the shared lock for its duration); Apply() takes the exclusive
// lock, so a batch becomes visible all at once — a reader sees the store before or after a
// batch, never half of it. Ids are interned and never forgotten (a deleted tuple's id strings
// and its index slot stay), which keeps symbols stable for the life of the store; rebuild the
// store (FromRows) if churn ever makes that matter.
// Ownership: the store shares the compiled Schema (shared_ptr) and owns all tuple data.
#pragma once

#include <atomic>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/authz/flat_index.h"
#include "core/authz/tuple.h"
#include "core/authz/tuple_reader.h"
#include "core/authz/value.h"

namespace strato::authz {

struct StoreOptions {
  // Refuse tuples whose subject type the relation does not allow (Permify's validator does).
  // Permify's engine tests write such tuples straight to storage; the conformance runner turns
  // this off to reproduce them.
  bool check_subject_types = true;
};

// A batch of changes applied atomically: deletes, then whole-entity deletes, then inserts.
struct TupleBatch {
  std::vector<Tuple> deletes;
  std::vector<std::pair<std::string, std::string>> delete_entities;  // (type, id): all its tuples
  std::vector<Tuple> inserts;
};

// Checks a tuple against the schema: the entity type, the relation (a relation, not a
// permission), the subject type and subject relation exist; with check_subject_type, also that
// the relation allows that subject type.
Status ValidateTuple(const Schema& schema, const Tuple& t, bool check_subject_type = true);

class MemoryTupleStore final : public TupleReader {
 public:
  explicit MemoryTupleStore(std::shared_ptr<const Schema> schema, StoreOptions options = {});

  // Builds a store from rows (e.g. SELECT * FROM relationship_tuples).
  static Result<std::unique_ptr<MemoryTupleStore>> FromRows(std::shared_ptr<const Schema> schema,
                                                            std::span<const Tuple> rows,
                                                            StoreOptions options = {});

  // Validates every tuple first; on any error nothing changes and the Status names the tuple.
  // Inserting a tuple that exists and deleting one that does not are no-ops.
  Status Apply(const TupleBatch& batch);
  Status Write(std::span<const Tuple> inserts);
  Status Delete(std::span<const Tuple> deletes);

  // ABAC: sets attribute values ("doc:1$is_public|boolean:true"), replacing earlier values. The
  // attribute must be declared on the entity with the same type; all or nothing.
  Status WriteAttributes(std::span<const AttributeText> attributes);

  // A copy with the same schema and tuples (for contextual tuples in tests and tools).
  std::unique_ptr<MemoryTupleStore> Clone() const;

  size_t size() const;
  // Counts changes: every Apply, Write, Delete and WriteAttributes raises it (under the write
  // lock, before changing anything). An answer computed after reading revision r is current
  // while revision() is still r — what callers that keep answers (TupleFeed) rely on.
  uint64_t revision() const { return revision_.load(std::memory_order_acquire); }
  const std::shared_ptr<const Schema>& schema_ptr() const { return schema_; }

  // TupleReader
  const Schema& schema() const override { return *schema_; }
  void LockShared() const override { mu_.lock_shared(); }
  void UnlockShared() const override { mu_.unlock_shared(); }
  std::optional<Sym> FindId(std::string_view id) const override;
  std::string_view IdText(Sym id) const override { return syms_.Text(id); }
  bool Contains(Sym entity_id, MemberId relation, const SubjectRef& subject) const override;
  RelationView Relation(Sym entity_id, MemberId relation) const override;
  std::span<const Referrer> Referrers(TypeId type, Sym id) const override;
  const Value* Attribute(Sym entity_id, MemberId attribute) const override;
  std::span<const Sym> KnownIds(TypeId type) const override;

 private:
  struct Key {  // one tuple in ids
    Sym entity_id;
    MemberId relation;
    TypeId subject_type;
    Sym subject_id;
    MemberId subject_relation;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Bucket {
    std::vector<SubjectRef> all;
    std::vector<SubjectRef> sets;
  };
  struct Resolved {
    Key key;
    bool known = true;  // false: an id was never interned, so a delete has nothing to do
  };

  static uint64_t Pack(uint32_t hi, uint32_t lo) { return (uint64_t{hi} << 32) | lo; }
  Result<Key> Resolve(const Tuple& t, bool intern, bool& known);
  Sym Intern(std::string_view id);
  void InsertLocked(const Key& k);
  void SyncSlotLocked(uint64_t key);
  void NoteKnownLocked(TypeId type, Sym id);
  void EraseLocked(const Key& k);
  Status ApplyLocked(const TupleBatch& batch);

  std::shared_ptr<const Schema> schema_;
  StoreOptions options_;
  mutable std::shared_mutex mu_;
  std::atomic<uint64_t> revision_{0};
  internal::SymbolTable syms_;
  std::unordered_set<Key, KeyHash> tuples_;
  // (entity id, relation) -> index into buckets_; (subject type, id) -> index into referrers_.
  // Emptied buckets stay (the indexes are insert-only); they cost a slot, not a lookup.
  // A relation with a single subject (the common case: a VM's owner, its organization) is served
  // from the index slot itself; buckets_ always holds every subject.
  struct SingleSubject {
    uint32_t count = 0;
    SubjectRef one;
  };
  internal::FlatIndex64T<SingleSubject> entity_index_;
  std::vector<Bucket> buckets_;
  internal::FlatIndex64 subject_index_;
  std::vector<std::vector<Referrer>> referrers_;
  internal::FlatIndex64 attribute_index_;  // (entity id, attribute) -> index into attributes_
  std::vector<Value> attributes_;
  internal::FlatIndex64 known_index_;  // (type, id) seen
  std::vector<std::vector<Sym>> known_by_type_;
};

}  // namespace strato::authz
