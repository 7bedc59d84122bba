#include <doctest/doctest.h>

#include "core/domain/organization.h"
#include "test/core/domain/domain_test_util.h"

using namespace strato;
using namespace strato::domain;
using namespace strato::domain::testing;

namespace {

// Acme, created by user-1 (owner), with user-2 as a member.
OrganizationState Acme() {
  return Given<OrganizationState>(
      {Ev("OrganizationCreated", R"({"org_id":"org-1","name":"Acme","owner_id":"user-1"})"),
       Ev("MemberAdded", R"({"user_id":"user-2","role":"member"})")});
}

}  // namespace

TEST_CASE("creating an organization makes its creator the owner") {
  Events events = When(OrganizationState{}, CreateOrganization{"org-1", "Acme"}, Ctx("user-1"));
  CHECK(events == Events{Ev("OrganizationCreated",
                            R"({"org_id":"org-1","name":"Acme","owner_id":"user-1"})")});
  OrganizationState s = Given<OrganizationState>(events);
  CHECK(s.exists);
  CHECK(s.version == 1);
  CHECK(s.id == "org-1");
  CHECK(s.name == "Acme");
  CHECK(s.members == std::map<std::string, OrgRole>{{"user-1", OrgRole::kOwner}});
  CHECK(OrganizationStreamId("org-1") == "org-org-1");
}

TEST_CASE("creating an organization validates its name and refuses a second creation") {
  CHECK(Fails(OrganizationState{}, CreateOrganization{"org-1", ""}) ==
        "invalid_argument: an organization name must be 1 to 100 characters long; got 0");
  CHECK(Fails(OrganizationState{}, CreateOrganization{"org-1", std::string(101, 'a')}) ==
        "invalid_argument: an organization name must be 1 to 100 characters long; got 101");
  CHECK(Fails(OrganizationState{}, CreateOrganization{"org-1", " Acme"}) ==
        "invalid_argument: an organization name must not start or end with a space");
  CHECK(Fails(OrganizationState{}, CreateOrganization{"org-1", "Ac\nme"}) ==
        "invalid_argument: an organization name must not contain control characters");
  CHECK(Fails(OrganizationState{}, CreateOrganization{"", "Acme"}) ==
        "invalid_argument: an organization id is required");
  CHECK(Fails(OrganizationState{}, CreateOrganization{"org-1", "Acme"}, Ctx("")) ==
        "invalid_argument: an organization needs a creator to become its owner");
  CHECK(Fails(OrganizationState{}, CreateOrganization{"org-1", std::string(100, 'a')}) == "ok");
  CHECK(Fails(Acme(), CreateOrganization{"org-1", "Acme"}) ==
        "already_exists: organization Acme already exists");
}

TEST_CASE("commands on an organization that does not exist are refused as not found") {
  CHECK(Fails(OrganizationState{}, RenameOrganization{"X"}) ==
        "not_found: the organization does not exist");
  CHECK(Fails(OrganizationState{}, AddMember{"user-2"}) ==
        "not_found: the organization does not exist");
}

TEST_CASE("renaming an organization records both names and the same name is a no-op") {
  CHECK(When(Acme(), RenameOrganization{"Acme Corp"}) ==
        Events{Ev("OrganizationRenamed", R"({"name":"Acme Corp","previous_name":"Acme"})")});
  CHECK(After(Acme(), RenameOrganization{"Acme Corp"}).name == "Acme Corp");
  CHECK(When(Acme(), RenameOrganization{"Acme"}).empty());
  CHECK(Fails(Acme(), RenameOrganization{""}).rfind("invalid_argument:", 0) == 0);
}

TEST_CASE("adding members with a role and repeating an addition is a no-op") {
  CHECK(When(Acme(), AddMember{"user-3"}) ==
        Events{Ev("MemberAdded", R"({"user_id":"user-3","role":"member"})")});
  CHECK(When(Acme(), AddMember{"user-3", OrgRole::kOwner}) ==
        Events{Ev("MemberAdded", R"({"user_id":"user-3","role":"owner"})")});
  OrganizationState s = After(Acme(), AddMember{"user-3", OrgRole::kOwner});
  CHECK(s.members.at("user-3") == OrgRole::kOwner);
  CHECK(s.OwnerCount() == 2);
  CHECK(When(s, AddMember{"user-3", OrgRole::kOwner}).empty());
  CHECK(When(s, AddMember{"user-2"}).empty());
  CHECK(Fails(s, AddMember{"user-2", OrgRole::kOwner}) ==
        "failed_precondition: user user-2 is already a member of organization Acme; transfer "
        "ownership to change roles");
  CHECK(Fails(s, AddMember{"user-1"}) ==
        "failed_precondition: user user-1 is already an owner of organization Acme; transfer "
        "ownership to change roles");
  CHECK(Fails(s, AddMember{""}) == "invalid_argument: a user id is required");
}

TEST_CASE("removing a member and removing someone who is not a member is a no-op") {
  CHECK(When(Acme(), RemoveMember{"user-2"}) ==
        Events{Ev("MemberRemoved", R"({"user_id":"user-2","role":"member"})")});
  OrganizationState s = After(Acme(), RemoveMember{"user-2"});
  CHECK(s.members.count("user-2") == 0);
  CHECK(When(s, RemoveMember{"user-2"}).empty());
}

TEST_CASE("the last owner cannot be removed but one of two owners can") {
  CHECK(Fails(Acme(), RemoveMember{"user-1"}) ==
        "failed_precondition: user user-1 is the last owner of organization Acme; transfer "
        "ownership before removing them");
  OrganizationState two = After(Acme(), AddMember{"user-3", OrgRole::kOwner});
  CHECK(When(two, RemoveMember{"user-1"}) ==
        Events{Ev("MemberRemoved", R"({"user_id":"user-1","role":"owner"})")});
  OrganizationState one = After(two, RemoveMember{"user-1"});
  CHECK(
      Fails(one, RemoveMember{"user-3"}).rfind("failed_precondition: user user-3 is the last", 0) ==
      0);
}

TEST_CASE("transferring ownership swaps the roles of the two users") {
  CHECK(When(Acme(), TransferOwnership{"user-2"}, Ctx("user-1")) ==
        Events{Ev("OwnershipTransferred", R"({"from_user_id":"user-1","to_user_id":"user-2"})")});
  OrganizationState s = After(Acme(), TransferOwnership{"user-2"}, Ctx("user-1"));
  CHECK(s.members.at("user-2") == OrgRole::kOwner);
  CHECK(s.members.at("user-1") == OrgRole::kMember);
  CHECK(s.OwnerCount() == 1);
  // Now user-1 can leave, which was refused before.
  CHECK(When(s, RemoveMember{"user-1"}).size() == 1);
  // An explicit from_user_id overrides the actor (an administrator acting for the owner).
  CHECK(When(Acme(), TransferOwnership{"user-2", "user-1"}, Ctx("admin")).size() == 1);
}

TEST_CASE("transferring ownership is refused unless an owner hands it to another member") {
  CHECK(Fails(Acme(), TransferOwnership{"user-1"}, Ctx("user-2")) ==
        "failed_precondition: user user-2 is not an owner of organization Acme; only an owner "
        "can hand over ownership");
  CHECK(Fails(Acme(), TransferOwnership{"user-9"}, Ctx("user-1")) ==
        "failed_precondition: user user-9 is not a member of organization Acme; add them before "
        "transferring ownership");
  CHECK(Fails(Acme(), TransferOwnership{"user-1"}, Ctx("user-1")) ==
        "invalid_argument: user user-1 cannot transfer ownership of organization Acme to "
        "themselves");
  OrganizationState two = After(Acme(), AddMember{"user-3", OrgRole::kOwner});
  CHECK(Fails(two, TransferOwnership{"user-3"}, Ctx("user-1")) ==
        "failed_precondition: user user-3 is already an owner of organization Acme");
  CHECK(Fails(Acme(), TransferOwnership{""}, Ctx("user-1")) ==
        "invalid_argument: a user id is required");
}

TEST_CASE("organization evolve refuses unknown types and events out of order") {
  OrganizationState s = Acme();
  CHECK(Evolve(s, Ev("OrganizationDissolved")).ToString() ==
        "internal: the Organization aggregate does not know the event type OrganizationDissolved");
  OrganizationState empty;
  CHECK(Evolve(empty, Ev("MemberAdded", R"({"user_id":"u","role":"member"})")).ToString() ==
        "internal: MemberAdded before OrganizationCreated");
  CHECK(Evolve(s, Ev("MemberAdded", R"({"user_id":"u","role":"boss"})")).code() == Code::kInternal);
  CHECK(Evolve(s, Ev("MemberAdded", R"({"role":"member"})")).code() == Code::kInternal);
  CHECK(s.version == 2);
}

TEST_CASE("organization roles round-trip by name") {
  CHECK(OrgRoleName(OrgRole::kOwner) == "owner");
  CHECK(*ParseOrgRole("member") == OrgRole::kMember);
  CHECK(ParseOrgRole("admin").status().ToString() ==
        "invalid_argument: a role is owner or member; got \"admin\"");
}
