#include <doctest/doctest.h>

#include <string>

#include "core/authz/engine.h"
#include "core/authz/memory_tuple_store.h"
#include "events/domain_commands.h"

using namespace strato;
using namespace strato::authz;

namespace {

std::shared_ptr<const Schema> StratoSchema() {
  auto s = LoadSchemaFile(STRATO_PERM_FILE);
  REQUIRE_MESSAGE(s.ok(), s.status().message());
  return *s;
}

}  // namespace

TEST_CASE("schema/strato.perm loads") {
  auto schema = StratoSchema();
  CHECK(schema->FindType("vm"));
  CHECK(schema->FindType("organization"));
  CHECK(schema->FindType("host"));
  CHECK_FALSE(schema->uses_abac());
}

TEST_CASE("every permission in the command table exists in schema/strato.perm") {
  auto schema = StratoSchema();
  int resolved = 0;
  for (const events::CommandSpec& c : events::CommandTable()) {
    const std::string_view p = c.permission;
    // "authenticated", "public" and "system" are not relationship checks.
    if (p.find(':') == std::string_view::npos) continue;
    const size_t colon = p.find(':');
    const size_t hash = p.find('#');
    REQUIRE_MESSAGE(hash != std::string_view::npos, c.name);
    const std::string type(p.substr(0, colon));
    const std::string permission(p.substr(hash + 1));
    auto t = schema->FindType(type);
    CHECK_MESSAGE(t.has_value(), c.name << ": entity '" << type << "' is not in strato.perm");
    if (!t) continue;
    CHECK_MESSAGE(schema->FindMember(*t, permission).has_value(),
                  c.name << ": '" << permission << "' is not defined on entity '" << type << "'");
    ++resolved;
  }
  CHECK(resolved >= 15);
}

TEST_CASE("the strato schema grants vm actions as DESIGN.md describes") {
  auto schema = StratoSchema();
  MemoryTupleStore store(schema);
  std::vector<Tuple> rows;
  for (const char* t : {"vm:1#owner@user:owner", "vm:1#organization@organization:o",
                        "organization:o#owner@user:boss", "organization:o#member@user:staff"}) {
    rows.push_back(*ParseTuple(t));
  }
  REQUIRE(store.Write(rows).ok());
  Engine engine(store);
  auto can = [&](std::string_view perm, std::string_view user) {
    CheckRequest r{"vm", "1", perm, "user", user, "", 0};
    auto got = engine.Check(r);
    REQUIRE_MESSAGE(got.ok(), got.status().message());
    return *got;
  };
  for (const char* p : {"read", "start", "stop", "restart", "update", "delete"}) {
    CHECK_MESSAGE(can(p, "owner"), p);
    CHECK_MESSAGE(can(p, "boss"), p);
    CHECK_FALSE_MESSAGE(can(p, "stranger"), p);
  }
  for (const char* p : {"read", "start", "stop", "restart"}) CHECK_MESSAGE(can(p, "staff"), p);
  for (const char* p : {"update", "delete"}) CHECK_FALSE_MESSAGE(can(p, "staff"), p);
}

TEST_CASE("the strato schema lets operators read hosts and only admins cordon them") {
  auto schema = StratoSchema();
  MemoryTupleStore store(schema);
  std::vector<Tuple> rows;
  for (const char* t : {"host:h#platform@platform:strato", "host:h#self@host:h",
                        "platform:strato#admin@user:admin", "platform:strato#operator@user:op"}) {
    rows.push_back(*ParseTuple(t));
  }
  REQUIRE(store.Write(rows).ok());
  Engine engine(store);
  auto can = [&](std::string_view perm, std::string_view type, std::string_view id) {
    CheckRequest r{"host", "h", perm, type, id, "", 0};
    auto got = engine.Check(r);
    REQUIRE_MESSAGE(got.ok(), got.status().message());
    return *got;
  };
  CHECK(can("read", "user", "op"));
  CHECK(can("read", "user", "admin"));
  CHECK_FALSE(can("manage", "user", "op"));
  CHECK(can("manage", "user", "admin"));
  CHECK(can("self", "host", "h"));
  CHECK_FALSE(can("self", "host", "other"));
  CHECK_FALSE(can("read", "user", "tenant"));
}

TEST_CASE("the usage shown in core/authz/README.md compiles and answers") {
  auto schema = LoadSchemaFile(STRATO_PERM_FILE);
  REQUIRE(schema.ok());
  std::vector<Tuple> rows = {{"vm", "v1", "owner", "user", "u1", ""},
                             {"vm", "v1", "organization", "organization", "o1", ""}};
  auto store = MemoryTupleStore::FromRows(*schema, rows);
  REQUIRE(store.ok());
  Engine engine(**store);
  auto can = engine.Check({.entity_type = "vm",
                           .entity_id = "v1",
                           .permission = "start",
                           .subject_type = "user",
                           .subject_id = "u1"});
  REQUIRE(can.ok());
  CHECK(*can);
  TupleBatch batch;
  batch.inserts.push_back({"vm", "v2", "owner", "user", "u1", ""});
  batch.delete_entities.push_back({"vm", "v1"});
  REQUIRE((*store)->Apply(batch).ok());
  can = engine.Check({.entity_type = "vm",
                      .entity_id = "v1",
                      .permission = "start",
                      .subject_type = "user",
                      .subject_id = "u1"});
  REQUIRE(can.ok());
  CHECK_FALSE(*can);
  auto mine = engine.LookupEntities(
      {.entity_type = "vm", .permission = "read", .subject_type = "user", .subject_id = "u1"});
  REQUIRE(mine.ok());
  CHECK(*mine == std::vector<std::string>{"v2"});
}
