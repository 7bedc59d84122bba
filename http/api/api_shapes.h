// Shapes: the JSON a route takes and answers, declared as data. A Shape is a string (or one of
// some words), an integer, a boolean, an array of one shape, an object with named fields (each
// required or optional), one of several shapes, or any value; any shape may also be null, and a
// shape given a name becomes a component of the OpenAPI document (#/components/schemas/<name>).
//
//   const Shape kHost = Shape::Object({Required("id", Shape::String()),
//                                      Optional("reason", Shape::String().OrNull())})
//                           .Named("Host");
//
// The same declaration is written into the OpenAPI document (WriteSchema) and checked against
// real answers (CheckShape): an object must have every required field and no field it does not
// declare (unless declared open), so the document cannot drift from what is sent.
//
// Shapes are immutable values, cheap to copy (shared), safe to use from any thread.
#pragma once

#include <rapidjson/document.h>

#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/json_writer.h"
#include "core/status.h"

namespace strato::http {

struct Field;

class Shape {
 public:
  enum class Type { kAny, kString, kInteger, kBoolean, kObject, kArray, kOneOf };

  static Shape Any();
  static Shape String();
  // A string that is one of `words`.
  static Shape Enum(std::initializer_list<std::string_view> words);
  static Shape Integer();
  static Shape Boolean();
  static Shape Array(const Shape& items);
  static Shape Object(std::vector<Field> fields);
  // An object whose members are not declared (an error's details).
  static Shape OpenObject();
  // Exactly one of `choices` (answers that differ by case, such as a registration's).
  static Shape OneOf(std::vector<Shape> choices);

  // The same shape, also allowing null.
  Shape OrNull() const;
  // The same shape as a named component of the OpenAPI document.
  Shape Named(std::string name) const;
  // The same shape with a description for the document.
  Shape Described(std::string description) const;
  // The same shape, not allowing null.
  Shape NotNull() const;

  Type type() const;
  bool nullable() const;
  const std::string& name() const;  // "" when not a component
  const std::string& description() const;
  const std::vector<std::string>& words() const;  // an Enum's; empty otherwise
  const Shape& items() const;                     // an Array's
  const std::vector<Shape>& choices() const;      // a OneOf's
  const std::vector<Field>& fields() const;       // an Object's
  bool open() const;                              // an OpenObject

 private:
  struct Node;
  explicit Shape(std::shared_ptr<const Node> node) : node_(std::move(node)) {}
  Shape With(const std::function<void(Node&)>& change) const;
  std::shared_ptr<const Node> node_;
};

struct Field {
  std::string name;
  Shape shape;
  bool required = true;
};
inline Field Required(std::string name, Shape shape) {
  return Field{std::move(name), std::move(shape), true};
}
inline Field Optional(std::string name, Shape shape) {
  return Field{std::move(name), std::move(shape), false};
}

// Ok when `value` has `shape`; otherwise kInvalidArgument with the first difference and where
// it is ("$.vms[0].host_id: expected a string or null, got a number").
Status CheckShape(const Shape& shape, const rapidjson::Value& value);
// The same for JSON text (a text that does not parse is a difference too).
Status CheckShapeText(const Shape& shape, std::string_view json);

// Writes `shape` as an OpenAPI 3.0 schema object. A named shape is written as a $ref, and added
// to `components` (name -> shape) for the caller to write under #/components/schemas with
// WriteComponents. Two different shapes with one name are a programming error (asserted).
void WriteSchema(JsonWriter& w, const Shape& shape, std::map<std::string, Shape>& components);
// Writes every component (and those they name in turn) as the members of an object.
void WriteComponents(JsonWriter& w, std::map<std::string, Shape>& components);

}  // namespace strato::http
