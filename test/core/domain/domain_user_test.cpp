#include <doctest/doctest.h>

#include "core/domain/user.h"
#include "test/core/domain/domain_test_util.h"

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

namespace {

Passkey Key(std::string id, int64_t count = 0) {
  Passkey p;
  p.credential_id = std::move(id);
  p.public_key = "pQECAyYgASFYIA";
  p.algorithm = -7;
  p.sign_count = count;
  p.transports = "internal,hybrid";
  p.aaguid = "00000000-0000-0000-0000-000000000000";
  p.attestation_format = "none";
  return p;
}

const std::string kCred1 = "AAAAAAAAAAAAAAAAAAAAAA";  // 16 bytes
const std::string kCred2 = "BBBBBBBBBBBBBBBBBBBBBB";

UserState AdaWithKey(int64_t count = 0) {
  UserState s;
  Fold(s, When(UserState{}, RegisterUser{"u-1", "ada", "Ada", Key(kCred1, count)}));
  return s;
}

}  // namespace

TEST_CASE("registering with a passkey records the user and the passkey in one decision") {
  Events events = When(UserState{}, RegisterUser{"u-1", "ada", "Ada", Key(kCred1)});
  REQUIRE(events.size() == 2);
  CHECK(events[0].type == "UserRegistered");
  CHECK(events[1].type == "PasskeyAdded");
  UserState s = Given<UserState>(events);
  REQUIRE(s.passkeys.size() == 1);
  CHECK(s.passkeys[0].credential_id == kCred1);
  CHECK(s.passkeys[0].name == "Passkey 1");
  CHECK(s.passkeys[0].transports == "internal,hybrid");
  CHECK(s.FindPasskey(kCred1) != nullptr);
  CHECK(s.FindPasskey(kCred2) == nullptr);
}

TEST_CASE("a passkey is validated before it is stored") {
  Passkey short_id = Key("AAAA");
  CHECK(Fails(UserState{}, RegisterUser{"u-1", "ada", "Ada", short_id}) ==
        "invalid_argument: a passkey's credential id must be 16 to 1023 bytes in base64url "
        "without padding");
  Passkey padded = Key(kCred1 + "==");
  CHECK(
      Fails(UserState{}, RegisterUser{"u-1", "ada", "Ada", padded}).rfind("invalid_argument:", 0) ==
      0);
  Passkey unknown_alg = Key(kCred1);
  unknown_alg.algorithm = -65535;
  CHECK(Fails(UserState{}, RegisterUser{"u-1", "ada", "Ada", unknown_alg}) ==
        "invalid_argument: a passkey's algorithm must be ES256 (-7), EdDSA (-8) or RS256 (-257); "
        "got -65535");
  Passkey no_key = Key(kCred2);
  no_key.public_key = "";
  CHECK(Fails(AdaWithKey(), AddPasskey{no_key}).rfind("invalid_argument:", 0) == 0);
}

TEST_CASE("adding and removing passkeys keeps at least one") {
  UserState s = AdaWithKey();
  CHECK(Fails(s, AddPasskey{Key(kCred1)}) ==
        "already_exists: this passkey is already registered to user ada");
  CHECK(Fails(s, RemovePasskey{kCred1}) ==
        "failed_precondition: \"Passkey 1\" is the last passkey of user ada; add another before "
        "removing it");
  s = After(s, AddPasskey{Key(kCred2)});
  REQUIRE(s.passkeys.size() == 2);
  CHECK(s.passkeys[1].name == "Passkey 2");
  s = After(s, RemovePasskey{kCred1});
  REQUIRE(s.passkeys.size() == 1);
  CHECK(s.passkeys[0].credential_id == kCred2);
  CHECK(Fails(s, RemovePasskey{kCred1}) == "not_found: user ada has no such passkey");
}

TEST_CASE("a sign-in must move the signature counter forward") {
  UserState s = AdaWithKey(5);
  CHECK(Fails(s, RecordSignIn{kCred1, 5, true, false}) ==
        "failed_precondition: the signature counter of passkey \"Passkey 1\" went from 5 to 5; "
        "it should only increase, so the passkey may have been cloned");
  CHECK(Fails(s, RecordSignIn{kCred1, 4, true, false}).rfind("failed_precondition:", 0) == 0);
  s = After(s, RecordSignIn{kCred1, 9, true, true});
  CHECK(s.passkeys[0].sign_count == 9);
  CHECK(s.passkeys[0].backup_state);
  CHECK(s.sign_ins == 1);
  CHECK(Fails(s, RecordSignIn{kCred2, 10, true, false}) ==
        "not_found: user ada has no such passkey");
}

TEST_CASE("authenticators that do not count sign in with zero every time") {
  UserState s = AdaWithKey(0);
  s = After(s, RecordSignIn{kCred1, 0, false, false});
  s = After(s, RecordSignIn{kCred1, 0, false, false});
  CHECK(s.sign_ins == 2);
  CHECK(s.passkeys[0].sign_count == 0);
}

TEST_CASE("a failed sign-in is recorded with its reason") {
  UserState s = AdaWithKey();
  Events events = When(s, RecordSignInFailure{kCred1, "the signature does not verify"});
  REQUIRE(events.size() == 1);
  CHECK(events[0].type == "UserSignInFailed");
  CHECK(events[0].data.find("the signature does not verify") != std::string::npos);
  CHECK(Fails(s, RecordSignInFailure{kCred1, ""}).rfind("invalid_argument:", 0) == 0);
}

TEST_CASE("passkey reservation streams are named by a hash of the credential id") {
  std::string a = PasskeyStreamId(kCred1);
  CHECK(a.rfind("passkey-", 0) == 0);
  CHECK(a.size() == std::string("passkey-").size() + 32);
  CHECK(a == PasskeyStreamId(kCred1));
  CHECK(a != PasskeyStreamId(kCred2));
}
