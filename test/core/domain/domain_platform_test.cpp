// The Platform aggregate (who runs the installation) and the authorization tuples its events
// give: given events / when command / then events or error, and given an event / these tuples.
#include <doctest/doctest.h>

#include "core/domain/platform.h"
#include "events/commands/domain_commands.h"
#include "projections/models/relationship_projection.h"
#include "test/core/domain/domain_test_util.h"

using namespace strato;
using namespace strato::domain;
using namespace strato::domain::testing;

namespace {

const char* kAliceAdmin = R"({"user_id":"u-alice","role":"admin"})";
const char* kAliceOperator = R"({"user_id":"u-alice","role":"operator"})";

events::RecordedEvent Recorded(std::string stream, std::string type, std::string data) {
  events::RecordedEvent e;
  e.position = 7;
  e.stream_id = std::move(stream);
  e.stream_version = 1;
  e.type = std::move(type);
  e.data = std::move(data);
  return e;
}

std::string Describe(const projections::TupleChange& c) {
  using K = projections::TupleChange::Kind;
  std::string kind = c.kind == K::kAdd ? "add" : c.kind == K::kRemove ? "remove" : "other";
  return kind + " " + c.entity_type + ":" + c.entity_id + "#" + c.relation + "@" + c.subject_type +
         ":" + c.subject_id;
}

}  // namespace

TEST_CASE("granting a platform role records it once and the state holds it") {
  CHECK(PlatformStreamId() == "platform-strato");
  GrantPlatformRole grant{"u-alice", PlatformRole::kAdmin};
  CHECK(When(PlatformState{}, grant, Ctx("system")) ==
        Events{Ev("PlatformRoleGranted", kAliceAdmin)});
  PlatformState s = After(PlatformState{}, grant, Ctx("system"));
  CHECK(s.version == 1);
  CHECK(s.Holds("u-alice", PlatformRole::kAdmin));
  CHECK_FALSE(s.Holds("u-alice", PlatformRole::kOperator));
  CHECK_FALSE(s.Holds("u-bob", PlatformRole::kAdmin));
  // Already held: nothing to record.
  CHECK(When(s, grant).empty());
  // The roles are independent: an admin may also be made an operator.
  CHECK(When(s, GrantPlatformRole{"u-alice", PlatformRole::kOperator}) ==
        Events{Ev("PlatformRoleGranted", kAliceOperator)});
}

TEST_CASE("revoking a platform role removes only that role and a role not held changes nothing") {
  PlatformState s = Given<PlatformState>(
      {Ev("PlatformRoleGranted", kAliceAdmin), Ev("PlatformRoleGranted", kAliceOperator)});
  RevokePlatformRole revoke{"u-alice", PlatformRole::kAdmin};
  CHECK(When(s, revoke) == Events{Ev("PlatformRoleRevoked", kAliceAdmin)});
  PlatformState after = After(s, revoke);
  CHECK_FALSE(after.Holds("u-alice", PlatformRole::kAdmin));
  CHECK(after.Holds("u-alice", PlatformRole::kOperator));
  CHECK(When(after, revoke).empty());
  CHECK(When(PlatformState{}, RevokePlatformRole{"u-bob", PlatformRole::kOperator}).empty());
  PlatformState none = After(after, RevokePlatformRole{"u-alice", PlatformRole::kOperator});
  CHECK(none.roles.empty());
}

TEST_CASE("platform role commands and events are validated") {
  CHECK(Fails(PlatformState{}, GrantPlatformRole{"", PlatformRole::kAdmin}) ==
        "invalid_argument: a user id is required");
  CHECK(Fails(PlatformState{}, RevokePlatformRole{"u 1", PlatformRole::kAdmin})
            .rfind("invalid_argument: a user id must be printable ASCII without spaces", 0) == 0);
  CHECK(ParsePlatformRole("operator").ok());
  CHECK(ParsePlatformRole("root").status().message() ==
        "\"root\" is not a platform role; the roles are admin and operator");
  PlatformState s;
  CHECK(Evolve(s, Ev("PlatformRoleGranted", R"({"user_id":"u-1","role":"root"})")).code() ==
        Code::kInternal);
  CHECK(Evolve(s, Ev("PlatformRoleGranted", R"({"role":"admin"})")).code() == Code::kInternal);
  CHECK(Evolve(s, Ev("HostCordoned", "{}")).message() ==
        "the Platform aggregate does not know the event type HostCordoned");
  CHECK(s.version == 0);
}

TEST_CASE("the platform commands are in the command table for the system actor only") {
  const events::CommandSpec* grant = events::FindCommand("platform.grant_role");
  const events::CommandSpec* revoke = events::FindCommand("platform.revoke_role");
  REQUIRE(grant != nullptr);
  REQUIRE(revoke != nullptr);
  CHECK(grant->permission == "system");
  CHECK(revoke->permission == "system");
  CHECK(grant->emits == std::vector<std::string_view>{"PlatformRoleGranted"});
  CHECK(revoke->emits == std::vector<std::string_view>{"PlatformRoleRevoked"});
}

TEST_CASE("platform role events add and remove exactly the platform role tuple") {
  auto granted = projections::RelationshipChanges(
      Recorded("platform-strato", "PlatformRoleGranted", kAliceOperator));
  REQUIRE(granted.ok());
  REQUIRE(granted->size() == 1);
  CHECK(Describe((*granted)[0]) == "add platform:strato#operator@user:u-alice");

  auto revoked = projections::RelationshipChanges(
      Recorded("platform-strato", "PlatformRoleRevoked", kAliceAdmin));
  REQUIRE(revoked.ok());
  REQUIRE(revoked->size() == 1);
  CHECK(Describe((*revoked)[0]) == "remove platform:strato#admin@user:u-alice");

  // An event that cannot be read stops the derivation with a sentence, never a guess.
  auto broken = projections::RelationshipChanges(
      Recorded("platform-strato", "PlatformRoleGranted", R"({"role":"admin"})"));
  CHECK_FALSE(broken.ok());
}
