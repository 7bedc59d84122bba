#include <doctest/doctest.h>

#include "core/authz/schema.h"

using namespace strato;
using namespace strato::authz;

namespace {

std::string LoadError(std::string_view text) {
  auto s = LoadSchema(text);
  REQUIRE_FALSE(s.ok());
  return s.status().message();
}

std::string ParseError(std::string_view text) {
  auto s = ParseSchema(text);
  REQUIRE_FALSE(s.ok());
  return s.status().message();
}

}  // namespace

TEST_CASE("the parser reads entities relations permissions and comments") {
  auto ast = ParseSchema(R"(
// users sign in
entity user {}

entity organization {
  relation owner @user // the founder
  relation member @user
  permission view = owner or member
}

entity vm {
  relation owner @user @organization#member
  relation organization @organization
  action read = owner or organization.view
}
)");
  REQUIRE(ast.ok());
  REQUIRE(ast->entities.size() == 3);
  const EntityAst& vm = ast->entities[2];
  CHECK(vm.name == "vm");
  REQUIRE(vm.relations.size() == 2);
  REQUIRE(vm.relations[0].types.size() == 2);
  CHECK(vm.relations[0].types[0].type == "user");
  CHECK(vm.relations[0].types[0].relation.empty());
  CHECK(vm.relations[0].types[1].type == "organization");
  CHECK(vm.relations[0].types[1].relation == "member");
  REQUIRE(vm.permissions.size() == 1);
  CHECK(vm.permissions[0].legacy_action);
  const ExprAst& e = *vm.permissions[0].expr;
  CHECK(e.kind == ExprAst::Kind::kOr);
  CHECK(e.right->kind == ExprAst::Kind::kName);
  REQUIRE(e.right->name.size() == 2);
  CHECK(e.right->name[0].text == "organization");
  CHECK(e.right->name[1].text == "view");
}

TEST_CASE("and or and not share one precedence and associate to the left") {
  auto ast = ParseSchema(
      "entity d { relation a @d relation b @d relation c @d\n"
      "permission p = a or b and c }");
  REQUIRE(ast.ok());
  const ExprAst& e = *ast->entities[0].permissions[0].expr;
  CHECK(e.kind == ExprAst::Kind::kAnd);
  CHECK(e.left->kind == ExprAst::Kind::kOr);
  CHECK(e.right->name[0].text == "c");
}

TEST_CASE("parentheses group sub-expressions") {
  auto ast = ParseSchema(
      "entity d { relation a @d relation b @d relation c @d\n"
      "permission p = a or (b and c) }");
  REQUIRE(ast.ok());
  const ExprAst& e = *ast->entities[0].permissions[0].expr;
  CHECK(e.kind == ExprAst::Kind::kOr);
  CHECK(e.right->kind == ExprAst::Kind::kAnd);
}

TEST_CASE("a permission may continue on the next line only after an operator") {
  CHECK(LoadSchema("entity u {}\nentity d { relation a @u relation b @u\n"
                   "permission p = a or\n   b\n}")
            .ok());
  const std::string err = ParseError(
      "entity u {}\nentity d {\n relation a @u\n relation b @u\n permission p = a\n   or b\n}");
  CHECK(err ==
        "line 6, column 4: expected 'relation', 'permission', 'attribute' or '}' in entity "
        "'d' but found 'or'");
}

TEST_CASE("an undefined relation is reported with its line and column") {
  const std::string err = LoadError(
      "entity user {}\n"
      "entity vm {\n"
      "  relation owner @user\n"
      "  permission read = ownr or owner\n"
      "}\n");
  CHECK(err == "line 4, column 21: relation 'ownr' is not defined on entity 'vm'");
}

TEST_CASE("an undefined entity in a relation type is an error") {
  const std::string err = LoadError("entity vm {\n  relation owner @usr\n}\n");
  CHECK(err ==
        "line 2, column 19: relation 'owner' of entity 'vm' allows '@usr', but entity "
        "'usr' is not defined");
}

TEST_CASE("a subject relation must be a relation of the subject entity") {
  const std::string err = LoadError(
      "entity user {}\n"
      "entity org { relation admin @user permission manage = admin }\n"
      "entity repo { relation owner @org#manage }\n");
  CHECK(err.find("line 3, column 35:") == 0);
  CHECK(err.find("'manage' is not a relation of entity 'org'") != std::string::npos);
}

TEST_CASE("a walk needs its second name on every entity the relation points to") {
  const std::string err = LoadError(
      "entity user {}\n"
      "entity a { relation admin @user }\n"
      "entity b { relation owner @user }\n"
      "entity doc { relation parent @a @b\n"
      "  permission edit = parent.admin }\n");
  CHECK(err ==
        "line 5, column 28: 'admin' is not a relation or permission of entity 'b', which "
        "relation 'parent' of entity 'doc' may point to");
}

TEST_CASE("a walk through a permission or more than one relation is refused") {
  CHECK(LoadError("entity user {}\nentity d { relation o @user permission p = o\n"
                  "permission q = p.o }")
            .find("which is a permission of entity 'd', not a relation") != std::string::npos);
  CHECK(LoadError("entity user {}\nentity d { relation parent @d relation o @user\n"
                  "permission q = parent.parent.o }")
            .find("walks more than one relation") != std::string::npos);
}

TEST_CASE("duplicate entities and members are syntax errors") {
  CHECK(ParseError("entity user {}\nentity user {}") ==
        "line 2, column 8: entity 'user' is defined twice");
  CHECK(ParseError("entity d {\n relation a @d\n permission a = a\n}") ==
        "line 3, column 13: 'a' is defined twice on entity 'd'");
}

TEST_CASE("syntax errors name the unexpected token") {
  CHECK(ParseError("entity & {") ==
        "line 1, column 8: the character '&' is not part of the schema language; expected an "
        "entity name after 'entity'");
  CHECK(ParseError("entity d {\n relation a\n}") ==
        "line 2, column 12: expected a subject type such as '@user' after relation 'a' but "
        "found the end of the line");
  CHECK(ParseError("entity d {") == "line 1, column 11: entity 'd' is missing its closing '}'");
  CHECK(ParseError("entity d { relation a @d permission p = (a or a }") ==
        "line 1, column 49: expected ')' to close the '(' at line 1, column 41 but found '}'");
}

TEST_CASE("attributes and rules parse and compile with their references checked") {
  auto ok = LoadSchema(
      "entity user {}\n"
      "entity account {\n"
      "  relation owner @user\n"
      "  attribute balance integer\n"
      "  attribute public boolean\n"
      "  permission withdraw = check_balance(balance) and owner\n"
      "  permission view = public or owner\n"
      "}\n"
      "rule check_balance(balance integer) {\n"
      "  balance >= context.data.amount && context.data.amount <= 5000\n"
      "}\n");
  REQUIRE(ok.ok());
  CHECK((*ok)->uses_abac());
  CHECK(LoadError("entity account { attribute balance integer permission p = balance }")
            .find("only a boolean attribute can stand alone") != std::string::npos);
  CHECK(LoadError("entity a { attribute x integer permission p = f(x) }") ==
        "line 1, column 47: rule 'f' is not defined");
}

TEST_CASE("deeply nested expressions are refused rather than overflowing the stack") {
  std::string text = "entity d { relation a @d permission p = ";
  for (int i = 0; i < 500; ++i) text += "(";
  text += "a";
  for (int i = 0; i < 500; ++i) text += ")";
  text += " }";
  CHECK(ParseError(text).find("nested more than 100 levels") != std::string::npos);
}
