// Schema: a Permify schema compiled to integer ids, ready for evaluation.
//
// CompileSchema checks every reference (entities named in relation types, relations and
// permissions used in expressions, `relation.permission` walks, rule calls) and gives each entity
// type a TypeId and each member (relation, permission or attribute) a schema-wide MemberId, so
// evaluation compares integers. A Schema is immutable after compilation and safe to share
// between threads; it is normally held by std::shared_ptr<const Schema>.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/authz/cel.h"
#include "core/authz/schema_ast.h"
#include "core/status.h"

namespace strato::authz {

using TypeId = uint32_t;
using MemberId = uint32_t;
inline constexpr MemberId kNoMember = UINT32_MAX;

enum class MemberKind { kRelation, kPermission, kAttribute };

// One compiled node of a permission expression.
struct ExprNode {
  enum class Kind : uint8_t {
    kUnion,         // any child
    kIntersection,  // every child
    kExclusion,     // first child and none of the others
    kMember,        // a relation or permission of the same entity
    kWalk,          // relation.member: `member` on each subject of `relation`
    kAttribute,     // a boolean attribute (ABAC)
    kCall,          // a rule call (ABAC)
  };
  Kind kind = Kind::kMember;
  uint32_t first_child = 0;  // index into Schema::children()
  uint32_t child_count = 0;
  MemberId member = kNoMember;  // kMember, kAttribute; kWalk: the tuple-set relation
  uint32_t walk = 0;            // kWalk: index into Schema::walks(); kCall: into calls()
};

// A subject type allowed by a relation: "@user" (relation kNoMember) or "@organization#member".
struct AllowedSubject {
  TypeId type = 0;
  MemberId relation = kNoMember;
};

struct MemberDef {
  std::string name;
  MemberKind kind = MemberKind::kRelation;
  TypeId owner = 0;
  std::vector<AllowedSubject> allowed;  // kRelation
  uint32_t root = 0;                    // kPermission: index into nodes()
  std::string attribute_type;           // kAttribute: "boolean", "string[]", ...
};

// Lets maps keyed by std::string be searched with a string_view, without allocating.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

struct EntityDef {
  std::string name;
  std::vector<MemberId> members;  // in schema order: relations, attributes, permissions
  StringMap<MemberId> by_name;
};

struct RuleDef {
  std::string name;
  std::vector<std::pair<std::string, std::string>> args;  // name, type ("integer", "string[]")
  std::string body;
  // The compiled body; null when it uses CEL beyond the supported subset (cel.h), in which case
  // program_error says why and a check that calls the rule returns that error.
  std::shared_ptr<const CelProgram> program;
  std::string program_error;
};

// A rule call in a permission: the rule and, per rule argument, the entity's attribute.
struct CallDef {
  uint32_t rule = 0;
  std::vector<MemberId> args;
};

class Schema {
 public:
  const std::vector<EntityDef>& entities() const { return entities_; }
  const std::vector<MemberDef>& members() const { return members_; }
  const std::vector<RuleDef>& rules() const { return rules_; }
  const std::vector<CallDef>& calls() const { return calls_; }
  const std::vector<ExprNode>& nodes() const { return nodes_; }
  const std::vector<uint32_t>& children() const { return children_; }
  // walks()[i][type] is the member a walk evaluates on a subject of that type, or kNoMember.
  const std::vector<std::vector<MemberId>>& walks() const { return walks_; }

  std::optional<TypeId> FindType(std::string_view name) const;
  std::optional<MemberId> FindMember(TypeId type, std::string_view name) const;
  const EntityDef& entity(TypeId t) const { return entities_[t]; }
  const MemberDef& member(MemberId m) const { return members_[m]; }

  // True when any entity declares an attribute or any rule exists (ABAC).
  bool uses_abac() const { return uses_abac_; }

  // "vm#read" for messages.
  std::string MemberName(MemberId m) const;

 private:
  friend class SchemaCompiler;
  std::vector<EntityDef> entities_;
  StringMap<TypeId> types_;
  std::vector<MemberDef> members_;
  std::vector<RuleDef> rules_;
  std::vector<CallDef> calls_;
  std::vector<ExprNode> nodes_;
  std::vector<uint32_t> children_;
  std::vector<std::vector<MemberId>> walks_;
  bool uses_abac_ = false;
};

// Checks every reference and builds the evaluation form. Errors read
// "line 4, column 21: relation 'ownr' is not defined on entity 'vm'".
Result<std::shared_ptr<const Schema>> CompileSchema(const SchemaAst& ast);

// Parse and compile in one step.
Result<std::shared_ptr<const Schema>> LoadSchema(std::string_view text);
// Reads the file and loads it; errors name the file.
Result<std::shared_ptr<const Schema>> LoadSchemaFile(const std::string& path);

}  // namespace strato::authz
