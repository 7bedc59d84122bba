#include "core/authz/value.h"

#include <cstdlib>

#include "core/parse.h"

namespace strato::authz {

bool Value::operator==(const Value& o) const {
  if ((kind == Kind::kInt || kind == Kind::kDouble) &&
      (o.kind == Kind::kInt || o.kind == Kind::kDouble)) {
    if (kind == Kind::kInt && o.kind == Kind::kInt) return i == o.i;
    const double a = kind == Kind::kInt ? static_cast<double>(i) : d;
    const double b2 = o.kind == Kind::kInt ? static_cast<double>(o.i) : o.d;
    return a == b2;
  }
  if (kind != o.kind) return false;
  switch (kind) {
    case Kind::kNull:
      return true;
    case Kind::kBool:
      return b == o.b;
    case Kind::kString:
      return s == o.s;
    case Kind::kList:
      return list == o.list;
    default:
      return false;
  }
}

Value EmptyValueOf(std::string_view type) {
  if (type.size() > 2 && type.substr(type.size() - 2) == "[]") return Value::List({});
  if (type == "boolean") return Value::Bool(false);
  if (type == "integer") return Value::Int(0);
  if (type == "double") return Value::Double(0);
  return Value::String("");
}

namespace {

Result<Value> ParseScalar(std::string_view type, std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("'" + std::string(text) + "' is not a valid " +
                                   std::string(type));
  };
  if (type == "boolean") {
    if (text == "true") return Value::Bool(true);
    if (text == "false") return Value::Bool(false);
    return bad();
  }
  if (type == "integer") {
    std::optional<int64_t> v = ParseInt(text);
    if (!v) return bad();
    return Value::Int(*v);
  }
  if (type == "double") {
    std::string copy(text);
    char* end = nullptr;
    const double v = std::strtod(copy.c_str(), &end);
    if (copy.empty() || end != copy.c_str() + copy.size()) return bad();
    return Value::Double(v);
  }
  if (type == "string") return Value::String(std::string(text));
  return Status::InvalidArgument("'" + std::string(type) +
                                 "' is not an attribute type; expected boolean, integer, double "
                                 "or string, each optionally with []");
}

}  // namespace

Result<Value> ParseTypedValue(std::string_view type, std::string_view text) {
  if (type.size() > 2 && type.substr(type.size() - 2) == "[]") {
    const std::string_view element = type.substr(0, type.size() - 2);
    std::vector<Value> items;
    size_t start = 0;
    while (start <= text.size() && !text.empty()) {
      size_t comma = text.find(',', start);
      if (comma == std::string_view::npos) comma = text.size();
      auto v = ParseScalar(element, text.substr(start, comma - start));
      if (!v.ok()) return v.status();
      items.push_back(std::move(*v));
      start = comma + 1;
    }
    return Value::List(std::move(items));
  }
  return ParseScalar(type, text);
}

Result<AttributeText> ParseAttribute(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not an attribute; expected "
                                   "entity:id$name|type:value");
  };
  const size_t colon = text.find(':');
  const size_t dollar = text.find('$');
  if (colon == std::string_view::npos || dollar == std::string_view::npos || dollar < colon) {
    return bad();
  }
  const size_t bar = text.find('|', dollar);
  if (bar == std::string_view::npos) return bad();
  const size_t type_end = text.find(':', bar);
  if (type_end == std::string_view::npos) return bad();
  AttributeText a;
  a.entity_type = std::string(text.substr(0, colon));
  a.entity_id = std::string(text.substr(colon + 1, dollar - colon - 1));
  a.name = std::string(text.substr(dollar + 1, bar - dollar - 1));
  a.type = std::string(text.substr(bar + 1, type_end - bar - 1));
  if (a.entity_type.empty() || a.entity_id.empty() || a.name.empty()) return bad();
  auto v = ParseTypedValue(a.type, text.substr(type_end + 1));
  if (!v.ok()) {
    return Status::InvalidArgument("attribute '" + std::string(text) +
                                   "': " + v.status().message());
  }
  a.value = std::move(*v);
  return a;
}

}  // namespace strato::authz
