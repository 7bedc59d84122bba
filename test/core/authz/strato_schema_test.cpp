#include <doctest/doctest.h>

#include <string>

#include "core/authz/engine.h"
#include "core/authz/memory_tuple_store.h"
#include "events/commands/domain_commands.h"

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

TEST_CASE("the strato schema grants vm rights through the vm's organization only") {
  // vm 1 was created by "creator" (still a member of o), vm 2 by "gone" (since removed from o:
  // the owner tuple stays, the membership does not).
  auto schema = StratoSchema();
  MemoryTupleStore store(schema);
  std::vector<Tuple> rows;
  for (const char* t :
       {"vm:1#owner@user:creator", "vm:1#organization@organization:o", "vm:2#owner@user:gone",
        "vm:2#organization@organization:o", "organization:o#owner@user:boss",
        "organization:o#member@user:staff", "organization:o#member@user:creator"}) {
    rows.push_back(*ParseTuple(t));
  }
  REQUIRE(store.Write(rows).ok());
  Engine engine(store);
  auto can = [&](std::string_view vm, std::string_view perm, std::string_view user) {
    CheckRequest r{"vm", vm, perm, "user", user, "", 0};
    auto got = engine.Check(r);
    REQUIRE_MESSAGE(got.ok(), got.status().message());
    return *got;
  };
  for (const char* p : {"read", "start", "stop", "restart", "update", "delete"}) {
    CHECK_MESSAGE(can("1", p, "creator"), p);
    CHECK_MESSAGE(can("1", p, "boss"), p);
    CHECK_MESSAGE(can("2", p, "boss"), p);
    CHECK_FALSE_MESSAGE(can("1", p, "stranger"), p);
    // Removed from the organization: nothing left on the VM they created.
    CHECK_FALSE_MESSAGE(can("2", p, "gone"), p);
  }
  for (const char* p : {"read", "start", "stop", "restart"}) {
    CHECK_MESSAGE(can("1", p, "staff"), p);
    CHECK_MESSAGE(can("2", p, "creator"), p);
  }
  // Changing or deleting someone else's VM takes an organization owner.
  for (const char* p : {"update", "delete"}) {
    CHECK_FALSE_MESSAGE(can("1", p, "staff"), p);
    CHECK_FALSE_MESSAGE(can("2", p, "creator"), p);
  }
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
                             {"vm", "v1", "organization", "organization", "o1", ""},
                             {"organization", "o1", "member", "user", "u1", ""}};
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
  batch.inserts.push_back({"vm", "v2", "organization", "organization", "o1", ""});
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
