#include <doctest/doctest.h>

#include "core/domain/user.h"
#include "test/unit/domain_test_util.h"

using namespace strato;
using namespace strato::domain;
using namespace strato::domain::testing;

namespace {

UserState Ada() {
  return Given<UserState>({Ev(
      "UserRegistered", R"({"user_id":"u-1","username":"ada","display_name":"Ada Lovelace"})")});
}

}  // namespace

TEST_CASE("registering a user records username and display name") {
  Events events = When(UserState{}, RegisterUser{"u-1", "ada", "Ada Lovelace"});
  CHECK(events ==
        Events{Ev("UserRegistered",
                  R"({"user_id":"u-1","username":"ada","display_name":"Ada Lovelace"})")});
  UserState s = Given<UserState>(events);
  CHECK(s.exists);
  CHECK(s.version == 1);
  CHECK(s.id == "u-1");
  CHECK(s.username == "ada");
  CHECK(s.display_name == "Ada Lovelace");
  CHECK(Fails(s, RegisterUser{"u-1", "ada", "Ada"}) ==
        "already_exists: user ada is already registered");
}

TEST_CASE("usernames are 3 to 32 lowercase letters digits dashes and underscores") {
  for (std::string good : {std::string("ada"), std::string("a_b-c9"), std::string(32, 'a')}) {
    CAPTURE(good);
    CHECK(ValidateUsername(good).ok());
  }
  CHECK(ValidateUsername("ab").ToString() ==
        "invalid_argument: a username must be 3 to 32 characters long; \"ab\" has 2");
  CHECK(ValidateUsername(std::string(33, 'a')).code() == Code::kInvalidArgument);
  CHECK(ValidateUsername("9ada").ToString() ==
        "invalid_argument: a username must start with a lowercase letter; \"9ada\" does not");
  CHECK(ValidateUsername("_ada").code() == Code::kInvalidArgument);
  CHECK(ValidateUsername("Ada").code() == Code::kInvalidArgument);
  CHECK(ValidateUsername("ada.l").ToString() ==
        "invalid_argument: a username may hold only lowercase letters, digits, '-' and '_'; "
        "\"ada.l\" does not");
  CHECK(Fails(UserState{}, RegisterUser{"u-1", "ADA", "Ada"}).rfind("invalid_argument:", 0) == 0);
  CHECK(Fails(UserState{}, RegisterUser{"", "ada", "Ada"}) ==
        "invalid_argument: a user id is required");
}

TEST_CASE("display names are 1 to 100 characters counted as code points") {
  CHECK(ValidateDisplayName("A").ok());
  CHECK(ValidateDisplayName(std::string(100, 'a')).ok());
  std::string hundred_e_acute;
  for (int i = 0; i < 100; ++i) hundred_e_acute += "\xC3\xA9";
  CHECK(ValidateDisplayName(hundred_e_acute).ok());
  CHECK(ValidateDisplayName("").ToString() ==
        "invalid_argument: a display name must be 1 to 100 characters long; got 0");
  CHECK(ValidateDisplayName(std::string(101, 'a')).code() == Code::kInvalidArgument);
  CHECK(ValidateDisplayName("\xC3").ToString() ==
        "invalid_argument: a display name is not valid UTF-8");
  CHECK(ValidateDisplayName("Ada\tL").code() == Code::kInvalidArgument);
  CHECK(ValidateDisplayName(" ").code() == Code::kInvalidArgument);
  CHECK(Fails(UserState{}, RegisterUser{"u-1", "ada", ""}).rfind("invalid_argument:", 0) == 0);
}

TEST_CASE("changing the display name and repeating it is a no-op") {
  CHECK(When(Ada(), ChangeDisplayName{"Augusta Ada King"}) ==
        Events{Ev("UserDisplayNameChanged", R"({"display_name":"Augusta Ada King"})")});
  CHECK(After(Ada(), ChangeDisplayName{"Augusta Ada King"}).display_name == "Augusta Ada King");
  CHECK(When(Ada(), ChangeDisplayName{"Ada Lovelace"}).empty());
  CHECK(Fails(Ada(), ChangeDisplayName{""}).rfind("invalid_argument:", 0) == 0);
  CHECK(Fails(UserState{}, ChangeDisplayName{"X"}) == "not_found: the user does not exist");
}

TEST_CASE("usernames are reserved on their own stream") {
  CHECK(UserStreamId("u-1") == "user-u-1");
  CHECK(UsernameStreamId("ada") == "username-ada");
  CHECK(UsernameReservedEvent("u-1") == Ev("UsernameReserved", R"({"user_id":"u-1"})"));
}

TEST_CASE("user evolve refuses unknown types and events out of order") {
  UserState s = Ada();
  CHECK(Evolve(s, Ev("UsernameReserved", R"({"user_id":"u-1"})")).ToString() ==
        "internal: the User aggregate does not know the event type UsernameReserved");
  UserState empty;
  CHECK(Evolve(empty, Ev("UserDisplayNameChanged", R"({"display_name":"X"})")).ToString() ==
        "internal: UserDisplayNameChanged before UserRegistered");
  CHECK(Evolve(s, Ev("UserDisplayNameChanged", "{}")).code() == Code::kInternal);
  CHECK(s.display_name == "Ada Lovelace");
}
