// Value: an attribute value or a piece of request context data (ABAC), and the parser for
// Permify's attribute notation "entity:id$name|type:value" ("doc:1$tags|string[]:a,b").
//
// Plain values; safe to copy between threads.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace strato::authz {

struct Value {
  enum class Kind { kNull, kBool, kInt, kDouble, kString, kList };
  Kind kind = Kind::kNull;
  bool b = false;
  int64_t i = 0;
  double d = 0;
  std::string s;
  std::vector<Value> list;

  static Value Bool(bool v) {
    Value x;
    x.kind = Kind::kBool;
    x.b = v;
    return x;
  }
  static Value Int(int64_t v) {
    Value x;
    x.kind = Kind::kInt;
    x.i = v;
    return x;
  }
  static Value Double(double v) {
    Value x;
    x.kind = Kind::kDouble;
    x.d = v;
    return x;
  }
  static Value String(std::string v) {
    Value x;
    x.kind = Kind::kString;
    x.s = std::move(v);
    return x;
  }
  static Value List(std::vector<Value> v) {
    Value x;
    x.kind = Kind::kList;
    x.list = std::move(v);
    return x;
  }

  bool operator==(const Value& o) const;
};

// The value an absent attribute takes in a rule, by type ("integer" -> 0, "string[]" -> []).
Value EmptyValueOf(std::string_view type);

// Parses "true" as a value of `type` ("boolean", "integer", "double", "string" or with "[]",
// comma separated).
Result<Value> ParseTypedValue(std::string_view type, std::string_view text);

// Request-scoped data read by rules as context.data.<key>.
using ContextData = std::map<std::string, Value, std::less<>>;

// "doc:1$is_public|boolean:true"
struct AttributeText {
  std::string entity_type;
  std::string entity_id;
  std::string name;
  std::string type;  // "boolean", "string[]", ...
  Value value;
};
Result<AttributeText> ParseAttribute(std::string_view text);

}  // namespace strato::authz
