// Lexer and recursive-descent parser for Permify's schema language. Operators `and`, `or` and
// `not` share one precedence and associate to the left, as in Permify ("a or b and c" is
// "(a or b) and c"). A permission expression ends at the end of its line unless the line ends
// with an operator, '(' or '='.
#include <cctype>
#include <optional>
#include <set>
#include <utility>

#include "core/authz/schema_ast.h"

namespace strato::authz {

std::string PositionedMessage(SourcePos pos, std::string_view message) {
  return "line " + std::to_string(pos.line) + ", column " + std::to_string(pos.column) + ": " +
         std::string(message);
}

namespace {

// Deeper expressions are refused so that evaluation and compilation never recurse without bound.
constexpr int kMaxExpressionDepth = 100;

enum class Tok {
  kIdent,
  kInteger,
  kEntity,
  kRelation,
  kPermission,
  kAction,
  kAttribute,
  kRule,
  kAnd,
  kOr,
  kNot,
  kLBrace,
  kRBrace,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kDot,
  kHash,
  kAt,
  kAssign,
  kNewline,
  kEof,
  kInvalid,
};

struct Token {
  Tok kind = Tok::kEof;
  std::string_view text;
  SourcePos pos;
};

std::string Describe(const Token& t) {
  switch (t.kind) {
    case Tok::kNewline:
      return "the end of the line";
    case Tok::kEof:
      return "the end of the schema";
    case Tok::kIdent:
      return "the name '" + std::string(t.text) + "'";
    case Tok::kInteger:
      return "the number '" + std::string(t.text) + "'";
    default:
      return "'" + std::string(t.text) + "'";
  }
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Token Next() {
    SkipSpaceAndComments();
    Token t;
    t.pos = {line_, Column()};
    if (i_ >= text_.size()) {
      t.kind = Tok::kEof;
      t.text = "";
      return t;
    }
    const size_t start = i_;
    const char c = text_[i_];
    if (c == '\n') {
      ++i_;
      ++line_;
      line_start_ = i_;
      t.kind = Tok::kNewline;
      t.text = "\n";
      return t;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      while (i_ < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[i_])) || text_[i_] == '_')) {
        ++i_;
      }
      t.text = text_.substr(start, i_ - start);
      t.kind = KeywordOr(t.text);
      return t;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      while (i_ < text_.size() && std::isalnum(static_cast<unsigned char>(text_[i_]))) ++i_;
      t.text = text_.substr(start, i_ - start);
      t.kind = Tok::kInteger;
      return t;
    }
    ++i_;
    t.text = text_.substr(start, 1);
    switch (c) {
      case '{':
        t.kind = Tok::kLBrace;
        break;
      case '}':
        t.kind = Tok::kRBrace;
        break;
      case '(':
        t.kind = Tok::kLParen;
        break;
      case ')':
        t.kind = Tok::kRParen;
        break;
      case '[':
        t.kind = Tok::kLBracket;
        break;
      case ']':
        t.kind = Tok::kRBracket;
        break;
      case ',':
        t.kind = Tok::kComma;
        break;
      case '.':
        t.kind = Tok::kDot;
        break;
      case '#':
        t.kind = Tok::kHash;
        break;
      case '@':
        t.kind = Tok::kAt;
        break;
      case '=':
        t.kind = Tok::kAssign;
        break;
      default:
        t.kind = Tok::kInvalid;
        break;
    }
    return t;
  }

  // Reads the text up to the '}' that closes an already consumed '{' (rule bodies are CEL, not
  // this language). Returns nullopt at the end of input; the '}' is consumed.
  std::optional<std::string_view> RawBlock() {
    const size_t start = i_;
    int depth = 1;
    char quote = 0;
    while (i_ < text_.size()) {
      const char c = text_[i_];
      if (c == '\n') {
        ++line_;
        line_start_ = i_ + 1;
      }
      if (quote != 0) {
        if (c == '\\') {
          ++i_;
        } else if (c == quote) {
          quote = 0;
        }
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '{') {
        ++depth;
      } else if (c == '}') {
        if (--depth == 0) {
          std::string_view body = text_.substr(start, i_ - start);
          ++i_;
          return body;
        }
      }
      ++i_;
    }
    return std::nullopt;
  }

 private:
  int Column() const { return static_cast<int>(i_ - line_start_) + 1; }

  void SkipSpaceAndComments() {
    while (i_ < text_.size()) {
      const char c = text_[i_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
        ++i_;
      } else if (c == '/' && i_ + 1 < text_.size() && text_[i_ + 1] == '/') {
        while (i_ < text_.size() && text_[i_] != '\n') ++i_;
      } else if (c == '/' && i_ + 1 < text_.size() && text_[i_ + 1] == '*') {
        i_ += 2;
        while (i_ < text_.size() &&
               !(text_[i_] == '*' && i_ + 1 < text_.size() && text_[i_ + 1] == '/')) {
          if (text_[i_] == '\n') {
            ++line_;
            line_start_ = i_ + 1;
          }
          ++i_;
        }
        i_ = std::min(text_.size(), i_ + 2);
      } else {
        break;
      }
    }
  }

  static Tok KeywordOr(std::string_view w) {
    if (w == "entity") return Tok::kEntity;
    if (w == "relation") return Tok::kRelation;
    if (w == "permission") return Tok::kPermission;
    if (w == "action") return Tok::kAction;
    if (w == "attribute") return Tok::kAttribute;
    if (w == "rule") return Tok::kRule;
    if (w == "and") return Tok::kAnd;
    if (w == "or") return Tok::kOr;
    if (w == "not") return Tok::kNot;
    return Tok::kIdent;
  }

  std::string_view text_;
  size_t i_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;
};

bool IsOperator(Tok k) {
  return k == Tok::kAnd || k == Tok::kOr || k == Tok::kNot;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : lexer_(text) { Advance(); }

  Result<SchemaAst> Parse() {
    SchemaAst schema;
    std::set<std::string, std::less<>> entity_names, rule_names;
    while (true) {
      if (cur_.kind == Tok::kNewline) {
        Advance();
        continue;
      }
      if (cur_.kind == Tok::kEof) break;
      if (cur_.kind == Tok::kEntity) {
        EntityAst entity;
        STRATO_RETURN_IF_ERROR(ParseEntity(entity));
        if (!entity_names.insert(entity.name).second) {
          return Error(entity.pos, "entity '" + entity.name + "' is defined twice");
        }
        schema.entities.push_back(std::move(entity));
      } else if (cur_.kind == Tok::kRule) {
        RuleAst rule;
        STRATO_RETURN_IF_ERROR(ParseRule(rule));
        if (!rule_names.insert(rule.name).second) {
          return Error(rule.pos, "rule '" + rule.name + "' is defined twice");
        }
        schema.rules.push_back(std::move(rule));
      } else {
        return Unexpected("'entity' or 'rule'");
      }
    }
    return schema;
  }

 private:
  void Advance() { cur_ = lexer_.Next(); }

  static Status Error(SourcePos pos, std::string_view message) {
    return Status::InvalidArgument(PositionedMessage(pos, message));
  }

  Status Unexpected(std::string_view expected) const {
    if (cur_.kind == Tok::kInvalid) {
      return Error(cur_.pos, "the character '" + std::string(cur_.text) +
                                 "' is not part of the schema language; expected " +
                                 std::string(expected));
    }
    return Error(cur_.pos, "expected " + std::string(expected) + " but found " + Describe(cur_));
  }

  // Consumes a name token and returns it.
  Status ExpectName(std::string_view what, NameSegment& out) {
    if (cur_.kind != Tok::kIdent) return Unexpected(what);
    out.text = std::string(cur_.text);
    out.pos = cur_.pos;
    Advance();
    return Status::Ok();
  }

  Status Expect(Tok kind, std::string_view what) {
    if (cur_.kind != kind) return Unexpected(what);
    Advance();
    return Status::Ok();
  }

  Status ParseEntity(EntityAst& entity) {
    Advance();  // entity
    NameSegment name;
    STRATO_RETURN_IF_ERROR(ExpectName("an entity name after 'entity'", name));
    entity.name = name.text;
    entity.pos = name.pos;
    STRATO_RETURN_IF_ERROR(Expect(Tok::kLBrace, "'{' after the entity name '" + name.text + "'"));
    std::set<std::string, std::less<>> members;
    auto add_member = [&](const std::string& member, SourcePos pos) -> Status {
      if (!members.insert(member).second) {
        return Error(pos, "'" + member + "' is defined twice on entity '" + entity.name + "'");
      }
      return Status::Ok();
    };
    while (true) {
      switch (cur_.kind) {
        case Tok::kNewline:
          Advance();
          continue;
        case Tok::kRBrace:
          Advance();
          return Status::Ok();
        case Tok::kRelation: {
          RelationAst r;
          STRATO_RETURN_IF_ERROR(ParseRelation(r));
          STRATO_RETURN_IF_ERROR(add_member(r.name, r.pos));
          entity.relations.push_back(std::move(r));
          continue;
        }
        case Tok::kAttribute: {
          AttributeAst a;
          STRATO_RETURN_IF_ERROR(ParseAttribute(a));
          STRATO_RETURN_IF_ERROR(add_member(a.name, a.pos));
          entity.attributes.push_back(std::move(a));
          continue;
        }
        case Tok::kPermission:
        case Tok::kAction: {
          PermissionAst p;
          STRATO_RETURN_IF_ERROR(ParsePermission(p));
          STRATO_RETURN_IF_ERROR(add_member(p.name, p.pos));
          entity.permissions.push_back(std::move(p));
          continue;
        }
        case Tok::kEof:
          return Error(cur_.pos, "entity '" + entity.name + "' is missing its closing '}'");
        default:
          return Unexpected("'relation', 'permission', 'attribute' or '}' in entity '" +
                            entity.name + "'");
      }
    }
  }

  Status ParseRelation(RelationAst& r) {
    Advance();  // relation
    NameSegment name;
    STRATO_RETURN_IF_ERROR(ExpectName("a relation name after 'relation'", name));
    r.name = name.text;
    r.pos = name.pos;
    if (cur_.kind != Tok::kAt) {
      return Unexpected("a subject type such as '@user' after relation '" + r.name + "'");
    }
    while (cur_.kind == Tok::kAt) {
      Advance();
      RelationTypeAst t;
      NameSegment type;
      STRATO_RETURN_IF_ERROR(ExpectName("an entity name after '@'", type));
      t.type = type.text;
      t.pos = type.pos;
      if (cur_.kind == Tok::kHash) {
        Advance();
        NameSegment rel;
        STRATO_RETURN_IF_ERROR(ExpectName("a relation name after '#'", rel));
        t.relation = rel.text;
        t.relation_pos = rel.pos;
      }
      r.types.push_back(std::move(t));
    }
    return Status::Ok();
  }

  Status ParseTypeName(std::string& type, bool& array, SourcePos& pos) {
    NameSegment t;
    STRATO_RETURN_IF_ERROR(ExpectName("a type name", t));
    type = t.text;
    pos = t.pos;
    if (cur_.kind == Tok::kLBracket) {
      Advance();
      STRATO_RETURN_IF_ERROR(Expect(Tok::kRBracket, "']' after '['"));
      array = true;
    }
    return Status::Ok();
  }

  Status ParseAttribute(AttributeAst& a) {
    Advance();  // attribute
    NameSegment name;
    STRATO_RETURN_IF_ERROR(ExpectName("an attribute name after 'attribute'", name));
    a.name = name.text;
    a.pos = name.pos;
    return ParseTypeName(a.type, a.array, a.type_pos);
  }

  Status ParsePermission(PermissionAst& p) {
    p.legacy_action = cur_.kind == Tok::kAction;
    const std::string keyword(cur_.text);
    Advance();
    NameSegment name;
    STRATO_RETURN_IF_ERROR(ExpectName("a permission name after '" + keyword + "'", name));
    p.name = name.text;
    p.pos = name.pos;
    STRATO_RETURN_IF_ERROR(Expect(Tok::kAssign, "'=' after permission '" + p.name + "'"));
    int depth = 0;
    return ParseExpr(p.expr, 0, depth);
  }

  // expr := operand (op operand)*, left-associative, ending before a newline.
  Status ParseExpr(std::unique_ptr<ExprAst>& out, int nesting, int& depth) {
    int left_depth = 0;
    STRATO_RETURN_IF_ERROR(ParseOperand(out, nesting, left_depth));
    depth = left_depth;
    while (IsOperator(cur_.kind)) {
      auto node = std::make_unique<ExprAst>();
      node->kind = cur_.kind == Tok::kAnd  ? ExprAst::Kind::kAnd
                   : cur_.kind == Tok::kOr ? ExprAst::Kind::kOr
                                           : ExprAst::Kind::kNot;
      node->pos = cur_.pos;
      Advance();
      int right_depth = 0;
      STRATO_RETURN_IF_ERROR(ParseOperand(node->right, nesting, right_depth));
      node->left = std::move(out);
      depth = std::max(depth, right_depth) + 1;
      if (depth > kMaxExpressionDepth) {
        return Error(node->pos, "the permission expression is nested more than " +
                                    std::to_string(kMaxExpressionDepth) + " levels deep");
      }
      out = std::move(node);
    }
    return Status::Ok();
  }

  Status ParseOperand(std::unique_ptr<ExprAst>& out, int nesting, int& depth) {
    // An operand always follows '=', '(' or an operator, after which a line may break.
    while (cur_.kind == Tok::kNewline) Advance();
    if (cur_.kind == Tok::kLParen) {
      const SourcePos open = cur_.pos;
      if (nesting + 1 > kMaxExpressionDepth) {
        return Error(open, "the permission expression is nested more than " +
                               std::to_string(kMaxExpressionDepth) + " levels deep");
      }
      Advance();
      STRATO_RETURN_IF_ERROR(ParseExpr(out, nesting + 1, depth));
      if (cur_.kind != Tok::kRParen)
        return Unexpected("')' to close the '(' at line " + std::to_string(open.line) +
                          ", column " + std::to_string(open.column));
      Advance();
      return Status::Ok();
    }
    if (cur_.kind != Tok::kIdent) return Unexpected("a relation, permission or '('");
    auto node = std::make_unique<ExprAst>();
    node->pos = cur_.pos;
    std::vector<NameSegment> name;
    STRATO_RETURN_IF_ERROR(ParseDottedName(name));
    if (cur_.kind == Tok::kLParen && name.size() == 1) {
      node->kind = ExprAst::Kind::kCall;
      node->call = name[0].text;
      Advance();
      if (cur_.kind != Tok::kRParen) {
        while (true) {
          std::vector<NameSegment> arg;
          STRATO_RETURN_IF_ERROR(ParseDottedName(arg));
          node->args.push_back(std::move(arg));
          if (cur_.kind == Tok::kComma) {
            Advance();
            continue;
          }
          break;
        }
      }
      STRATO_RETURN_IF_ERROR(
          Expect(Tok::kRParen, "',' or ')' in the call of rule '" + node->call + "'"));
    } else {
      node->kind = ExprAst::Kind::kName;
      node->name = std::move(name);
    }
    depth = 1;
    out = std::move(node);
    return Status::Ok();
  }

  Status ParseDottedName(std::vector<NameSegment>& name) {
    NameSegment first;
    STRATO_RETURN_IF_ERROR(ExpectName("a name", first));
    name.push_back(std::move(first));
    while (cur_.kind == Tok::kDot) {
      Advance();
      NameSegment next;
      STRATO_RETURN_IF_ERROR(ExpectName("a name after '.'", next));
      name.push_back(std::move(next));
    }
    return Status::Ok();
  }

  Status ParseRule(RuleAst& rule) {
    Advance();  // rule
    NameSegment name;
    STRATO_RETURN_IF_ERROR(ExpectName("a rule name after 'rule'", name));
    rule.name = name.text;
    rule.pos = name.pos;
    STRATO_RETURN_IF_ERROR(Expect(Tok::kLParen, "'(' after the rule name '" + rule.name + "'"));
    std::set<std::string, std::less<>> arg_names;
    if (cur_.kind != Tok::kRParen) {
      while (true) {
        RuleArgAst arg;
        NameSegment arg_name;
        STRATO_RETURN_IF_ERROR(ExpectName("an argument name", arg_name));
        arg.name = arg_name.text;
        arg.pos = arg_name.pos;
        SourcePos type_pos;
        STRATO_RETURN_IF_ERROR(ParseTypeName(arg.type, arg.array, type_pos));
        if (!arg_names.insert(arg.name).second) {
          return Error(arg.pos,
                       "rule '" + rule.name + "' has two arguments named '" + arg.name + "'");
        }
        rule.args.push_back(std::move(arg));
        if (cur_.kind == Tok::kComma) {
          Advance();
          continue;
        }
        break;
      }
    }
    if (cur_.kind != Tok::kRParen) return Unexpected("',' or ')' after a rule argument");
    // The lexer has not looked past ')': the body can be read raw from here.
    Token open = lexer_.Next();
    while (open.kind == Tok::kNewline) open = lexer_.Next();
    if (open.kind != Tok::kLBrace) {
      cur_ = open;
      return Unexpected("'{' to open the body of rule '" + rule.name + "'");
    }
    auto body = lexer_.RawBlock();
    if (!body) {
      return Error(open.pos, "the body of rule '" + rule.name + "' is missing its closing '}'");
    }
    rule.body = std::string(*body);
    Advance();
    return Status::Ok();
  }

  Lexer lexer_;
  Token cur_;
};

}  // namespace

Result<SchemaAst> ParseSchema(std::string_view text) {
  Parser parser(text);
  return parser.Parse();
}

}  // namespace strato::authz
