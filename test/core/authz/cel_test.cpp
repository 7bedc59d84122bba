#include <doctest/doctest.h>

#include "core/authz/cel.h"

using namespace strato;
using namespace strato::authz;

namespace {

Result<bool> Run(std::string_view text, std::vector<std::string> params = {},
                 std::vector<Value> args = {}, const ContextData* context = nullptr) {
  auto p = CelProgram::Compile(text, params);
  if (!p.ok()) return p.status();
  return (*p)->Eval(args, context);
}

bool True(std::string_view text, std::vector<std::string> params = {}, std::vector<Value> args = {},
          const ContextData* context = nullptr) {
  auto r = Run(text, std::move(params), std::move(args), context);
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  return *r;
}

}  // namespace

TEST_CASE("rule expressions compare numbers strings and booleans") {
  CHECK(True("1 < 2 && 2 <= 2 && 3 > 2 && 3 >= 3"));
  CHECK(True("2.5 > 2"));  // int and double compare by value
  CHECK(True("'a' == \"a\" && 'a' != 'b' && 'a' < 'b'"));
  CHECK(True("true == true && !(1 == 2)"));
  CHECK_FALSE(True("1 > 2 || 'x' == 'y'"));
  CHECK(True("(1 + 2) * 3 == 9 && 7 / 2 == 3 && -1 < 0"));
}

TEST_CASE("rule expressions read arguments context data and lists") {
  ContextData ctx{{"day", Value::String("monday")}, {"amount", Value::Int(10)}};
  CHECK(True("context.data.day in days", {"days"},
             {Value::List({Value::String("monday"), Value::String("tuesday")})}, &ctx));
  CHECK_FALSE(True("context.data.day in ['saturday', 'sunday']", {}, {}, &ctx));
  CHECK(True("balance >= context.data.amount", {"balance"}, {Value::Double(10.5)}, &ctx));
}

TEST_CASE("rule expressions report what is wrong as a sentence") {
  auto missing = Run("context.data.amount > 1");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message() ==
        "the rule reads context.data.amount, which the request does not carry");
  auto unknown = Run("balance > 1");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().message().find("'balance' is neither an argument") != std::string::npos);
  auto type = Run("1 && true");
  REQUIRE_FALSE(type.ok());
  CHECK(type.status().message() == "'&&' needs booleans");
  auto not_bool = Run("1 + 1");
  REQUIRE_FALSE(not_bool.ok());
  CHECK(not_bool.status().message() == "the rule did not produce true or false");
  CHECK_FALSE(Run("a.exists(x, x)", {"a"}, {Value::List({})}).ok());
}
