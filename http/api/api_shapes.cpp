#include "http/api/api_shapes.h"

#include <cassert>
#include <functional>
#include <set>

namespace strato::http {

struct Shape::Node {
  Type type = Type::kAny;
  bool nullable = false;
  bool open = false;
  std::string name, description;
  std::vector<std::string> words;
  std::vector<Shape> items;  // one element for an array
  std::vector<Field> fields;
};

Shape Shape::Any() {
  return Shape(std::make_shared<const Node>(Node{}));
}

Shape Shape::String() {
  Node n;
  n.type = Type::kString;
  return Shape(std::make_shared<const Node>(std::move(n)));
}

Shape Shape::Enum(std::initializer_list<std::string_view> words) {
  Node n;
  n.type = Type::kString;
  for (std::string_view w : words) n.words.emplace_back(w);
  return Shape(std::make_shared<const Node>(std::move(n)));
}

Shape Shape::Integer() {
  Node n;
  n.type = Type::kInteger;
  return Shape(std::make_shared<const Node>(std::move(n)));
}

Shape Shape::Boolean() {
  Node n;
  n.type = Type::kBoolean;
  return Shape(std::make_shared<const Node>(std::move(n)));
}

Shape Shape::Array(const Shape& items) {
  Node n;
  n.type = Type::kArray;
  n.items.push_back(items);
  return Shape(std::make_shared<const Node>(std::move(n)));
}

Shape Shape::Object(std::vector<Field> fields) {
  Node n;
  n.type = Type::kObject;
  n.fields = std::move(fields);
  return Shape(std::make_shared<const Node>(std::move(n)));
}

Shape Shape::OpenObject() {
  Node n;
  n.type = Type::kObject;
  n.open = true;
  return Shape(std::make_shared<const Node>(std::move(n)));
}

Shape Shape::OneOf(std::vector<Shape> choices) {
  Node n;
  n.type = Type::kOneOf;
  n.items = std::move(choices);
  return Shape(std::make_shared<const Node>(std::move(n)));
}

Shape Shape::With(const std::function<void(Node&)>& change) const {
  Node n = *node_;
  change(n);
  return Shape(std::make_shared<const Node>(std::move(n)));
}

Shape Shape::OrNull() const {
  return With([](Node& n) { n.nullable = true; });
}
Shape Shape::NotNull() const {
  return With([](Node& n) { n.nullable = false; });
}
Shape Shape::Named(std::string name) const {
  return With([&](Node& n) { n.name = std::move(name); });
}
Shape Shape::Described(std::string description) const {
  return With([&](Node& n) { n.description = std::move(description); });
}

Shape::Type Shape::type() const {
  return node_->type;
}
bool Shape::nullable() const {
  return node_->nullable;
}
const std::string& Shape::name() const {
  return node_->name;
}
const std::string& Shape::description() const {
  return node_->description;
}
const std::vector<std::string>& Shape::words() const {
  return node_->words;
}
const Shape& Shape::items() const {
  assert(node_->type == Type::kArray);
  return node_->items.front();
}
const std::vector<Shape>& Shape::choices() const {
  return node_->items;
}
const std::vector<Field>& Shape::fields() const {
  return node_->fields;
}
bool Shape::open() const {
  return node_->open;
}

namespace {

const char* Expected(Shape::Type t) {
  switch (t) {
    case Shape::Type::kAny:
      return "any value";
    case Shape::Type::kString:
      return "a string";
    case Shape::Type::kInteger:
      return "an integer";
    case Shape::Type::kBoolean:
      return "a boolean";
    case Shape::Type::kObject:
      return "an object";
    case Shape::Type::kArray:
      return "an array";
    case Shape::Type::kOneOf:
      return "one of its shapes";
  }
  return "?";
}

const char* Got(const rapidjson::Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return "a boolean";
  if (v.IsString()) return "a string";
  if (v.IsInt64() || v.IsUint64()) return "an integer";
  if (v.IsNumber()) return "a number";
  if (v.IsArray()) return "an array";
  return "an object";
}

Status Differs(const std::string& where, const std::string& what) {
  return Status::InvalidArgument(where + ": " + what);
}

Status Check(const Shape& s, const rapidjson::Value& v, const std::string& where) {
  if (v.IsNull()) {
    if (s.nullable() || s.type() == Shape::Type::kAny) return Status::Ok();
    return Differs(where, std::string("expected ") + Expected(s.type()) + ", got null");
  }
  auto mismatch = [&] {
    return Differs(where, std::string("expected ") + Expected(s.type()) +
                              (s.nullable() ? " or null" : "") + ", got " + Got(v));
  };
  switch (s.type()) {
    case Shape::Type::kAny:
      return Status::Ok();
    case Shape::Type::kOneOf: {
      int matches = 0;
      std::string first;
      for (const Shape& c : s.choices()) {
        Status st = Check(c, v, where);
        if (st.ok()) {
          ++matches;
        } else if (first.empty()) {
          first = st.message();
        }
      }
      if (matches == 1) return Status::Ok();
      if (matches > 1) return Differs(where, "matches more than one of its shapes");
      return Differs(where, "matches none of its shapes (the first: " + first + ")");
    }
    case Shape::Type::kString: {
      if (!v.IsString()) return mismatch();
      if (s.words().empty()) return Status::Ok();
      std::string_view text(v.GetString(), v.GetStringLength());
      for (const std::string& w : s.words()) {
        if (w == text) return Status::Ok();
      }
      std::string allowed;
      for (const std::string& w : s.words()) allowed += (allowed.empty() ? "" : ", ") + w;
      return Differs(where, "\"" + std::string(text) + "\" is not one of " + allowed);
    }
    case Shape::Type::kInteger:
      return v.IsInt64() || v.IsUint64() ? Status::Ok() : mismatch();
    case Shape::Type::kBoolean:
      return v.IsBool() ? Status::Ok() : mismatch();
    case Shape::Type::kArray: {
      if (!v.IsArray()) return mismatch();
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
        STRATO_RETURN_IF_ERROR(Check(s.items(), v[i], where + "[" + std::to_string(i) + "]"));
      }
      return Status::Ok();
    }
    case Shape::Type::kObject: {
      if (!v.IsObject()) return mismatch();
      if (s.open()) return Status::Ok();
      for (const Field& f : s.fields()) {
        auto m = v.FindMember(f.name.c_str());
        if (m == v.MemberEnd()) {
          if (f.required) return Differs(where, "the required field \"" + f.name + "\" is missing");
          continue;
        }
        STRATO_RETURN_IF_ERROR(Check(f.shape, m->value, where + "." + f.name));
      }
      for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
        std::string_view key(m->name.GetString(), m->name.GetStringLength());
        bool declared = false;
        for (const Field& f : s.fields()) declared = declared || f.name == key;
        if (!declared)
          return Differs(where, "the field \"" + std::string(key) + "\" is not declared");
      }
      return Status::Ok();
    }
  }
  return Status::Ok();
}

void WriteBody(JsonWriter& w, const Shape& s, std::map<std::string, Shape>& components);

void WriteRefOrBody(JsonWriter& w, const Shape& s, std::map<std::string, Shape>& components) {
  if (s.name().empty()) {
    WriteBody(w, s, components);
    return;
  }
  auto [it, added] = components.emplace(s.name(), s);
  (void)it;
  (void)added;
  const std::string ref = "#/components/schemas/" + s.name();
  if (s.nullable()) {
    // OpenAPI 3.0: a $ref takes no siblings; a nullable reference is an allOf with nullable.
    w.BeginObject().Key("allOf").BeginArray();
    w.BeginObject().Str("$ref", ref).EndObject();
    w.EndArray().Bool("nullable", true).EndObject();
    return;
  }
  w.BeginObject().Str("$ref", ref).EndObject();
}

void WriteBody(JsonWriter& w, const Shape& s, std::map<std::string, Shape>& components) {
  w.BeginObject();
  switch (s.type()) {
    case Shape::Type::kAny:
      break;
    case Shape::Type::kOneOf:
      w.Key("oneOf").BeginArray();
      for (const Shape& c : s.choices()) WriteRefOrBody(w, c, components);
      w.EndArray();
      break;
    case Shape::Type::kString:
      w.Str("type", "string");
      if (!s.words().empty()) {
        w.Key("enum").BeginArray();
        for (const std::string& word : s.words()) w.String(word);
        w.EndArray();
      }
      break;
    case Shape::Type::kInteger:
      w.Str("type", "integer").Str("format", "int64");
      break;
    case Shape::Type::kBoolean:
      w.Str("type", "boolean");
      break;
    case Shape::Type::kArray:
      w.Str("type", "array").Key("items");
      WriteRefOrBody(w, s.items(), components);
      break;
    case Shape::Type::kObject:
      w.Str("type", "object");
      if (s.open()) break;
      {
        bool any_required = false;
        for (const Field& f : s.fields()) any_required = any_required || f.required;
        if (any_required) {
          w.Key("required").BeginArray();
          for (const Field& f : s.fields()) {
            if (f.required) w.String(f.name);
          }
          w.EndArray();
        }
      }
      w.Key("properties").BeginObject();
      for (const Field& f : s.fields()) {
        w.Key(f.name);
        WriteRefOrBody(w, f.shape, components);
      }
      w.EndObject();
      w.Bool("additionalProperties", false);
      break;
  }
  if (s.nullable() && s.type() != Shape::Type::kAny && s.type() != Shape::Type::kOneOf) {
    w.Bool("nullable", true);
  }
  if (!s.description().empty()) w.Str("description", s.description());
  w.EndObject();
}

}  // namespace

Status CheckShape(const Shape& shape, const rapidjson::Value& value) {
  return Check(shape, value, "$");
}

Status CheckShapeText(const Shape& shape, std::string_view json) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  if (d.HasParseError()) return Status::InvalidArgument("$: the body is not JSON");
  return CheckShape(shape, d);
}

void WriteSchema(JsonWriter& w, const Shape& shape, std::map<std::string, Shape>& components) {
  WriteRefOrBody(w, shape, components);
}

void WriteComponents(JsonWriter& w, std::map<std::string, Shape>& components) {
  // Components may name others: write until no new one appears, each once, in name order.
  std::set<std::string> written;
  std::map<std::string, std::string> texts;
  while (true) {
    std::vector<Shape> pending;
    for (const auto& [name, shape] : components) {
      if (!written.count(name)) pending.push_back(shape);
    }
    if (pending.empty()) break;
    for (const Shape& s : pending) {
      JsonWriter body;
      WriteBody(body, s.NotNull(), components);
      texts[s.name()] = body.Text();
      written.insert(s.name());
    }
  }
  for (const auto& [name, text] : texts) w.Raw(name, text);
}

}  // namespace strato::http
