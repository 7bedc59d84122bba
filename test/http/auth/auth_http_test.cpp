// The sign-in routes over real HTTP against a real database, with a software authenticator
// making real ES256 keys and signatures (test/support/soft_authenticator.h).
#include <doctest/doctest.h>

#include "test/support/web_fixture.h"

using namespace strato;
using namespace strato::test;

namespace {

std::string Count(WebFixture& f, const std::string& sql) {
  return f.Query(sql);
}

// How many events of a type the log holds.
std::string Events(WebFixture& f, const std::string& type) {
  return f.Query("SELECT count(*) FROM events WHERE type = $1", {type});
}

}  // namespace

TEST_CASE("registering with a passkey creates the user and signs them in") {
  WebFixture f;
  SoftAuthenticator key("localhost", f.origin());
  WebClient alice(f);
  WebResponse r = alice.RegisterWith(key, "alice");
  REQUIRE_MESSAGE(r.status == 201, r.body);
  CHECK(JsonField(r.body, "username") == "alice");
  std::string cookie = r.Header("Set-Cookie");
  CHECK(cookie.find("strato_session=") == 0);
  CHECK(cookie.find("HttpOnly") != std::string::npos);
  CHECK(cookie.find("SameSite=Lax") != std::string::npos);
  CHECK(cookie.find("Path=/") != std::string::npos);
  CHECK(cookie.find("Secure") == std::string::npos);  // development serves plain http

  WebResponse session = alice.Get("/auth/session");
  CHECK(session.body.find("\"signed_in\":true") != std::string::npos);
  CHECK(JsonField(session.body, "username") == "alice");
  CHECK(Events(f, "UserRegistered") == "1");
  CHECK(Events(f, "PasskeyAdded") == "1");
  CHECK(f.Query("SELECT credential_id FROM passkeys") == key.credential_id());
  // The token is stored hashed: the cookie value is nowhere in the table.
  std::string token = alice.cookie.substr(std::string("strato_session=").size());
  CHECK(Count(f, "SELECT count(*) FROM sessions WHERE csrf_token = '" + token + "'") == "0");
  CHECK(f.Query("SELECT count(*) FROM sessions WHERE token_hash = sha256($1::bytea)", {token}) ==
        "1");
  // The event log holds no session secret either.
  CHECK(f.Query("SELECT count(*) FROM events WHERE data::text LIKE '%' || $1 || '%'", {token}) ==
        "0");

  WebResponse passkeys = alice.Get("/api/v1/account/passkeys");
  CHECK(passkeys.status == 200);
  CHECK(passkeys.body.find(key.credential_id()) != std::string::npos);
}

TEST_CASE("a taken username and a replayed registration are refused and store nothing") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin()), b("localhost", f.origin());
  WebClient alice(f), bob(f);
  REQUIRE(alice.RegisterWith(a, "alice").status == 201);
  WebResponse taken = bob.Post("/auth/register/options", R"({"username":"alice"})");
  CHECK(taken.status == 409);
  CHECK(taken.body.find("the username alice is taken; choose another") != std::string::npos);

  WebResponse options = bob.Post("/auth/register/options", R"({"username":"bob"})");
  REQUIRE(options.status == 200);
  std::string challenge = JsonField(options.body, "challenge");
  rapidjson::Document d;
  d.Parse(options.body.c_str());
  std::string credential = b.Register(challenge, d["user"]["id"].GetString());
  REQUIRE(bob.Post("/auth/register/verify", R"({"credential":)" + credential + "}").status == 201);
  WebResponse replay = bob.Post("/auth/register/verify", R"({"credential":)" + credential + "}");
  CHECK(replay.status == 400);
  CHECK(replay.body.find("\"code\":\"invalid_challenge\"") != std::string::npos);
  CHECK(replay.body.find("unknown or was already used") != std::string::npos);
  CHECK(Events(f, "UserRegistered") == "2");
}

TEST_CASE("signing in with a username and without one") {
  WebFixture f;
  SoftAuthenticator key("localhost", f.origin());
  WebClient setup(f);
  REQUIRE(setup.RegisterWith(key, "alice").status == 201);

  WebClient by_name(f);
  WebResponse r = by_name.SignInWith(key, "alice");
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(JsonField(r.body, "username") == "alice");
  CHECK(by_name.Get("/api/v1/account/passkeys").status == 200);

  WebClient discoverable(f);
  WebResponse d = discoverable.SignInWith(key, "");
  REQUIRE_MESSAGE(d.status == 200, d.body);
  CHECK(JsonField(d.body, "username") == "alice");
  CHECK(Events(f, "UserSignedIn") == "2");
  CHECK(f.Query("SELECT sign_count FROM passkeys") == "2");

  // An unknown name gets a challenge like any other (nothing tells it does not exist); a
  // passkey offered for it is not that account's.
  WebResponse options = discoverable.Post("/auth/login/options", R"({"username":"nobody"})");
  CHECK(options.status == 200);
  std::string assertion = key.SignIn(JsonField(options.body, "challenge"), false);
  WebResponse refused =
      discoverable.Post("/auth/login/verify", R"({"credential":)" + assertion + "}");
  CHECK(refused.status == 401);
  CHECK(refused.body.find("credential_mismatch") != std::string::npos);
}

TEST_CASE("a replayed assertion and a counter that goes backwards are refused and recorded") {
  WebFixture f;
  SoftAuthenticator key("localhost", f.origin());
  WebClient c(f);
  REQUIRE(c.RegisterWith(key, "alice").status == 201);

  WebResponse options = c.Post("/auth/login/options", R"({"username":"alice"})");
  std::string assertion = key.SignIn(JsonField(options.body, "challenge"), false);
  REQUIRE(c.Post("/auth/login/verify", R"({"credential":)" + assertion + "}").status == 200);
  WebResponse replay = c.Post("/auth/login/verify", R"({"credential":)" + assertion + "}");
  CHECK(replay.status == 400);
  CHECK(replay.body.find("invalid_challenge") != std::string::npos);

  options = c.Post("/auth/login/options", R"({"username":"alice"})");
  std::string cloned = key.SignIn(JsonField(options.body, "challenge"), false, {}, /*counter=*/1);
  WebResponse refused = c.Post("/auth/login/verify", R"({"credential":)" + cloned + "}");
  CHECK(refused.status == 401);
  CHECK(refused.body.find("counter_regression") != std::string::npos);
  CHECK(Events(f, "UserSignedIn") == "1");
  CHECK(Events(f, "UserSignInFailed") == "1");
  CHECK(f.Query("SELECT data->>'reason' FROM events WHERE type = 'UserSignInFailed'")
            .find("counter") != std::string::npos);
}

TEST_CASE("ceremonies with bad input are refused with a sentence and store nothing") {
  WebFixture f;
  WebClient c(f);
  struct Case {
    const char* name;
    CeremonyTweaks tweaks;
    int status;
    const char* code;
  };
  std::vector<Case> cases = {
      {"another origin", {.origin = "http://evil.example"}, 401, "origin_mismatch"},
      {"another RP id", {.rp_id = "evil.example"}, 401, "rp_id_mismatch"},
      {"the sign-in type", {.type = "webauthn.get"}, 401, "wrong_type"},
      {"an unknown COSE algorithm", {.cose_alg = -999}, 400, "unsupported_algorithm"},
      {"no user presence", {.user_present = false}, 401, "flags"},
  };
  for (const Case& k : cases) {
    std::string name = k.name;
    CAPTURE(name);
    SoftAuthenticator key("localhost", f.origin());
    WebResponse options = c.Post("/auth/register/options", R"({"username":"mallory"})");
    REQUIRE(options.status == 200);
    rapidjson::Document d;
    d.Parse(options.body.c_str());
    std::string credential =
        key.Register(JsonField(options.body, "challenge"), d["user"]["id"].GetString(), k.tweaks);
    WebResponse r = c.Post("/auth/register/verify", R"({"credential":)" + credential + "}");
    CHECK(r.status == k.status);
    CHECK_MESSAGE(r.body.find(std::string("\"code\":\"") + k.code + "\"") != std::string::npos,
                  r.body);
    CHECK(r.body.find("\"message\":\"\"") == std::string::npos);  // a sentence, never empty
    CHECK(r.body.find("\"message\":\"") != std::string::npos);
  }
  CHECK(Count(f, "SELECT count(*) FROM events") == "0");

  WebResponse json = c.Post("/auth/register/verify", R"({"credential": {"id": )");
  CHECK(json.status == 400);
  CHECK(json.body.find("not valid JSON") != std::string::npos);
  WebResponse unknown = c.Post("/auth/login/options", R"({"user":"alice"})");
  CHECK(unknown.status == 400);
  CHECK(unknown.body.find("unknown field \\\"user\\\"") != std::string::npos);
  WebResponse b64 = c.Post(
      "/auth/register/verify",
      R"({"credential":{"id":"a","rawId":"a","type":"public-key","response":{"clientDataJSON":"!!!","attestationObject":"oA"}}})");
  CHECK(b64.status == 400);
  CHECK(b64.body.find("\"code\":\"malformed\"") != std::string::npos);

  // A truncated attestation object.
  SoftAuthenticator key("localhost", f.origin());
  WebResponse options = c.Post("/auth/register/options", R"({"username":"mallory"})");
  rapidjson::Document d;
  d.Parse(options.body.c_str());
  std::string credential =
      key.Register(JsonField(options.body, "challenge"), d["user"]["id"].GetString());
  rapidjson::Document cd;
  cd.Parse(credential.c_str());
  std::string att = FromB64Url(cd["response"]["attestationObject"].GetString());
  std::string cut = B64Url(att.substr(0, att.size() / 2));
  std::string truncated = credential;
  truncated.replace(truncated.find(cd["response"]["attestationObject"].GetString()),
                    std::string(cd["response"]["attestationObject"].GetString()).size(), cut);
  WebResponse t = c.Post("/auth/register/verify", R"({"credential":)" + truncated + "}");
  CHECK(t.status == 400);
  CHECK(t.body.find("\"code\":\"malformed\"") != std::string::npos);
  CHECK(Count(f, "SELECT count(*) FROM events") == "0");
}

TEST_CASE("state changes with the session cookie need the CSRF token") {
  WebFixture f;
  SoftAuthenticator key("localhost", f.origin());
  WebClient c(f);
  REQUIRE(c.RegisterWith(key, "alice").status == 201);
  c.send_csrf = false;
  WebResponse refused = c.Post("/auth/logout", "");
  CHECK(refused.status == 403);
  CHECK(refused.body.find("CSRF") != std::string::npos);
  CHECK(c.Get("/auth/session").body.find("\"signed_in\":true") != std::string::npos);
  c.send_csrf = true;
  std::string old_cookie = c.cookie;
  CHECK(c.Post("/auth/logout", "").status == 204);
  CHECK(c.cookie.empty());
  c.cookie = old_cookie;  // the ended session's token no longer signs anyone in
  CHECK(c.Get("/auth/session").body.find("\"signed_in\":false") != std::string::npos);
  CHECK(c.Get("/api/v1/account/passkeys").status == 401);
}

TEST_CASE("a second passkey is added and the first removed from the account") {
  WebFixture f;
  SoftAuthenticator first("localhost", f.origin()), second("localhost", f.origin());
  WebClient c(f);
  REQUIRE(c.RegisterWith(first, "alice").status == 201);
  WebResponse options = c.Post("/auth/register/options", "{}");
  REQUIRE_MESSAGE(options.status == 200, options.body);
  CHECK(options.body.find(first.credential_id()) != std::string::npos);  // excludeCredentials
  rapidjson::Document d;
  d.Parse(options.body.c_str());
  std::string credential =
      second.Register(JsonField(options.body, "challenge"), d["user"]["id"].GetString());
  WebResponse added =
      c.Post("/auth/register/verify", R"({"credential":)" + credential + R"(,"name":"Phone"})");
  REQUIRE_MESSAGE(added.status == 201, added.body);
  CHECK(f.Query("SELECT count(*) FROM passkeys") == "2");
  CHECK(f.Query("SELECT name FROM passkeys WHERE credential_id = $1", {second.credential_id()}) ==
        "Phone");

  // This session was signed in with the first passkey: removing it ends the session too.
  CHECK(c.Delete("/api/v1/account/passkeys/" + first.credential_id()).status == 204);
  CHECK(c.cookie.empty());
  REQUIRE(c.SignInWith(second, "alice").status == 200);
  WebResponse last = c.Delete("/api/v1/account/passkeys/" + second.credential_id());
  CHECK(last.status == 409);
  CHECK(last.body.find("is the last passkey") != std::string::npos);

  WebClient again(f);
  CHECK(again.SignInWith(second, "alice").status == 200);
  WebClient old(f);
  WebResponse removed = old.SignInWith(first, "");
  CHECK(removed.status == 401);
}

TEST_CASE("the account lists open sessions and can end another one") {
  WebFixture f;
  SoftAuthenticator key("localhost", f.origin());
  WebClient laptop(f), phone(f);
  REQUIRE(laptop.RegisterWith(key, "alice").status == 201);
  REQUIRE(phone.SignInWith(key, "alice").status == 200);
  WebResponse list = laptop.Get("/api/v1/account/sessions");
  REQUIRE(list.status == 200);
  rapidjson::Document d;
  d.Parse(list.body.c_str());
  REQUIRE(d["sessions"].Size() == 2);
  std::string other;
  for (const auto& s : d["sessions"].GetArray()) {
    if (!s["current"].GetBool()) other = s["session_id"].GetString();
  }
  REQUIRE_FALSE(other.empty());
  CHECK(laptop.Delete("/api/v1/account/sessions/" + other).status == 204);
  CHECK(phone.Get("/api/v1/account/passkeys").status == 401);
  CHECK(laptop.Get("/api/v1/account/passkeys").status == 200);
  CHECK(laptop.Delete("/api/v1/account/sessions/" + other).status == 404);
}

TEST_CASE("ceremony starts are rate-limited per address") {
  WebFixture f;
  WebClient c(f);
  int limited = 0;
  for (int i = 0; i < 15; ++i) {
    if (c.Post("/auth/login/options", "{}").status == 429) ++limited;
  }
  CHECK(limited >= 4);  // a burst of 10, then refused until tokens come back
}

TEST_CASE("personal API tokens act as their user without CSRF until revoked") {
  WebFixture f;
  SoftAuthenticator key("localhost", f.origin());
  WebClient browser(f);
  REQUIRE(browser.RegisterWith(key, "alice").status == 201);
  WebResponse made = browser.Post("/api/v1/account/tokens", R"({"name":"ci"})");
  REQUIRE_MESSAGE(made.status == 201, made.body);
  std::string token = JsonField(made.body, "token");
  std::string id = JsonField(made.body, "id");
  CHECK(token.rfind("strato_", 0) == 0);
  // Shown once: the list and the database hold no token text.
  WebResponse list = browser.Get("/api/v1/account/tokens");
  CHECK(list.body.find("\"name\":\"ci\"") != std::string::npos);
  CHECK(list.body.find(token) == std::string::npos);
  CHECK(f.Query("SELECT count(*) FROM api_tokens WHERE token_hash = sha256($1::bytea)", {token}) ==
        "1");

  WebClient script(f);
  httplib::Headers bearer = {{"Authorization", "Bearer " + token}};
  WebResponse orgs = script.Post("/api/v1/orgs", R"({"name":"Acme"})", bearer);
  CHECK(orgs.status == 201);  // no CSRF token: a bearer token is not sent by browsers on its own
  CHECK(script.Get("/api/v1/orgs", bearer).body.find("Acme") != std::string::npos);
  WebResponse minted = script.Post("/api/v1/account/tokens", R"({"name":"more"})", bearer);
  CHECK(minted.status == 403);
  CHECK(minted.body.find("an API token cannot reach account security") != std::string::npos);

  CHECK(browser.Delete("/api/v1/account/tokens/" + id).status == 204);
  CHECK(script.Get("/api/v1/orgs", bearer).status == 401);
  CHECK(script.Get("/api/v1/orgs", {{"Authorization", "Bearer strato_wrong"}}).status == 401);
}
