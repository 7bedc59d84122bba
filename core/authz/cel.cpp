#include "core/authz/cel.h"

#include <cctype>
#include <cstdlib>
#include <optional>

#include "core/parse.h"

namespace strato::authz {

struct CelNode {
  enum class Kind {
    kLiteral,
    kParam,    // index
    kContext,  // context.data.<text>
    kList,     // kids
    kNot,      // kids[0]
    kNeg,      // kids[0]
    kBinary,   // op, kids[0], kids[1]
  };
  Kind kind = Kind::kLiteral;
  Value literal;
  uint32_t index = 0;
  std::string text;  // kContext key; kBinary operator
  std::vector<uint32_t> kids;
};

CelProgram::~CelProgram() = default;

namespace {

constexpr int kMaxCelDepth = 64;

struct CelToken {
  enum class Kind { kIdent, kInt, kDouble, kString, kOp, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;
  size_t pos = 0;
};

class CelParser {
 public:
  CelParser(std::string_view text, const std::vector<std::string>& params,
            std::vector<CelNode>& nodes)
      : text_(text), params_(params), nodes_(nodes) {}

  Result<uint32_t> Parse() {
    STRATO_RETURN_IF_ERROR(Next());
    auto root = Or(0);
    if (!root.ok()) return root;
    if (tok_.kind != CelToken::Kind::kEnd) return Error("unexpected '" + tok_.text + "'");
    return root;
  }

 private:
  Status Error(std::string_view what) const {
    return Status::InvalidArgument("rule expression, at offset " + std::to_string(tok_.pos) + ": " +
                                   std::string(what));
  }

  Status Next() {
    while (i_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[i_]))) ++i_;
    tok_ = CelToken{};
    tok_.pos = i_;
    if (i_ >= text_.size()) return Status::Ok();
    const char c = text_[i_];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      const size_t s = i_;
      while (i_ < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[i_])) || text_[i_] == '_')) {
        ++i_;
      }
      tok_.kind = CelToken::Kind::kIdent;
      tok_.text = std::string(text_.substr(s, i_ - s));
      return Status::Ok();
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      const size_t s = i_;
      bool dot = false;
      while (i_ < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[i_])) ||
                                   (text_[i_] == '.' && !dot && i_ + 1 < text_.size() &&
                                    std::isdigit(static_cast<unsigned char>(text_[i_ + 1]))))) {
        if (text_[i_] == '.') dot = true;
        ++i_;
      }
      tok_.kind = dot ? CelToken::Kind::kDouble : CelToken::Kind::kInt;
      tok_.text = std::string(text_.substr(s, i_ - s));
      return Status::Ok();
    }
    if (c == '\'' || c == '"') {
      ++i_;
      std::string s;
      while (i_ < text_.size() && text_[i_] != c) {
        if (text_[i_] == '\\' && i_ + 1 < text_.size()) ++i_;
        s += text_[i_++];
      }
      if (i_ >= text_.size()) return Error("a string is not closed");
      ++i_;
      tok_.kind = CelToken::Kind::kString;
      tok_.text = std::move(s);
      return Status::Ok();
    }
    static const char* kOps[] = {"&&", "||", "==", "!=", "<=", ">=", "<", ">", "!", "(",
                                 ")",  "[",  "]",  ",",  ".",  "+",  "-", "*", "/"};
    for (const char* op : kOps) {
      const std::string_view o(op);
      if (text_.substr(i_, o.size()) == o) {
        i_ += o.size();
        tok_.kind = CelToken::Kind::kOp;
        tok_.text = std::string(o);
        return Status::Ok();
      }
    }
    tok_.text = std::string(1, c);
    return Error("the character '" + tok_.text + "' is not supported in rules");
  }

  bool IsOp(std::string_view op) const {
    return tok_.kind == CelToken::Kind::kOp && tok_.text == op;
  }

  uint32_t Add(CelNode n) {
    nodes_.push_back(std::move(n));
    return static_cast<uint32_t>(nodes_.size() - 1);
  }

  uint32_t Binary(std::string op, uint32_t l, uint32_t r) {
    CelNode n;
    n.kind = CelNode::Kind::kBinary;
    n.text = std::move(op);
    n.kids = {l, r};
    return Add(std::move(n));
  }

  Result<uint32_t> Or(int depth) {
    if (depth > kMaxCelDepth) return Error("the expression is nested too deeply");
    auto l = And(depth + 1);
    if (!l.ok()) return l;
    uint32_t left = *l;
    while (IsOp("||")) {
      STRATO_RETURN_IF_ERROR(Next());
      auto r = And(depth + 1);
      if (!r.ok()) return r;
      left = Binary("||", left, *r);
    }
    return left;
  }

  Result<uint32_t> And(int depth) {
    auto l = Rel(depth + 1);
    if (!l.ok()) return l;
    uint32_t left = *l;
    while (IsOp("&&")) {
      STRATO_RETURN_IF_ERROR(Next());
      auto r = Rel(depth + 1);
      if (!r.ok()) return r;
      left = Binary("&&", left, *r);
    }
    return left;
  }

  Result<uint32_t> Rel(int depth) {
    auto l = Sum(depth + 1);
    if (!l.ok()) return l;
    for (const char* op : {"==", "!=", "<=", ">=", "<", ">"}) {
      if (IsOp(op)) {
        STRATO_RETURN_IF_ERROR(Next());
        auto r = Sum(depth + 1);
        if (!r.ok()) return r;
        return Binary(op, *l, *r);
      }
    }
    if (tok_.kind == CelToken::Kind::kIdent && tok_.text == "in") {
      STRATO_RETURN_IF_ERROR(Next());
      auto r = Sum(depth + 1);
      if (!r.ok()) return r;
      return Binary("in", *l, *r);
    }
    return l;
  }

  Result<uint32_t> Sum(int depth) {
    auto l = Product(depth + 1);
    if (!l.ok()) return l;
    uint32_t left = *l;
    while (IsOp("+") || IsOp("-")) {
      std::string op = tok_.text;
      STRATO_RETURN_IF_ERROR(Next());
      auto r = Product(depth + 1);
      if (!r.ok()) return r;
      left = Binary(op, left, *r);
    }
    return left;
  }

  Result<uint32_t> Product(int depth) {
    auto l = Unary(depth + 1);
    if (!l.ok()) return l;
    uint32_t left = *l;
    while (IsOp("*") || IsOp("/")) {
      std::string op = tok_.text;
      STRATO_RETURN_IF_ERROR(Next());
      auto r = Unary(depth + 1);
      if (!r.ok()) return r;
      left = Binary(op, left, *r);
    }
    return left;
  }

  Result<uint32_t> Unary(int depth) {
    if (depth > kMaxCelDepth) return Error("the expression is nested too deeply");
    if (IsOp("!") || IsOp("-")) {
      const bool is_not = IsOp("!");
      STRATO_RETURN_IF_ERROR(Next());
      auto x = Unary(depth + 1);
      if (!x.ok()) return x;
      CelNode n;
      n.kind = is_not ? CelNode::Kind::kNot : CelNode::Kind::kNeg;
      n.kids = {*x};
      return Add(std::move(n));
    }
    return Primary(depth + 1);
  }

  Result<uint32_t> Primary(int depth) {
    CelNode n;
    switch (tok_.kind) {
      case CelToken::Kind::kInt: {
        std::optional<int64_t> v = ParseInt(tok_.text);  // digits only: fails when too large
        if (!v) return Error("the number " + tok_.text + " is too large");
        n.literal = Value::Int(*v);
        STRATO_RETURN_IF_ERROR(Next());
        return Add(std::move(n));
      }
      case CelToken::Kind::kDouble:
        n.literal = Value::Double(std::strtod(tok_.text.c_str(), nullptr));
        STRATO_RETURN_IF_ERROR(Next());
        return Add(std::move(n));
      case CelToken::Kind::kString:
        n.literal = Value::String(tok_.text);
        STRATO_RETURN_IF_ERROR(Next());
        return Add(std::move(n));
      case CelToken::Kind::kIdent: {
        const std::string name = tok_.text;
        STRATO_RETURN_IF_ERROR(Next());
        if (name == "true" || name == "false") {
          n.literal = Value::Bool(name == "true");
          return Add(std::move(n));
        }
        if (name == "null") return Add(std::move(n));
        if (name == "context") {
          for (const char* part : {".", "data", "."}) {
            if (tok_.text != part) return Error("only context.data.<key> can be read");
            STRATO_RETURN_IF_ERROR(Next());
          }
          if (tok_.kind != CelToken::Kind::kIdent) {
            return Error("expected a key after context.data.");
          }
          n.kind = CelNode::Kind::kContext;
          n.text = tok_.text;
          STRATO_RETURN_IF_ERROR(Next());
          return Add(std::move(n));
        }
        for (uint32_t i = 0; i < params_.size(); ++i) {
          if (params_[i] == name) {
            n.kind = CelNode::Kind::kParam;
            n.index = i;
            return Add(std::move(n));
          }
        }
        return Error("'" + name + "' is neither an argument of the rule nor context.data");
      }
      case CelToken::Kind::kOp:
        if (IsOp("(")) {
          STRATO_RETURN_IF_ERROR(Next());
          auto x = Or(depth + 1);
          if (!x.ok()) return x;
          if (!IsOp(")")) return Error("expected ')'");
          STRATO_RETURN_IF_ERROR(Next());
          return x;
        }
        if (IsOp("[")) {
          STRATO_RETURN_IF_ERROR(Next());
          n.kind = CelNode::Kind::kList;
          while (!IsOp("]")) {
            auto x = Or(depth + 1);
            if (!x.ok()) return x;
            n.kids.push_back(*x);
            if (IsOp(",")) {
              STRATO_RETURN_IF_ERROR(Next());
            } else if (!IsOp("]")) {
              return Error("expected ',' or ']' in a list");
            }
          }
          STRATO_RETURN_IF_ERROR(Next());
          return Add(std::move(n));
        }
        return Error("unexpected '" + tok_.text + "'");
      case CelToken::Kind::kEnd:
        return Error("the expression ends too early");
    }
    return Error("unexpected input");
  }

  std::string_view text_;
  const std::vector<std::string>& params_;
  std::vector<CelNode>& nodes_;
  size_t i_ = 0;
  CelToken tok_;
};

bool IsNumber(const Value& v) {
  return v.kind == Value::Kind::kInt || v.kind == Value::Kind::kDouble;
}
double AsDouble(const Value& v) {
  return v.kind == Value::Kind::kInt ? static_cast<double>(v.i) : v.d;
}

Result<Value> Eval(const std::vector<CelNode>& nodes, uint32_t n, const std::vector<Value>& args,
                   const ContextData* context) {
  const CelNode& node = nodes[n];
  switch (node.kind) {
    case CelNode::Kind::kLiteral:
      return node.literal;
    case CelNode::Kind::kParam:
      return args[node.index];
    case CelNode::Kind::kContext: {
      if (context != nullptr) {
        auto it = context->find(node.text);
        if (it != context->end()) return it->second;
      }
      return Status::InvalidArgument("the rule reads context.data." + node.text +
                                     ", which the request does not carry");
    }
    case CelNode::Kind::kList: {
      std::vector<Value> items;
      for (uint32_t k : node.kids) {
        auto v = Eval(nodes, k, args, context);
        if (!v.ok()) return v;
        items.push_back(std::move(*v));
      }
      return Value::List(std::move(items));
    }
    case CelNode::Kind::kNot: {
      auto v = Eval(nodes, node.kids[0], args, context);
      if (!v.ok()) return v;
      if (v->kind != Value::Kind::kBool) return Status::InvalidArgument("'!' needs a boolean");
      return Value::Bool(!v->b);
    }
    case CelNode::Kind::kNeg: {
      auto v = Eval(nodes, node.kids[0], args, context);
      if (!v.ok()) return v;
      if (v->kind == Value::Kind::kInt) return Value::Int(-v->i);
      if (v->kind == Value::Kind::kDouble) return Value::Double(-v->d);
      return Status::InvalidArgument("'-' needs a number");
    }
    case CelNode::Kind::kBinary:
      break;
  }
  const std::string& op = node.text;
  auto l = Eval(nodes, node.kids[0], args, context);
  if (!l.ok()) return l;
  if (op == "&&" || op == "||") {
    if (l->kind != Value::Kind::kBool)
      return Status::InvalidArgument("'" + op + "' needs booleans");
    if (op == "&&" && !l->b) return Value::Bool(false);
    if (op == "||" && l->b) return Value::Bool(true);
    auto r = Eval(nodes, node.kids[1], args, context);
    if (!r.ok()) return r;
    if (r->kind != Value::Kind::kBool)
      return Status::InvalidArgument("'" + op + "' needs booleans");
    return Value::Bool(r->b);
  }
  auto r = Eval(nodes, node.kids[1], args, context);
  if (!r.ok()) return r;
  if (op == "==") return Value::Bool(*l == *r);
  if (op == "!=") return Value::Bool(!(*l == *r));
  if (op == "in") {
    if (r->kind != Value::Kind::kList) return Status::InvalidArgument("'in' needs a list");
    for (const Value& item : r->list) {
      if (item == *l) return Value::Bool(true);
    }
    return Value::Bool(false);
  }
  if (op == "<" || op == "<=" || op == ">" || op == ">=") {
    int cmp = 0;
    if (IsNumber(*l) && IsNumber(*r)) {
      const double a = AsDouble(*l), b = AsDouble(*r);
      cmp = a < b ? -1 : (a > b ? 1 : 0);
    } else if (l->kind == Value::Kind::kString && r->kind == Value::Kind::kString) {
      cmp = l->s.compare(r->s);
    } else {
      return Status::InvalidArgument("'" + op + "' compares numbers or strings");
    }
    if (op == "<") return Value::Bool(cmp < 0);
    if (op == "<=") return Value::Bool(cmp <= 0);
    if (op == ">") return Value::Bool(cmp > 0);
    return Value::Bool(cmp >= 0);
  }
  // + - * /
  if (op == "+" && l->kind == Value::Kind::kString && r->kind == Value::Kind::kString) {
    return Value::String(l->s + r->s);
  }
  if (!IsNumber(*l) || !IsNumber(*r)) return Status::InvalidArgument("'" + op + "' needs numbers");
  if (l->kind == Value::Kind::kInt && r->kind == Value::Kind::kInt) {
    if (op == "+") return Value::Int(l->i + r->i);
    if (op == "-") return Value::Int(l->i - r->i);
    if (op == "*") return Value::Int(l->i * r->i);
    if (r->i == 0) return Status::InvalidArgument("division by zero");
    return Value::Int(l->i / r->i);
  }
  const double a = AsDouble(*l), b = AsDouble(*r);
  if (op == "+") return Value::Double(a + b);
  if (op == "-") return Value::Double(a - b);
  if (op == "*") return Value::Double(a * b);
  return Value::Double(a / b);
}

}  // namespace

Result<std::shared_ptr<const CelProgram>> CelProgram::Compile(
    std::string_view text, const std::vector<std::string>& params) {
  std::shared_ptr<CelProgram> p(new CelProgram());
  CelParser parser(text, params, p->nodes_);
  auto root = parser.Parse();
  if (!root.ok()) return root.status();
  p->root_ = *root;
  return std::shared_ptr<const CelProgram>(std::move(p));
}

Result<bool> CelProgram::Eval(const std::vector<Value>& args, const ContextData* context) const {
  auto v = authz::Eval(nodes_, root_, args, context);
  if (!v.ok()) return v.status();
  if (v->kind != Value::Kind::kBool) {
    return Status::InvalidArgument("the rule did not produce true or false");
  }
  return v->b;
}

}  // namespace strato::authz
