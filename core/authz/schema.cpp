#include "core/authz/schema.h"

#include <fstream>
#include <set>
#include <sstream>
#include <utility>

namespace strato::authz {

std::optional<TypeId> Schema::FindType(std::string_view name) const {
  if (entities_.size() <= 16) {  // a scan beats hashing for the schemas people write
    for (TypeId t = 0; t < entities_.size(); ++t) {
      if (entities_[t].name == name) return t;
    }
    return std::nullopt;
  }
  auto it = types_.find(name);
  if (it == types_.end()) return std::nullopt;
  return it->second;
}

std::optional<MemberId> Schema::FindMember(TypeId type, std::string_view name) const {
  if (type >= entities_.size()) return std::nullopt;
  const EntityDef& e = entities_[type];
  if (e.members.size() <= 16) {
    for (MemberId m : e.members) {
      if (members_[m].name == name) return m;
    }
    return std::nullopt;
  }
  const auto& by_name = e.by_name;
  auto it = by_name.find(name);
  if (it == by_name.end()) return std::nullopt;
  return it->second;
}

std::string Schema::MemberName(MemberId m) const {
  if (m >= members_.size()) return "?";
  return entities_[members_[m].owner].name + "#" + members_[m].name;
}

namespace {

bool ValidValueType(const std::string& type) {
  return type == "string" || type == "boolean" || type == "integer" || type == "double";
}

std::string TypeText(const std::string& type, bool array) {
  return array ? type + "[]" : type;
}

Status Error(SourcePos pos, std::string_view message) {
  return Status::InvalidArgument(PositionedMessage(pos, message));
}

const char* KindName(MemberKind k) {
  switch (k) {
    case MemberKind::kRelation:
      return "relation";
    case MemberKind::kPermission:
      return "permission";
    case MemberKind::kAttribute:
      return "attribute";
  }
  return "member";
}

}  // namespace

class SchemaCompiler {
 public:
  explicit SchemaCompiler(const SchemaAst& ast) : ast_(ast), s_(std::make_shared<Schema>()) {}

  Result<std::shared_ptr<const Schema>> Compile() {
    // Types and members first, so that expressions may refer to anything in any order.
    for (const EntityAst& e : ast_.entities) {
      if (s_->types_.count(e.name) != 0) {
        return Error(e.pos, "entity '" + e.name + "' is defined twice");
      }
      const TypeId t = static_cast<TypeId>(s_->entities_.size());
      s_->types_.emplace(e.name, t);
      EntityDef def;
      def.name = e.name;
      s_->entities_.push_back(std::move(def));
    }
    for (size_t t = 0; t < ast_.entities.size(); ++t) {
      const EntityAst& e = ast_.entities[t];
      auto add = [&](const std::string& name, MemberKind kind, SourcePos pos) -> Status {
        EntityDef& def = s_->entities_[t];
        const MemberId id = static_cast<MemberId>(s_->members_.size());
        if (!def.by_name.emplace(name, id).second) {
          return Error(pos, "'" + name + "' is defined twice on entity '" + e.name + "'");
        }
        def.members.push_back(id);
        MemberDef m;
        m.name = name;
        m.kind = kind;
        m.owner = static_cast<TypeId>(t);
        s_->members_.push_back(std::move(m));
        return Status::Ok();
      };
      for (const RelationAst& r : e.relations) {
        STRATO_RETURN_IF_ERROR(add(r.name, MemberKind::kRelation, r.pos));
      }
      for (const AttributeAst& a : e.attributes) {
        if (!ValidValueType(a.type)) {
          return Error(a.type_pos, "attribute '" + a.name + "' has type '" + a.type +
                                       "'; the types are string, boolean, integer and double, "
                                       "each optionally with []");
        }
        STRATO_RETURN_IF_ERROR(add(a.name, MemberKind::kAttribute, a.pos));
        s_->members_.back().attribute_type = TypeText(a.type, a.array);
        s_->uses_abac_ = true;
      }
      for (const PermissionAst& p : e.permissions) {
        STRATO_RETURN_IF_ERROR(add(p.name, MemberKind::kPermission, p.pos));
      }
    }
    std::set<std::string, std::less<>> rule_names;
    for (const RuleAst& r : ast_.rules) {
      if (!rule_names.insert(r.name).second) {
        return Error(r.pos, "rule '" + r.name + "' is defined twice");
      }
      RuleDef def;
      def.name = r.name;
      def.body = r.body;
      for (const RuleArgAst& a : r.args) {
        if (!ValidValueType(a.type)) {
          return Error(a.pos, "argument '" + a.name + "' of rule '" + r.name + "' has type '" +
                                  a.type +
                                  "'; the types are string, boolean, integer and double, each "
                                  "optionally with []");
        }
        def.args.emplace_back(a.name, TypeText(a.type, a.array));
      }
      std::vector<std::string> params;
      for (const auto& [name, type] : def.args) params.push_back(name);
      auto program = CelProgram::Compile(def.body, params);
      if (program.ok()) {
        def.program = *program;
      } else {
        def.program_error = program.status().message();
      }
      s_->rules_.push_back(std::move(def));
      s_->uses_abac_ = true;
    }
    // Relation types.
    for (size_t t = 0; t < ast_.entities.size(); ++t) {
      const EntityAst& e = ast_.entities[t];
      for (const RelationAst& r : e.relations) {
        MemberDef& m = s_->members_[s_->entities_[t].by_name.at(r.name)];
        for (const RelationTypeAst& rt : r.types) {
          auto type = s_->FindType(rt.type);
          if (!type) {
            return Error(rt.pos, "relation '" + r.name + "' of entity '" + e.name + "' allows '@" +
                                     rt.type + "', but entity '" + rt.type + "' is not defined");
          }
          AllowedSubject allowed{*type, kNoMember};
          if (!rt.relation.empty()) {
            auto rel = s_->FindMember(*type, rt.relation);
            if (!rel || s_->members_[*rel].kind != MemberKind::kRelation) {
              return Error(rt.relation_pos, "relation '" + r.name + "' of entity '" + e.name +
                                                "' allows '@" + rt.type + "#" + rt.relation +
                                                "', but '" + rt.relation +
                                                "' is not a relation of entity '" + rt.type + "'");
            }
            allowed.relation = *rel;
          }
          m.allowed.push_back(allowed);
        }
      }
    }
    // Permissions.
    for (size_t t = 0; t < ast_.entities.size(); ++t) {
      const EntityAst& e = ast_.entities[t];
      for (const PermissionAst& p : e.permissions) {
        auto root = CompileExpr(static_cast<TypeId>(t), *p.expr);
        if (!root.ok()) return root.status();
        s_->members_[s_->entities_[t].by_name.at(p.name)].root = *root;
      }
    }
    return std::shared_ptr<const Schema>(std::move(s_));
  }

 private:
  const std::string& TypeName(TypeId t) const { return s_->entities_[t].name; }

  uint32_t AddNode(ExprNode node) {
    s_->nodes_.push_back(node);
    return static_cast<uint32_t>(s_->nodes_.size() - 1);
  }

  // Gathers the operands of a chain of one operator: "a or b or c" has three; for `not`, only
  // the left side chains ("a not b not c" is a and not b and not c).
  void Flatten(const ExprAst& e, ExprAst::Kind kind, std::vector<const ExprAst*>& out) {
    if (e.kind == kind) {
      Flatten(*e.left, kind, out);
      if (kind == ExprAst::Kind::kNot) {
        out.push_back(e.right.get());
      } else {
        Flatten(*e.right, kind, out);
      }
    } else {
      out.push_back(&e);
    }
  }

  Result<uint32_t> CompileExpr(TypeId t, const ExprAst& e) {
    switch (e.kind) {
      case ExprAst::Kind::kOr:
      case ExprAst::Kind::kAnd:
      case ExprAst::Kind::kNot: {
        std::vector<const ExprAst*> operands;
        Flatten(e, e.kind, operands);
        std::vector<uint32_t> kids;
        for (const ExprAst* op : operands) {
          auto kid = CompileExpr(t, *op);
          if (!kid.ok()) return kid.status();
          kids.push_back(*kid);
        }
        ExprNode node;
        node.kind = e.kind == ExprAst::Kind::kOr    ? ExprNode::Kind::kUnion
                    : e.kind == ExprAst::Kind::kAnd ? ExprNode::Kind::kIntersection
                                                    : ExprNode::Kind::kExclusion;
        node.first_child = static_cast<uint32_t>(s_->children_.size());
        node.child_count = static_cast<uint32_t>(kids.size());
        s_->children_.insert(s_->children_.end(), kids.begin(), kids.end());
        return AddNode(node);
      }
      case ExprAst::Kind::kName:
        return CompileName(t, e);
      case ExprAst::Kind::kCall:
        return CompileCall(t, e);
    }
    return Error(e.pos, "unknown expression");
  }

  Result<uint32_t> CompileName(TypeId t, const ExprAst& e) {
    const std::string& entity = TypeName(t);
    const NameSegment& first = e.name[0];
    if (e.name.size() > 2) {
      std::string full;
      for (const auto& seg : e.name) full += (full.empty() ? "" : ".") + seg.text;
      return Error(e.name[2].pos, "'" + full +
                                      "' walks more than one relation; a permission may only use "
                                      "'relation.permission'");
    }
    auto m = s_->FindMember(t, first.text);
    if (e.name.size() == 1) {
      if (!m) {
        return Error(first.pos,
                     "relation '" + first.text + "' is not defined on entity '" + entity + "'");
      }
      const MemberDef& def = s_->members_[*m];
      ExprNode node;
      node.member = *m;
      if (def.kind == MemberKind::kAttribute) {
        if (def.attribute_type != "boolean") {
          return Error(first.pos, "attribute '" + first.text + "' of entity '" + entity + "' is " +
                                      def.attribute_type +
                                      "; only a boolean attribute can stand alone in a "
                                      "permission");
        }
        node.kind = ExprNode::Kind::kAttribute;
      } else {
        node.kind = ExprNode::Kind::kMember;
      }
      return AddNode(node);
    }
    // relation.member
    const NameSegment& second = e.name[1];
    if (!m) {
      return Error(first.pos,
                   "relation '" + first.text + "' is not defined on entity '" + entity + "'");
    }
    if (s_->members_[*m].kind != MemberKind::kRelation) {
      return Error(first.pos, "'" + first.text + "." + second.text + "' walks '" + first.text +
                                  "', which is a " + KindName(s_->members_[*m].kind) +
                                  " of entity '" + entity + "', not a relation");
    }
    // Every entity the relation may point to must define the member (Permify's rule); a
    // subject set "@organization#parent" stands for the types of organization#parent.
    std::vector<AllowedSubject> stack = s_->members_[*m].allowed;
    std::set<MemberId> expanded;
    while (!stack.empty()) {
      AllowedSubject a = stack.back();
      stack.pop_back();
      if (a.relation == kNoMember) {
        auto target = s_->FindMember(a.type, second.text);
        if (!target || s_->members_[*target].kind == MemberKind::kAttribute) {
          return Error(second.pos, "'" + second.text +
                                       "' is not a relation or permission of "
                                       "entity '" +
                                       TypeName(a.type) + "', which relation '" + first.text +
                                       "' of entity '" + entity + "' may point to");
        }
      } else if (expanded.insert(a.relation).second) {
        const auto& more = s_->members_[a.relation].allowed;
        stack.insert(stack.end(), more.begin(), more.end());
      }
    }
    std::vector<MemberId> by_type(s_->entities_.size(), kNoMember);
    for (TypeId type = 0; type < s_->entities_.size(); ++type) {
      auto target = s_->FindMember(type, second.text);
      if (target && s_->members_[*target].kind != MemberKind::kAttribute) by_type[type] = *target;
    }
    ExprNode node;
    node.kind = ExprNode::Kind::kWalk;
    node.member = *m;
    node.walk = static_cast<uint32_t>(s_->walks_.size());
    s_->walks_.push_back(std::move(by_type));
    return AddNode(node);
  }

  Result<uint32_t> CompileCall(TypeId t, const ExprAst& e) {
    const std::string& entity = TypeName(t);
    const RuleDef* rule = nullptr;
    uint32_t rule_index = 0;
    for (uint32_t i = 0; i < s_->rules_.size(); ++i) {
      if (s_->rules_[i].name == e.call) {
        rule = &s_->rules_[i];
        rule_index = i;
      }
    }
    if (rule == nullptr) return Error(e.pos, "rule '" + e.call + "' is not defined");
    if (e.args.size() != rule->args.size() || e.args.empty()) {
      return Error(e.pos, "rule '" + e.call + "' takes " + std::to_string(rule->args.size()) +
                              " argument(s) but is called with " + std::to_string(e.args.size()));
    }
    for (const auto& arg : e.args) {
      if (arg.size() != 1) {
        return Error(arg[1].pos, "argument '" + arg[0].text + "." + arg[1].text + "' of rule '" +
                                     e.call + "' must be an attribute of entity '" + entity + "'");
      }
      auto m = s_->FindMember(t, arg[0].text);
      if (!m || s_->members_[*m].kind != MemberKind::kAttribute) {
        return Error(e.pos, "argument '" + arg[0].text + "' of rule '" + e.call +
                                "' is not an attribute of entity '" + entity + "'");
      }
      const std::string* param_type = nullptr;
      for (const auto& [name, type] : rule->args) {
        if (name == arg[0].text) param_type = &type;
      }
      if (param_type == nullptr || *param_type != s_->members_[*m].attribute_type) {
        return Error(arg[0].pos, "attribute '" + arg[0].text + "' is " +
                                     s_->members_[*m].attribute_type + " but rule '" + e.call +
                                     "' has no argument '" + arg[0].text + "' of that type");
      }
    }
    CallDef call;
    call.rule = rule_index;
    for (const auto& [name, type] : rule->args) {
      for (const auto& arg : e.args) {
        if (arg[0].text == name) call.args.push_back(*s_->FindMember(t, name));
      }
    }
    if (call.args.size() != rule->args.size()) {
      return Error(e.pos, "rule '" + e.call + "' is called twice with the same attribute");
    }
    ExprNode node;
    node.kind = ExprNode::Kind::kCall;
    node.walk = static_cast<uint32_t>(s_->calls_.size());
    s_->calls_.push_back(std::move(call));
    return AddNode(node);
  }

  const SchemaAst& ast_;
  std::shared_ptr<Schema> s_;
};

Result<std::shared_ptr<const Schema>> CompileSchema(const SchemaAst& ast) {
  SchemaCompiler compiler(ast);
  return compiler.Compile();
}

Result<std::shared_ptr<const Schema>> LoadSchema(std::string_view text) {
  auto ast = ParseSchema(text);
  if (!ast.ok()) return ast.status();
  return CompileSchema(*ast);
}

Result<std::shared_ptr<const Schema>> LoadSchemaFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open the schema file " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto schema = LoadSchema(buffer.str());
  if (!schema.ok()) return schema.status().WithContext(path);
  return schema;
}

}  // namespace strato::authz
