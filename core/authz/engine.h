// Engine: answers Permify-style authorization questions over a TupleReader.
//
//   Check           may subject S do P on entity E? (P may be a permission or a relation)
//   LookupEntities  ids of entities of type T on which S has P
//   LookupSubjects  ids of subjects of type U (optionally U#relation) that have P on E
//
// Semantics follow Permify: a relation holds for S when a tuple names S exactly, or names a
// subject set (organization:2#member) that S belongs to; `a.b` evaluates b on every subject of
// relation a; an entity's own subject set always has the relation ("group:1#member" is a member
// of group:1). A branch that would revisit an (entity, relation) already being evaluated on the
// current path counts as "no" (cycles are safe); exceeding the depth limit is an error, never a
// silent "no". Errors inside `or` give way to another branch that says yes; inside `and`, to a
// branch that says no. Boolean attributes and rule calls (ABAC) read attribute values from the
// reader and context.data from the request; a rule outside the CEL subset (cel.h) is an error.
//
// Thread-safety: an Engine is immutable; any number of threads may call it at once. It borrows
// the TupleReader (which must outlive it) and holds the reader's shared lock for each request.
// The check path allocates nothing unless it runs a rule.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/authz/tuple_reader.h"
#include "core/authz/value.h"
#include "core/status.h"

namespace strato::authz {

struct EngineOptions {
  // Nested relation/permission evaluations allowed per request when a request names none.
  int default_depth = 32;
};

// The engine never allows more than this, whatever a request asks.
inline constexpr int kMaxDepth = 256;

struct CheckRequest {
  std::string_view entity_type;       // "vm"
  std::string_view entity_id;         // "42"
  std::string_view permission;        // "start" (a permission or a relation)
  std::string_view subject_type;      // "user"
  std::string_view subject_id;        // "7"
  std::string_view subject_relation;  // "" for a plain subject; "member" for organization:2#member
  int depth = 0;                      // 0: EngineOptions::default_depth
  const ContextData* context = nullptr;  // ABAC: context.data for rules; borrowed
};

struct LookupEntitiesRequest {
  std::string_view entity_type;  // ids of this type are returned
  std::string_view permission;
  std::string_view subject_type;
  std::string_view subject_id;
  std::string_view subject_relation;
  int depth = 0;
  const ContextData* context = nullptr;
};

struct LookupSubjectsRequest {
  std::string_view entity_type;
  std::string_view entity_id;
  std::string_view permission;
  std::string_view subject_type;      // ids of subjects of this type are returned
  std::string_view subject_relation;  // "" for plain subjects, or e.g. "member"
  int depth = 0;
  const ContextData* context = nullptr;
};

class Engine {
 public:
  explicit Engine(const TupleReader& reader, EngineOptions options = {});

  Result<bool> Check(const CheckRequest& request) const;
  // Sorted ids.
  Result<std::vector<std::string>> LookupEntities(const LookupEntitiesRequest& request) const;
  // Sorted ids.
  Result<std::vector<std::string>> LookupSubjects(const LookupSubjectsRequest& request) const;

  const Schema& schema() const { return reader_.schema(); }

 private:
  const TupleReader& reader_;
  EngineOptions options_;
};

}  // namespace strato::authz
