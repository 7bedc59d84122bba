#include <doctest/doctest.h>

#include "core/authz/engine.h"
#include "core/authz/memory_tuple_store.h"

using namespace strato;
using namespace strato::authz;

namespace {

// A schema, a store and an engine over them.
struct World {
  std::shared_ptr<const Schema> schema;
  std::unique_ptr<MemoryTupleStore> store;
  std::unique_ptr<Engine> engine;

  World(std::string_view text, std::initializer_list<const char*> tuples,
        StoreOptions options = {}) {
    auto s = LoadSchema(text);
    REQUIRE_MESSAGE(s.ok(), s.status().message());
    schema = *s;
    store = std::make_unique<MemoryTupleStore>(schema, options);
    std::vector<Tuple> rows;
    for (const char* t : tuples) {
      auto parsed = ParseTuple(t);
      REQUIRE_MESSAGE(parsed.ok(), parsed.status().message());
      rows.push_back(*parsed);
    }
    Status st = store->Write(rows);
    REQUIRE_MESSAGE(st.ok(), st.message());
    engine = std::make_unique<Engine>(*store);
  }

  Result<bool> Try(std::string_view entity, std::string_view permission, std::string_view subject,
                   int depth = 0) {
    auto e = ParseEntity(entity);
    auto s = ParseSubject(subject);
    REQUIRE(e.ok());
    REQUIRE(s.ok());
    CheckRequest r;
    r.entity_type = e->first;
    r.entity_id = e->second;
    r.permission = permission;
    r.subject_type = s->type;
    r.subject_id = s->id;
    r.subject_relation = s->relation;
    r.depth = depth;
    return engine->Check(r);
  }

  bool Can(std::string_view entity, std::string_view permission, std::string_view subject) {
    auto r = Try(entity, permission, subject);
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    return *r;
  }
};

const char* kOps = R"(
entity user {}
entity doc {
  relation owner @user
  relation editor @user
  relation banned @user
  permission either = owner or editor
  permission both = owner and editor
  permission unless_banned = editor not banned
  permission grouped = owner or (editor and banned)
}
)";

const char* kOrgs = R"(
entity user {}
entity organization {
  relation owner @user
  relation member @user
  permission manage = owner
  permission view = owner or member
}
entity team {
  relation member @user @organization#member
}
entity vm {
  relation owner @user
  relation organization @organization
  relation team @team
  permission read = owner or organization.view or team.member
  permission delete = owner or organization.manage
}
)";

}  // namespace

TEST_CASE("or grants when either side holds") {
  World w(kOps, {"doc:1#owner@user:1", "doc:1#editor@user:2"});
  CHECK(w.Can("doc:1", "either", "user:1"));
  CHECK(w.Can("doc:1", "either", "user:2"));
  CHECK_FALSE(w.Can("doc:1", "either", "user:3"));
}

TEST_CASE("and grants only when both sides hold") {
  World w(kOps, {"doc:1#owner@user:1", "doc:1#editor@user:1", "doc:1#editor@user:2"});
  CHECK(w.Can("doc:1", "both", "user:1"));
  CHECK_FALSE(w.Can("doc:1", "both", "user:2"));
}

TEST_CASE("not removes the excluded subjects") {
  World w(kOps, {"doc:1#editor@user:1", "doc:1#editor@user:2", "doc:1#banned@user:2"});
  CHECK(w.Can("doc:1", "unless_banned", "user:1"));
  CHECK_FALSE(w.Can("doc:1", "unless_banned", "user:2"));
  CHECK_FALSE(w.Can("doc:1", "unless_banned", "user:3"));
}

TEST_CASE("parentheses change what an expression grants") {
  World w(kOps, {"doc:1#owner@user:1", "doc:1#editor@user:2", "doc:1#editor@user:3",
                 "doc:1#banned@user:3"});
  CHECK(w.Can("doc:1", "grouped", "user:1"));
  CHECK_FALSE(w.Can("doc:1", "grouped", "user:2"));
  CHECK(w.Can("doc:1", "grouped", "user:3"));
}

TEST_CASE("a relation can be checked like a permission") {
  World w(kOps, {"doc:1#owner@user:1"});
  CHECK(w.Can("doc:1", "owner", "user:1"));
  CHECK_FALSE(w.Can("doc:1", "editor", "user:1"));
}

TEST_CASE("a walk evaluates the permission on the related entity") {
  World w(kOrgs, {"vm:1#organization@organization:a", "organization:a#member@user:m",
                  "organization:a#owner@user:o", "vm:1#owner@user:v"});
  CHECK(w.Can("vm:1", "read", "user:m"));
  CHECK(w.Can("vm:1", "read", "user:o"));
  CHECK(w.Can("vm:1", "read", "user:v"));
  CHECK_FALSE(w.Can("vm:1", "delete", "user:m"));
  CHECK(w.Can("vm:1", "delete", "user:o"));
  CHECK_FALSE(w.Can("vm:1", "read", "user:x"));
}

TEST_CASE("a subject set grants to the members of the set") {
  World w(kOrgs, {"vm:1#team@team:t", "team:t#member@organization:a#member",
                  "organization:a#member@user:m", "team:t#member@user:d"});
  CHECK(w.Can("vm:1", "read", "user:m"));
  CHECK(w.Can("vm:1", "read", "user:d"));
  CHECK_FALSE(w.Can("vm:1", "read", "user:x"));
  // The set itself is a subject too, and is a member of its own entity.
  CHECK(w.Can("team:t", "member", "organization:a#member"));
  CHECK(w.Can("organization:a", "member", "organization:a#member"));
}

TEST_CASE("unknown names in a request are errors with a sentence") {
  World w(kOps, {"doc:1#owner@user:1"});
  auto r = w.Try("doc:1", "eat", "user:1");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "'eat' is not a permission or relation of entity 'doc'");
  r = w.Try("cat:1", "owner", "user:1");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "entity type 'cat' is not defined in the schema");
}

TEST_CASE("a cycle in the data counts as no instead of looping") {
  const char* schema = R"(
entity user {}
entity group {
  relation member @user @group#member
  relation parent @group
  permission view = member or parent.view
}
)";
  World w(schema, {"group:a#member@group:b#member", "group:b#member@group:a#member",
                   "group:a#parent@group:b", "group:b#parent@group:a", "group:b#member@user:1"});
  CHECK(w.Can("group:a", "member", "user:1"));
  CHECK(w.Can("group:a", "view", "user:1"));
  CHECK_FALSE(w.Can("group:a", "view", "user:2"));
}

TEST_CASE("a permission defined through itself is cycle safe") {
  World w(
      "entity user {}\nentity d { relation o @user\n permission p = o or q\n"
      " permission q = p }",
      {"d:1#o@user:1"});
  CHECK(w.Can("d:1", "q", "user:1"));
  CHECK_FALSE(w.Can("d:1", "q", "user:2"));
}

TEST_CASE("exceeding the depth limit is an error not a silent no") {
  const char* schema = R"(
entity user {}
entity folder {
  relation parent @folder
  relation viewer @user
  permission view = viewer or parent.view
}
)";
  World w(schema,
          {"folder:1#parent@folder:2", "folder:2#parent@folder:3", "folder:3#parent@folder:4",
           "folder:4#parent@folder:5", "folder:5#viewer@user:1"});
  CHECK(w.Can("folder:1", "view", "user:1"));
  auto r = w.Try("folder:1", "view", "user:1", 4);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kFailedPrecondition);
  CHECK(r.status().message().find("went deeper than 4 nested relations") != std::string::npos);
  CHECK(w.Try("folder:1", "view", "user:1", 20).ok());
}

TEST_CASE("an error in one branch gives way to a branch that grants") {
  const char* schema = R"(
entity user {}
entity folder {
  relation parent @folder
  relation viewer @user
  permission view = parent.view or viewer
}
)";
  World w(schema, {"folder:1#parent@folder:2", "folder:2#parent@folder:3",
                   "folder:3#parent@folder:4", "folder:1#viewer@user:1"});
  auto r = w.Try("folder:1", "view", "user:1", 2);
  REQUIRE(r.ok());
  CHECK(*r);
}

TEST_CASE("lookup entities returns every entity the subject may use") {
  World w(kOrgs, {"vm:1#organization@organization:a", "vm:2#organization@organization:a",
                  "vm:3#organization@organization:b", "vm:4#owner@user:m",
                  "organization:a#member@user:m", "organization:b#owner@user:o"});
  LookupEntitiesRequest r;
  r.entity_type = "vm";
  r.permission = "read";
  r.subject_type = "user";
  r.subject_id = "m";
  auto got = w.engine->LookupEntities(r);
  REQUIRE(got.ok());
  CHECK(*got == std::vector<std::string>{"1", "2", "4"});
  r.permission = "delete";
  got = w.engine->LookupEntities(r);
  REQUIRE(got.ok());
  CHECK(*got == std::vector<std::string>{"4"});
  r.subject_id = "nobody";
  got = w.engine->LookupEntities(r);
  REQUIRE(got.ok());
  CHECK(got->empty());
}

TEST_CASE("lookup entities respects exclusion") {
  World w(kOps, {"doc:1#editor@user:1", "doc:2#editor@user:1", "doc:2#banned@user:1"});
  LookupEntitiesRequest r;
  r.entity_type = "doc";
  r.permission = "unless_banned";
  r.subject_type = "user";
  r.subject_id = "1";
  auto got = w.engine->LookupEntities(r);
  REQUIRE(got.ok());
  CHECK(*got == std::vector<std::string>{"1"});
}

TEST_CASE("lookup subjects returns the subjects of a type that have the permission") {
  World w(kOrgs, {"vm:1#organization@organization:a", "vm:1#owner@user:v",
                  "organization:a#member@user:m", "organization:a#owner@user:o", "vm:1#team@team:t",
                  "team:t#member@organization:b#member", "organization:b#member@user:n"});
  LookupSubjectsRequest r;
  r.entity_type = "vm";
  r.entity_id = "1";
  r.permission = "read";
  r.subject_type = "user";
  auto got = w.engine->LookupSubjects(r);
  REQUIRE(got.ok());
  CHECK(*got == std::vector<std::string>{"m", "n", "o", "v"});
  r.permission = "delete";
  got = w.engine->LookupSubjects(r);
  REQUIRE(got.ok());
  CHECK(*got == std::vector<std::string>{"o", "v"});
  // Subject sets as the wanted subjects.
  r.permission = "read";
  r.subject_type = "organization";
  r.subject_relation = "member";
  got = w.engine->LookupSubjects(r);
  REQUIRE(got.ok());
  CHECK(*got == std::vector<std::string>{"a", "b"});
}

TEST_CASE("a boolean attribute grants when it is true") {
  World w(
      "entity user {}\nentity d { relation o @user attribute public boolean\n"
      "permission view = public or o }",
      {"d:1#o@user:1"});
  std::vector<AttributeText> attrs = {*ParseAttribute("d:2$public|boolean:true"),
                                      *ParseAttribute("d:3$public|boolean:false")};
  REQUIRE(w.store->WriteAttributes(attrs).ok());
  CHECK(w.Can("d:1", "view", "user:1"));
  CHECK_FALSE(w.Can("d:1", "view", "user:2"));
  CHECK(w.Can("d:2", "view", "user:2"));
  CHECK(w.Can("d:2", "view", "user:new"));  // no tuple names this user
  CHECK_FALSE(w.Can("d:3", "view", "user:2"));
  LookupEntitiesRequest r;
  r.entity_type = "d";
  r.permission = "view";
  r.subject_type = "user";
  r.subject_id = "1";
  auto got = w.engine->LookupEntities(r);
  REQUIRE(got.ok());
  CHECK(*got == std::vector<std::string>{"1", "2"});
}

TEST_CASE("a rule reads attributes and context data") {
  World w(R"(
entity user {}
entity account {
  relation owner @user
  attribute balance integer
  permission withdraw = check_balance(balance) and owner
}
rule check_balance(balance integer) {
  balance >= context.data.amount && context.data.amount <= 5000
}
)",
          {"account:1#owner@user:1"});
  REQUIRE(w.store->WriteAttributes(std::vector{*ParseAttribute("account:1$balance|integer:4000")})
              .ok());
  ContextData small{{"amount", Value::Int(3000)}}, large{{"amount", Value::Int(4500)}};
  CheckRequest r{"account", "1", "withdraw", "user", "1", "", 0, &small};
  auto got = w.engine->Check(r);
  REQUIRE(got.ok());
  CHECK(*got);
  r.context = &large;
  got = w.engine->Check(r);
  REQUIRE(got.ok());
  CHECK_FALSE(*got);
  // Without the data the rule needs, the check is an error that names the rule and the key.
  r.context = nullptr;
  got = w.engine->Check(r);
  REQUIRE_FALSE(got.ok());
  CHECK(got.status().message().find("rule 'check_balance'") != std::string::npos);
  CHECK(got.status().message().find("context.data.amount") != std::string::npos);
}

TEST_CASE("a rule outside the supported CEL subset fails its checks with a sentence") {
  World w(
      "entity user {}\nentity d { relation o @user attribute tags string[]\n"
      "permission view = has_tag(tags) and o }\n"
      "rule has_tag(tags string[]) { tags.exists(t, t == 'x') }",
      {"d:1#o@user:1"});
  auto r = w.Try("d:1", "view", "user:1");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("rule 'has_tag'") != std::string::npos);
}

TEST_CASE("attribute values are checked against their declared type") {
  World w("entity d { attribute public boolean }", {});
  Status s = w.store->WriteAttributes(std::vector{*ParseAttribute("d:1$public|integer:1")});
  REQUIRE_FALSE(s.ok());
  CHECK(s.message() == "attribute d:1$public: the value is integer but the attribute is boolean");
  CHECK_FALSE(ParseAttribute("d:1$public|boolean:yes").ok());
  auto list = ParseAttribute("d:1$tags|string[]:a,b");
  REQUIRE(list.ok());
  CHECK(list->value == Value::List({Value::String("a"), Value::String("b")}));
}
