// The attacks of the security review (issue "close what a review found"), each performed against
// the real HTTP stack and database: before the fixes they got through, now each is refused and
// changes nothing. The rules they check are written in http/README.md ("Security rules").
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "test/support/web_fixture.h"

using namespace strato;
using namespace strato::test;

namespace {

std::string Events(WebFixture& f, const std::string& type) {
  return f.Query("SELECT count(*) FROM events WHERE type = $1", {type});
}

std::string ErrorCode(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str());
  if (!d.IsObject() || !d.HasMember("error") || !d["error"].IsObject()) return "";
  auto it = d["error"].FindMember("code");
  return it != d["error"].MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

// A personal API token of the client's user, made from its browser session.
std::string MakeToken(WebClient& browser) {
  WebResponse made = browser.Post("/api/v1/account/tokens", R"({"name":"leaked"})");
  REQUIRE_MESSAGE(made.status == 201, made.body);
  return JsonField(made.body, "token");
}

// Adds the authenticator's passkey to the signed-in client's account (status of the verify).
int AddPasskey(WebClient& c, SoftAuthenticator& key) {
  WebResponse options = c.Post("/auth/register/options", "{}");
  REQUIRE_MESSAGE(options.status == 200, options.body);
  std::string credential = key.Register(JsonField(options.body, "challenge"),
                                        Json(options.body)["user"]["id"].GetString());
  return c.Post("/auth/register/verify", R"({"credential":)" + credential + "}").status;
}

}  // namespace

TEST_CASE("a leaked API token cannot add a passkey or touch the account's security") {
  WebFixture f;
  SoftAuthenticator alice_key("localhost", f.origin()), thief_key("localhost", f.origin());
  WebClient browser(f), thief(f);
  REQUIRE(browser.RegisterWith(alice_key, "alice").status == 201);
  const httplib::Headers bearer = {{"Authorization", "Bearer " + MakeToken(browser)}};

  // The attack as reproduced: start adding a passkey with the token alone.
  WebResponse options = thief.Post("/auth/register/options", "{}", bearer);
  CHECK(options.status == 403);
  CHECK(Has(options.body, "an API token cannot reach account security"));
  CHECK(thief.ceremony_cookie.empty());  // no ceremony was started
  // Even with a challenge of the thief's own (a new account's), finishing with the token fails.
  WebResponse own = thief.Post("/auth/register/options", R"({"username":"thief"})");
  REQUIRE(own.status == 200);
  std::string credential = thief_key.Register(JsonField(own.body, "challenge"),
                                              Json(own.body)["user"]["id"].GetString());
  WebResponse verify =
      thief.Post("/auth/register/verify", R"({"credential":)" + credential + "}", bearer);
  CHECK(verify.status == 403);
  CHECK(f.Query("SELECT count(*) FROM passkeys") == "1");

  // Every other part of account security refuses the token too.
  const std::string first = alice_key.credential_id();
  struct Call {
    std::string method, path, body;
  };
  for (const Call& c : std::vector<Call>{
           {"POST", "/auth/login/options", "{}"},
           {"POST", "/auth/logout", ""},
           {"GET", "/api/v1/account/passkeys", ""},
           {"DELETE", "/api/v1/account/passkeys/" + first, ""},
           {"GET", "/api/v1/account/sessions", ""},
           {"GET", "/api/v1/account/tokens", ""},
           {"POST", "/api/v1/account/tokens", R"({"name":"more"})"},
       }) {
    CAPTURE(c.path);
    WebResponse r = c.method == "GET"      ? thief.Get(c.path, bearer)
                    : c.method == "DELETE" ? thief.Delete(c.path, bearer)
                                           : thief.Post(c.path, c.body, bearer);
    CHECK(r.status == 403);
    CHECK(Has(r.body, "an API token cannot reach account security"));
  }
  CHECK(f.Query("SELECT count(*) FROM passkeys WHERE credential_id = $1", {first}) == "1");
  CHECK(f.Query("SELECT count(*) FROM api_tokens") == "1");
  CHECK(f.Query("SELECT count(*) FROM sessions WHERE ended_at IS NULL") == "1");
  // What tokens are for still works.
  CHECK(thief.Get("/api/v1/orgs", bearer).status == 200);
}

TEST_CASE("a member removed from an organization loses every right on the VMs they created") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin()), b("localhost", f.origin());
  WebClient alice(f), bob(f);
  REQUIRE(alice.RegisterWith(a, "alice").status == 201);
  WebResponse reg = bob.RegisterWith(b, "bob");
  REQUIRE(reg.status == 201);
  const std::string bob_id = JsonField(reg.body, "user_id");
  const std::string org = CreateOrg(alice, "Acme");
  REQUIRE(alice.Post("/api/v1/orgs/" + org + "/members", R"({"username":"bob"})").status == 200);
  // Bob creates two VMs: while a member he operates them and may delete his own.
  const std::string vm = CreateVm(bob, org, "bobs-vm");
  const std::string spare = CreateVm(bob, org, "bobs-spare");
  CHECK(bob.Get("/api/v1/vms/" + vm).status == 200);
  CHECK(bob.Post("/api/v1/vms/" + vm + "/start", "").status == 200);
  CHECK(bob.Delete("/api/v1/vms/" + spare).status == 200);

  REQUIRE(alice.Delete("/api/v1/orgs/" + org + "/members/" + bob_id).status == 200);

  // Every VM permission, through every route that checks one.
  const std::string base = "/api/v1/vms/" + vm;
  CHECK(bob.Get("/api/v1/orgs/" + org).status == 403);
  CHECK(bob.Get(base).status == 403);
  CHECK(bob.Get(base + "/events").status == 403);
  for (const char* action : {"start", "stop", "restart", "pause", "resume"}) {
    CAPTURE(action);
    WebResponse r = bob.Post(base + "/" + action, "");
    CHECK(r.status == 403);
    CHECK(Has(r.body, "you may not"));
  }
  CHECK(bob.Delete(base).status == 403);
  CHECK(!Has(bob.Get("/api/v1/vms").body, "bobs-vm"));
  // The pages refuse too.
  CHECK(Page(bob, "/vms/" + vm).status == 403);
  CHECK(PostForm(f, bob, "/vms/" + vm + "/stop", {}).status == 403);
  CHECK(PostForm(f, bob, "/vms/" + vm + "/delete", {}).status == 403);
  // Nothing bob tried after his removal reached the log; the VM stays the organization's.
  CHECK(f.Query("SELECT count(*) FROM events WHERE stream_id = $1 AND metadata->>'actor' = $2 "
                "AND type IN ('VmStopRequested', 'VmDeleted', 'VmRestartRequested')",
                {"vm-" + vm, "user-" + bob_id}) == "0");
  CHECK(alice.Get(base).status == 200);
  CHECK(alice.Post(base + "/stop", "").status == 200);
  // The organization still holds the VM its removed member created (the spare was deleted).
  WebResponse acme = alice.Get("/api/v1/orgs/" + org);
  REQUIRE(acme.status == 200);
  CHECK(Json(acme.body)["vm_count"].GetInt64() == 1);
}

TEST_CASE("sign-in CSRF: a ceremony finishes only as JSON in the browser that started it") {
  WebFixture f;
  SoftAuthenticator mallory_key("localhost", f.origin());
  WebClient mallory(f), victim(f);
  REQUIRE(mallory.RegisterWith(mallory_key, "mallory").status == 201);
  const int sessions_before = std::stoi(f.Query("SELECT count(*) FROM sessions"));

  // The attacker starts a sign-in in their own browser and signs its challenge with their own
  // passkey, then makes the victim's browser post the assertion.
  WebResponse options = mallory.Post("/auth/login/options", R"({"username":"mallory"})");
  REQUIRE(options.status == 200);
  CHECK(Has(options.Header("Set-Cookie"), "strato_ceremony="));
  CHECK(Has(options.Header("Set-Cookie"), "SameSite=Strict"));
  CHECK(Has(options.Header("Set-Cookie"), "HttpOnly"));
  const std::string body =
      R"({"credential":)" + mallory_key.SignIn(JsonField(options.body, "challenge"), false) + "}";

  // As a cross-site form would send it: text/plain is refused before anything is read.
  httplib::Client raw("127.0.0.1", f.port());
  auto plain = raw.Post("/auth/login/verify", body, "text/plain");
  REQUIRE(plain);
  CHECK(plain->status == 415);
  // With the browser's word that it comes from another site.
  WebResponse cross = victim.Post("/auth/login/verify", body, {{"Sec-Fetch-Site", "cross-site"}});
  CHECK(cross.status == 403);
  CHECK(Has(cross.body, "another site"));
  WebResponse evil = victim.Post("/auth/login/verify", body, {{"Origin", "https://evil.example"}});
  CHECK(evil.status == 403);
  CHECK(Has(evil.body, "another origin"));
  // A script that strips those headers still lacks the attacker's ceremony cookie.
  WebResponse other = victim.Post("/auth/login/verify", body);
  CHECK(other.status == 403);
  CHECK(ErrorCode(other.body) == "other_browser");
  CHECK(victim.cookie.empty());
  CHECK(std::stoi(f.Query("SELECT count(*) FROM sessions")) == sessions_before);
  // The challenge was used up by that try: not even the attacker's browser can finish it now.
  CHECK(mallory.Post("/auth/login/verify", body).status == 400);

  // The ordinary flow, from our own origin, still signs in.
  WebClient again(f);
  WebResponse ok = again.SignInWith(mallory_key, "mallory");
  CHECK_MESSAGE(ok.status == 200, ok.body);
  WebResponse same = again.Post("/api/v1/orgs", R"({"name":"Own"})", {{"Origin", f.origin()}});
  CHECK(same.status == 201);
}

TEST_CASE("sign-in options answer alike for every name and are limited per username") {
  WebFixture f;
  SoftAuthenticator key("localhost", f.origin());
  WebClient alice(f), stranger(f);
  REQUIRE(alice.RegisterWith(key, "alice").status == 201);

  WebResponse known = stranger.Post("/auth/login/options", R"({"username":"alice"})");
  WebResponse unknown = stranger.Post("/auth/login/options", R"({"username":"nosuchuser"})");
  REQUIRE(known.status == 200);
  REQUIRE(unknown.status == 200);
  rapidjson::Document k = Json(known.body), u = Json(unknown.body);
  std::vector<std::string> known_keys, unknown_keys;
  for (auto& m : k.GetObject()) known_keys.emplace_back(m.name.GetString());
  for (auto& m : u.GetObject()) unknown_keys.emplace_back(m.name.GetString());
  CHECK(known_keys == unknown_keys);
  CHECK(k["allowCredentials"].Size() == 0);  // no credential id of alice's is given away
  CHECK(u["allowCredentials"].Size() == 0);
  CHECK(!Has(known.body, key.credential_id()));

  // Per username: a burst of 5, whatever the address; another name still has its own budget.
  int limited = 0;
  for (int i = 0; i < 6; ++i) {
    WebResponse r = stranger.Post("/auth/login/options", R"({"username":"Alice"})");
    if (r.status == 429) {
      ++limited;
      CHECK(Has(r.body, "for this username"));
    }
  }
  CHECK(limited >= 1);
  CHECK(stranger.Post("/auth/login/options", R"({"username":"bob"})").status == 200);
}

TEST_CASE("removing a passkey ends the sessions it signed in") {
  WebFixture f;
  SoftAuthenticator laptop("localhost", f.origin()), phone("localhost", f.origin());
  WebClient first(f), second(f), third(f);
  REQUIRE(first.RegisterWith(laptop, "alice").status == 201);  // session 1: laptop
  REQUIRE(AddPasskey(first, phone) == 201);                    // from the first session
  REQUIRE(second.SignInWith(phone, "alice").status == 200);    // session 2: phone
  REQUIRE(third.SignInWith(laptop, "alice").status == 200);    // session 3: laptop

  WebResponse removed = second.Delete("/api/v1/account/passkeys/" + laptop.credential_id());
  CHECK(removed.status == 204);
  CHECK(first.Get("/api/v1/account/sessions").status == 401);
  CHECK(third.Get("/api/v1/orgs").status == 401);
  CHECK(second.Get("/api/v1/account/sessions").status == 200);
  CHECK(f.Query("SELECT count(*) FROM sessions WHERE ended_reason = 'its passkey was removed'") ==
        "2");

  // Removing the passkey a session was signed in with ends that very session too.
  SoftAuthenticator tablet("localhost", f.origin());
  REQUIRE(AddPasskey(second, tablet) == 201);
  WebResponse own = second.Delete("/api/v1/account/passkeys/" + phone.credential_id());
  CHECK(own.status == 204);
  CHECK(second.cookie.empty());  // the answer removed the cookie
}

TEST_CASE("user verification required by policy refuses ceremonies without it") {
  WebFixture f;
  f.web().app().require_user_verification = true;
  SoftAuthenticator key("localhost", f.origin());
  WebClient c(f);
  WebResponse options = c.Post("/auth/register/options", R"({"username":"alice"})");
  REQUIRE(options.status == 200);
  CHECK(Json(options.body)["authenticatorSelection"]["userVerification"].GetString() ==
        std::string("required"));
  CeremonyTweaks no_uv;
  no_uv.user_verified = false;
  std::string credential = key.Register(JsonField(options.body, "challenge"),
                                        Json(options.body)["user"]["id"].GetString(), no_uv);
  WebResponse refused = c.Post("/auth/register/verify", R"({"credential":)" + credential + "}");
  CHECK(refused.status == 401);
  CHECK(f.Query("SELECT count(*) FROM users") == "0");
  // With verification the same authenticator registers, and signing in needs it as well.
  REQUIRE(c.RegisterWith(key, "alice").status == 201);
  WebClient later(f);
  WebResponse login = later.Post("/auth/login/options", R"({"username":"alice"})");
  CHECK(JsonField(login.body, "userVerification") == "required");
  std::string assertion = key.SignIn(JsonField(login.body, "challenge"), false, no_uv);
  CHECK(later.Post("/auth/login/verify", R"({"credential":)" + assertion + "}").status == 401);
  CHECK(later.cookie.empty());
  CHECK(Events(f, "UserSignInFailed") == "1");
}

TEST_CASE("with attestation trust anchors an unattested authenticator cannot register") {
  WebFixture f;
  // Any certificate will do as an anchor: the soft authenticator attests with "none".
  f.web().app().attestation_trust_anchors = {std::vector<uint8_t>{0x30, 0x03, 0x02, 0x01, 0x01}};
  SoftAuthenticator key("localhost", f.origin());
  WebClient c(f);
  WebResponse r = c.RegisterWith(key, "alice");
  CHECK(r.status == 401);
  CHECK(Has(r.body, "cannot be traced to a configured trust anchor"));
  CHECK(f.Query("SELECT count(*) FROM users") == "0");
  f.web().app().attestation_trust_anchors.clear();
  CHECK(c.RegisterWith(key, "alice").status == 201);
}
