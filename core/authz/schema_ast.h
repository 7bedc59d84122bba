// The syntax tree of a Permify schema and the parser that builds it (ParseSchema).
//
// ParseSchema checks syntax only (plus duplicate names, as Permify's parser does); references
// between entities, relations and permissions are checked by CompileSchema (schema.h). The tree
// is a plain value owned by the caller; the parser keeps no state between calls and may run on
// any number of threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace strato::authz {

// 1-based line and column of a token; columns count bytes, a tab counts as one.
struct SourcePos {
  int line = 0;
  int column = 0;
};

// One segment of a dotted name ("parent" and "admin" in "parent.admin").
struct NameSegment {
  std::string text;
  SourcePos pos;
};

struct ExprAst {
  enum class Kind { kName, kCall, kOr, kAnd, kNot };
  Kind kind = Kind::kName;
  SourcePos pos;
  std::vector<NameSegment> name;               // kName: "owner" or "parent.admin"
  std::string call;                            // kCall: rule name
  std::vector<std::vector<NameSegment>> args;  // kCall: arguments ("balance", "request.amount")
  std::unique_ptr<ExprAst> left, right;        // kOr, kAnd, kNot ("left not right")
};

struct RelationTypeAst {
  std::string type;      // "organization"
  std::string relation;  // "member" in "@organization#member"; empty for "@user"
  SourcePos pos, relation_pos;
};

struct RelationAst {
  std::string name;
  SourcePos pos;
  std::vector<RelationTypeAst> types;
};

struct AttributeAst {
  std::string name;
  std::string type;  // "boolean", "integer", ...; as written
  bool array = false;
  SourcePos pos, type_pos;
};

struct PermissionAst {
  std::string name;
  SourcePos pos;
  bool legacy_action = false;  // written with the `action` keyword
  std::unique_ptr<ExprAst> expr;
};

struct EntityAst {
  std::string name;
  SourcePos pos;
  std::vector<RelationAst> relations;
  std::vector<AttributeAst> attributes;
  std::vector<PermissionAst> permissions;
};

struct RuleArgAst {
  std::string name;
  std::string type;
  bool array = false;
  SourcePos pos;
};

struct RuleAst {
  std::string name;
  SourcePos pos;
  std::vector<RuleArgAst> args;
  std::string body;  // the CEL expression, verbatim
};

struct SchemaAst {
  std::vector<EntityAst> entities;
  std::vector<RuleAst> rules;
};

// Parses the text of a schema. Errors read "line 4, column 21: <sentence>".
Result<SchemaAst> ParseSchema(std::string_view text);

// "line 4, column 21: " + message.
std::string PositionedMessage(SourcePos pos, std::string_view message);

}  // namespace strato::authz
