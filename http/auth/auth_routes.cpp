#include "http/auth/auth_routes.h"

#include <cctype>

#include "core/domain/user.h"
#include "core/ids.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/webauthn/client_data.h"
#include "core/webauthn/webauthn.h"
#include "http/auth/auth_store.h"
#include "http/server/json_body.h"
#include "projections/queries/user_queries.h"

namespace strato::http {

namespace {

constexpr int64_t kCeremonyTimeoutMs = 300000;
// The cookie that ties a ceremony to the browser that started it (0012_ceremony_binding.sql).
constexpr const char* kCeremonyCookie = "strato_ceremony";

const char* UserVerification(const App& app) {
  return app.require_user_verification ? "required" : "preferred";
}

// The browser's ceremony cookie when it holds a well-formed one (so that two tabs signing in
// at once keep one cookie between them), else a fresh random value.
std::string CeremonyBinding(const Request& req) {
  std::string v = req.Cookie(kCeremonyCookie);
  bool ok = v.size() == 43;
  for (char ch : v) {
    ok = ok && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                ch == '-' || ch == '_');
  }
  return ok ? v : RandomToken(32);
}

Response WithCeremonyCookie(Response r, const App& app, const std::string& binding) {
  // Strict: a page of another site can never make the browser send it along with a post.
  std::string c = std::string(kCeremonyCookie) + "=" + binding +
                  "; Path=/auth; HttpOnly; SameSite=Strict; Max-Age=" +
                  std::to_string(kCeremonyTimeoutMs / 1000);
  if (app.environment != Environment::kDevelopment) c += "; Secure";
  return r.With("Set-Cookie", c);
}

// The per-username ceremony budget (App::username_limiter); the name is compared as typed,
// case-folded.
bool UsernameAllowed(App& app, std::string_view username) {
  if (app.username_limiter == nullptr || username.empty()) return true;
  std::string key = "user:";
  for (char ch : username) key += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return app.username_limiter->Allow(key);
}

Response TooManyForUsername() {
  return JsonError(429, "rate_limited",
                   "too many sign-in attempts for this username; wait a minute and try again "
                   "(signing in with a passkey without typing a name still works)")
      .With("Retry-After", "60");
}

// The user handle WebAuthn stores with a passkey: the 16 bytes of the user's uuid (random, no
// personal data in it).
std::string UserHandle(const std::string& user_id) {
  auto id = Uuid::Parse(user_id);
  if (!id.ok()) return "";
  return webauthn::Base64UrlEncode(
      std::span<const uint8_t>(id->bytes().data(), id->bytes().size()));
}

Result<std::vector<projections::PasskeyRow>> PasskeysOf(App& app, const std::string& user_id) {
  auto db = app.db.Acquire();
  if (!db.ok()) return db.status();
  return projections::ListPasskeys(**db, user_id);
}

enum class UserKey { kId, kUsername };

Result<std::optional<projections::UserRow>> FindUser(App& app, UserKey key,
                                                     const std::string& value) {
  auto db = app.db.Acquire();
  if (!db.ok()) return db.status();
  return key == UserKey::kId ? projections::FindUserById(**db, value)
                             : projections::FindUserByUsername(**db, value);
}

void CredentialList(JsonWriter& w, const char* key,
                    const std::vector<projections::PasskeyRow>& keys) {
  w.Key(key);
  w.BeginArray();
  for (const projections::PasskeyRow& k : keys) {
    w.BeginObject();
    w.Str("type", "public-key");
    w.Str("id", k.credential_id);
    w.Key("transports");
    w.BeginArray();
    std::string_view rest = k.transports;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view t = rest.substr(0, comma);
      if (!t.empty()) w.String(t);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
}

Response CeremonyError(const Status& s, int http_status) {
  return JsonError(http_status, webauthn::ErrorKindName(webauthn::KindOf(s)), s.message());
}

// Reads and consumes the challenge named in clientDataJSON: whatever happens next, it cannot
// be used again.
Result<Challenge> TakeChallenge(App& app, const Request& req, const std::string& client_data_json,
                                std::vector<uint8_t>& raw_out) {
  auto cd = webauthn::ParseClientData(client_data_json);
  if (!cd.ok()) return Status::InvalidArgument(cd.status().message());
  auto raw = webauthn::Base64UrlDecode(cd.value().challenge);
  if (!raw.ok() || raw->size() != 32) {
    return Status::InvalidArgument("clientDataJSON.challenge is not a challenge this server made");
  }
  raw_out = *raw;
  auto c =
      app.auth.ConsumeChallenge(std::string(raw->begin(), raw->end()), req.Cookie(kCeremonyCookie));
  if (!c.ok()) return c;
  if (!c->same_browser) {
    log::Warn("ceremony finished by another browser than the one that started it",
              {{"client", req.client_address}, {"purpose", c->purpose}});
    return Status::PermissionDenied(
        "this ceremony was started in another browser (its ceremony cookie is missing or "
        "different); start again from this page");
  }
  return c;
}

Response ChallengeRefused(const Status& s) {
  if (s.code() == Code::kPermissionDenied) return JsonError(403, "other_browser", s.message());
  // Unknown, used or expired: the same answer class, a sentence saying which.
  return JsonError(400, "invalid_challenge", s.message());
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ",") + s;
  return out;
}

Response SignedIn(App& app, const Request& req, const std::string& user_id,
                  const std::string& username, const std::string& credential_id, int status) {
  auto session =
      app.auth.StartSession(user_id, credential_id, req.client_address, req.Header("User-Agent"));
  if (!session.ok()) return JsonError(session.status());
  JsonWriter w;
  w.BeginObject();
  w.Str("user_id", user_id);
  w.Str("username", username);
  w.Str("csrf_token", session->csrf_token);
  w.EndObject();
  Response r = Response::Json(status, w.Text());
  auto max_age = std::chrono::duration_cast<std::chrono::seconds>(app.auth.options().absolute);
  r.With("Set-Cookie", SessionCookie(session->token, max_age.count(),
                                     app.environment != Environment::kDevelopment));
  return r;
}

Response RegisterOptions(App& app, Request& req) {
  auto body = JsonBody::Parse(req.body, {"username", "display_name"}, /*empty_ok=*/true);
  if (!body.ok()) return JsonError(body.status());
  Challenge c;
  c.user_verification = UserVerification(app);
  c.browser_binding = CeremonyBinding(req);
  std::vector<projections::PasskeyRow> existing;
  if (req.principal && !body->Has("username")) {
    auto user = FindUser(app, UserKey::kId, req.principal->user_id);
    if (!user.ok()) return JsonError(user.status());
    if (!*user) return JsonError(Status::NotFound("your account is not there any more"));
    c.purpose = "add_passkey";
    c.user_id = (*user)->user_id;
    c.username = (*user)->username;
    c.display_name = (*user)->display_name;
    auto keys = PasskeysOf(app, c.user_id);
    if (!keys.ok()) return JsonError(keys.status());
    existing = std::move(*keys);
  } else {
    auto username = body->Str("username");
    if (!username.ok()) return JsonError(username.status());
    auto display = body->OptStr("display_name");
    if (!display.ok()) return JsonError(display.status());
    Status valid = domain::ValidateUsername(*username);
    if (valid.ok()) valid = domain::ValidateDisplayName(display->value_or(*username));
    if (!valid.ok()) return JsonError(valid);
    auto taken = FindUser(app, UserKey::kUsername, *username);
    if (!taken.ok()) return JsonError(taken.status());
    if (*taken) {
      return JsonError(
          Status::AlreadyExists("the username " + *username + " is taken; choose another"));
    }
    c.purpose = "register";
    c.user_id = Uuid::NewV4().ToString();
    c.username = *username;
    c.display_name = display->value_or(*username);
  }
  auto challenge = app.auth.CreateChallenge(c);
  if (!challenge.ok()) return JsonError(challenge.status());

  JsonWriter w;
  w.BeginObject();
  w.Str("challenge", webauthn::Base64UrlEncode(*challenge));
  w.Key("rp");
  w.BeginObject();
  w.Str("id", app.relying_party.id);
  w.Str("name", app.relying_party_name);
  w.EndObject();
  w.Key("user");
  w.BeginObject();
  w.Str("id", UserHandle(c.user_id));
  w.Str("name", c.username);
  w.Str("displayName", c.display_name);
  w.EndObject();
  w.Key("pubKeyCredParams");
  w.BeginArray();
  for (int alg : {-7, -8, -257}) {
    w.BeginObject();
    w.Str("type", "public-key");
    w.Key("alg");
    w.Int(alg);
    w.EndObject();
  }
  w.EndArray();
  w.Key("timeout");
  w.Int(kCeremonyTimeoutMs);
  w.Str("attestation", "direct");
  w.Key("authenticatorSelection");
  w.BeginObject();
  // Discoverable: sign-in never lists an account's credentials (LoginOptions), so the
  // authenticator must find them itself.
  w.Str("residentKey", "required");
  w.Key("requireResidentKey");
  w.Bool(true);
  w.Str("userVerification", c.user_verification);
  w.EndObject();
  CredentialList(w, "excludeCredentials", existing);
  w.EndObject();
  return WithCeremonyCookie(Response::Json(200, w.Text()), app, c.browser_binding);
}

Response RegisterVerify(App& app, Request& req) {
  auto body = JsonBody::Parse(req.body, {"credential", "name"});
  if (!body.ok()) return JsonError(body.status());
  auto credential = body->ObjectText("credential");
  if (!credential.ok()) return JsonError(credential.status());
  auto name = body->OptStr("name");
  if (!name.ok()) return JsonError(name.status());
  auto response = webauthn::ParseRegistrationResponseJson(*credential);
  if (!response.ok()) return CeremonyError(response.status(), 400);

  std::vector<uint8_t> raw_challenge;
  auto c = TakeChallenge(app, req, response.value().client_data_json, raw_challenge);
  if (!c.ok()) return ChallengeRefused(c.status());
  if (c->purpose == "login") {
    return JsonError(400, "invalid_challenge",
                     "this challenge was made for signing in, not for "
                     "registering a passkey; start again");
  }
  if (c->purpose == "add_passkey" && (!req.principal || req.principal->user_id != c->user_id)) {
    return JsonError(403, "permission_denied",
                     "this passkey was started for another account; sign in as that account");
  }

  webauthn::RegistrationOptions options;
  options.challenge = raw_challenge;
  options.require_user_verification =
      c->user_verification == "required" || app.require_user_verification;
  options.allowed_algorithms = {-7, -8, -257};  // what the options offered
  options.trust_anchors = app.attestation_trust_anchors;
  options.require_trusted_attestation = !app.attestation_trust_anchors.empty();
  options.verification_time = std::chrono::time_point_cast<std::chrono::seconds>(app.clock.Now());
  auto verified = webauthn::VerifyRegistration(app.relying_party, options, response.value());
  if (!verified.ok()) {
    log::Warn("passkey registration refused",
              {{"reason", webauthn::ErrorKindName(webauthn::KindOf(verified))},
               {"client", req.client_address}});
    int status = webauthn::KindOf(verified) == webauthn::ErrorKind::kMalformed ||
                         webauthn::KindOf(verified) == webauthn::ErrorKind::kUnsupportedFormat ||
                         webauthn::KindOf(verified) == webauthn::ErrorKind::kUnsupportedAlgorithm
                     ? 400
                     : 401;
    return CeremonyError(verified.status(), status);
  }
  const webauthn::RegisteredCredential& cred = verified.value();
  domain::Passkey key;
  key.credential_id = webauthn::Base64UrlEncode(
      std::span<const uint8_t>(cred.credential_id.data(), cred.credential_id.size()));
  key.public_key = webauthn::Base64UrlEncode(
      std::span<const uint8_t>(cred.public_key_cose.data(), cred.public_key_cose.size()));
  key.algorithm = cred.algorithm;
  key.sign_count = cred.sign_count;
  key.transports = Join(cred.transports);
  key.backup_eligible = cred.backup_eligible;
  key.backup_state = cred.backup_state;
  key.aaguid = Uuid(cred.aaguid).ToString();
  key.attestation_format = cred.attestation_format;
  key.name = name->value_or("");

  events::CommandContext ctx = ContextFor(req);
  Result<events::CommandOutcome> outcome = Status::Internal("no command ran");
  if (c->purpose == "register") {
    ctx.actor = "user-" + c->user_id;  // a person registering acts for themself
    outcome = app.commands.User(
        ctx, c->user_id, domain::RegisterUser{c->user_id, c->username, c->display_name, key});
  } else {
    outcome = app.commands.User(ctx, c->user_id, domain::AddPasskey{key});
  }
  if (!outcome.ok()) return JsonError(outcome.status());
  Status seen = app.WaitForReadModels(outcome->position);
  if (!seen.ok()) log::Warn("read models lag behind a sign-in", {{"error", seen.message()}});
  log::Info("passkey registered", {{"user_id", c->user_id}, {"purpose", c->purpose}});
  if (c->purpose == "register") {
    return SignedIn(app, req, c->user_id, c->username, key.credential_id, 201);
  }
  JsonWriter w;
  w.BeginObject();
  w.Str("credential_id", key.credential_id);
  w.Key("position");
  w.Int(outcome->position);
  w.EndObject();
  return Response::Json(201, w.Text());
}

// The same answer for every username, known or not: a challenge and no credential ids, so the
// answer tells nobody whether an account exists or which passkeys it has. A typed name only
// narrows which account's passkey the verify step accepts (an unknown name: none).
Response LoginOptions(App& app, Request& req) {
  auto body = JsonBody::Parse(req.body, {"username"}, /*empty_ok=*/true);
  if (!body.ok()) return JsonError(body.status());
  auto username = body->OptStr("username");
  if (!username.ok()) return JsonError(username.status());
  Challenge c;
  c.purpose = "login";
  c.user_verification = UserVerification(app);
  c.browser_binding = CeremonyBinding(req);
  if (*username && !(*username)->empty()) {
    if (!UsernameAllowed(app, **username)) return TooManyForUsername();
    auto user = FindUser(app, UserKey::kUsername, **username);
    if (!user.ok()) return JsonError(user.status());
    c.username = **username;
    // No account by that name: a user id no passkey belongs to, so any passkey offered is
    // refused at the verify step as "not this account's".
    c.user_id = *user ? (*user)->user_id : "unknown-account";
  }
  auto challenge = app.auth.CreateChallenge(c);
  if (!challenge.ok()) return JsonError(challenge.status());
  JsonWriter w;
  w.BeginObject();
  w.Str("challenge", webauthn::Base64UrlEncode(*challenge));
  w.Str("rpId", app.relying_party.id);
  w.Key("timeout");
  w.Int(kCeremonyTimeoutMs);
  w.Str("userVerification", c.user_verification);
  CredentialList(w, "allowCredentials", {});
  w.EndObject();
  return WithCeremonyCookie(Response::Json(200, w.Text()), app, c.browser_binding);
}

// Records a failed sign-in on the user's stream (the audit trail); the reason has no secrets.
void RecordFailure(App& app, const Request& req, const std::string& user_id,
                   const std::string& credential_id, const std::string& reason) {
  events::CommandContext ctx = ContextFor(req);
  ctx.actor = "system";
  auto r = app.commands.User(ctx, user_id,
                             domain::RecordSignInFailure{credential_id, reason.substr(0, 300)});
  if (!r.ok())
    log::Warn("a failed sign-in could not be recorded", {{"error", r.status().message()}});
}

Response LoginVerify(App& app, Request& req) {
  auto body = JsonBody::Parse(req.body, {"credential"});
  if (!body.ok()) return JsonError(body.status());
  auto credential = body->ObjectText("credential");
  if (!credential.ok()) return JsonError(credential.status());
  auto response = webauthn::ParseAssertionResponseJson(*credential);
  if (!response.ok()) return CeremonyError(response.status(), 400);
  std::vector<uint8_t> raw_challenge;
  auto c = TakeChallenge(app, req, response.value().client_data_json, raw_challenge);
  if (!c.ok()) return ChallengeRefused(c.status());
  if (c->purpose != "login") {
    return JsonError(400, "invalid_challenge",
                     "this challenge was made for registering, not for signing in; start again");
  }
  const std::vector<uint8_t>& raw_id = response.value().raw_id;
  std::string credential_id =
      webauthn::Base64UrlEncode(std::span<const uint8_t>(raw_id.data(), raw_id.size()));
  std::string owner_id;
  {
    auto db = app.db.Acquire();
    if (!db.ok()) return JsonError(db.status());
    auto owner = projections::FindPasskeyOwner(**db, credential_id);
    if (!owner.ok()) return JsonError(owner.status());
    if (!owner->has_value()) {
      log::Warn("sign-in with an unknown passkey", {{"client", req.client_address}});
      return JsonError(401, "unknown_credential",
                       "this passkey is not registered here; register, or use another passkey");
    }
    owner_id = **owner;
  }
  if (!c->user_id.empty() && c->user_id != owner_id) {
    RecordFailure(app, req, owner_id, credential_id,
                  "the passkey was offered for another account (" + c->username + ")");
    return JsonError(401, "credential_mismatch",
                     "this passkey does not belong to an account named " + c->username +
                         "; check the name, or sign in without typing one");
  }
  // The key and counter come from the user's stream, not the read model: it is the truth, and
  // a counter seen by a sign-in a moment ago is already there.
  auto user = app.commands.LoadUser(owner_id);
  if (!user.ok()) return JsonError(user.status());
  const domain::Passkey* key = user->FindPasskey(credential_id);
  if (key == nullptr) {
    return JsonError(401, "unknown_credential", "this passkey was removed from its account");
  }
  auto public_key = webauthn::Base64UrlDecode(key->public_key);
  if (!public_key.ok()) return JsonError(Status::Internal("a stored passkey cannot be read"));
  webauthn::StoredCredential stored;
  stored.credential_id = raw_id;
  stored.public_key_cose = *public_key;
  stored.sign_count = static_cast<uint32_t>(key->sign_count);
  webauthn::AssertionOptions options;
  options.challenge = raw_challenge;
  options.require_user_verification =
      c->user_verification == "required" || app.require_user_verification;
  if (c->user_id.empty()) {
    // Discoverable sign-in: the authenticator names the account; it must be the owner.
    auto handle = webauthn::Base64UrlDecode(UserHandle(owner_id));
    if (handle.ok()) options.expected_user_handle = *handle;
  }
  auto verified = webauthn::VerifyAssertion(app.relying_party, options, stored, response.value());
  if (!verified.ok()) {
    RecordFailure(app, req, owner_id, credential_id,
                  std::string(webauthn::ErrorKindName(webauthn::KindOf(verified))) + ": " +
                      verified.status().message());
    return CeremonyError(verified.status(), 401);
  }
  events::CommandContext ctx = ContextFor(req);
  ctx.actor = "user-" + owner_id;
  auto recorded = app.commands.User(
      ctx, owner_id,
      domain::RecordSignIn{credential_id, verified.value().new_sign_count,
                           verified.value().user_verified, verified.value().backup_state});
  if (!recorded.ok()) {
    // Another sign-in with the same counter got there first: a replayed or cloned response.
    RecordFailure(app, req, owner_id, credential_id, recorded.status().message());
    return JsonError(401, "counter_regression", recorded.status().message());
  }
  // Read-your-writes: the account page opened next shows this sign-in (counter, last use).
  Status seen = app.WaitForReadModels(recorded->position);
  if (!seen.ok()) log::Warn("read models lag behind a sign-in", {{"error", seen.message()}});
  log::Info("signed in", {{"user_id", owner_id}});
  return SignedIn(app, req, owner_id, user->username, credential_id, 200);
}

Response Logout(App& app, Request& req) {
  Status s = app.auth.EndSession(req.principal->user_id, req.principal->session_id, "signed out");
  if (!s.ok() && s.code() != Code::kNotFound) return JsonError(s);
  Response r = req.WantsHtml() ? Response::Redirect("/signin?signed_out=1") : Response::NoContent();
  return r.With("Set-Cookie", SessionCookie("", 0, app.environment != Environment::kDevelopment));
}

Response CurrentSession(App&, Request& req) {
  JsonWriter w;
  w.BeginObject();
  w.Key("signed_in");
  w.Bool(req.principal.has_value());
  if (req.principal) {
    w.Str("user_id", req.principal->user_id);
    w.Str("username", req.principal->username);
    w.Str("csrf_token", req.principal->csrf_token);
  }
  w.EndObject();
  return Response::Json(200, w.Text());
}

Response ListPasskeys(App& app, Request& req) {
  auto passkeys = PasskeysOf(app, req.principal->user_id);
  if (!passkeys.ok()) return JsonError(passkeys.status());
  JsonWriter w;
  w.BeginObject().Key("passkeys").BeginArray();
  for (const projections::PasskeyRow& p : *passkeys) {
    w.BeginObject()
        .Str("credential_id", p.credential_id)
        .Str("name", p.name)
        .Int("algorithm", p.algorithm)
        .Int("sign_count", p.sign_count)
        .Str("transports", p.transports)
        .Bool("backup_eligible", p.backup_eligible)
        .Bool("backup_state", p.backup_state)
        .Str("aaguid", p.aaguid)
        .Str("attestation_format", p.attestation_format)
        .Str("created_at", p.created_at)
        .OptStr("last_used_at", p.last_used_at)
        .EndObject();
  }
  w.EndArray().EndObject();
  return Response::Json(200, w.Text());
}

Response RemovePasskey(App& app, Request& req) {
  auto removed = RemovePasskeyAndItsSessions(app, req, req.Param("credential_id"));
  if (!removed.ok()) return JsonError(removed.status());
  Response r = Response::NoContent();
  if (removed->ended_current) {
    r.With("Set-Cookie", SessionCookie("", 0, app.environment != Environment::kDevelopment));
  }
  return r;
}

Response ListSessions(App& app, Request& req) {
  auto rows = app.auth.ListSessions(req.principal->user_id, req.principal->session_id);
  if (!rows.ok()) return JsonError(rows.status());
  JsonWriter w;
  w.BeginObject();
  w.Key("sessions");
  w.BeginArray();
  for (const SessionRow& s : *rows) {
    w.BeginObject();
    w.Str("session_id", s.session_id);
    w.Str("created_at", s.created_at);
    w.Str("last_seen_at", s.last_seen_at);
    w.Str("expires_at", s.expires_at);
    w.Str("client_address", s.client_address);
    w.Str("user_agent", s.user_agent);
    w.Key("current");
    w.Bool(s.current);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Response::Json(200, w.Text());
}

Response EndSession(App& app, Request& req) {
  Status s = app.auth.EndSession(req.principal->user_id, req.Param("session_id"),
                                 "ended from the account page");
  if (!s.ok()) return JsonError(s);
  return Response::NoContent();
}

Response ListTokens(App& app, Request& req) {
  auto rows = app.auth.ListTokens(req.principal->user_id);
  if (!rows.ok()) return JsonError(rows.status());
  JsonWriter w;
  w.BeginObject();
  w.Key("tokens");
  w.BeginArray();
  for (const AuthStore::TokenRow& t : *rows) {
    w.BeginObject();
    w.Str("id", t.token_id);
    w.Str("name", t.name);
    w.Str("created_at", t.created_at);
    if (t.last_used_at.empty()) {
      w.Key("last_used_at");
      w.Null();
    } else {
      w.Str("last_used_at", t.last_used_at);
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Response::Json(200, w.Text());
}

Response CreateToken(App& app, Request& req) {
  // Declared for a browser session only (AddAuthRoutes): a token cannot make tokens.
  auto body = JsonBody::Parse(req.body, {"name"});
  if (!body.ok()) return JsonError(body.status());
  auto name = body->Str("name");
  if (!name.ok()) return JsonError(name.status());
  Status valid = domain::CheckText("a token's name", *name, 1, 64);
  if (!valid.ok()) return JsonError(valid);
  auto token = app.auth.CreateToken(req.principal->user_id, *name);
  if (!token.ok()) return JsonError(token.status());
  JsonWriter w;
  w.BeginObject();
  w.Str("id", token->token_id);
  w.Str("name", *name);
  w.Str("token", token->token);  // shown this once; only its hash is kept
  w.EndObject();
  return Response::Json(201, w.Text()).With("Cache-Control", "no-store");
}

Response RevokeToken(App& app, Request& req) {
  Status s = app.auth.RevokeToken(req.principal->user_id, req.Param("token_id"));
  if (!s.ok()) return JsonError(s);
  return Response::NoContent();
}

}  // namespace

Result<PasskeyRemoval> RemovePasskeyAndItsSessions(App& app, const Request& req,
                                                   const std::string& credential_id) {
  auto outcome = app.commands.User(ContextFor(req), req.principal->user_id,
                                   domain::RemovePasskey{credential_id});
  if (!outcome.ok()) return outcome.status();
  // A passkey that is gone signs nobody in any more, including the sessions it opened: a
  // stolen passkey's sessions end when its owner removes it.
  auto ended = app.auth.EndSessionsSignedInWith(req.principal->user_id, credential_id,
                                                "its passkey was removed");
  if (!ended.ok()) return ended.status();
  PasskeyRemoval out;
  out.sessions_ended = static_cast<int>(ended->size());
  for (const std::string& id : *ended) {
    if (id == req.principal->session_id) out.ended_current = true;
  }
  log::Info("passkey removed", {{"user_id", req.principal->user_id},
                                {"sessions_ended", static_cast<int64_t>(ended->size())}});
  Status seen = app.WaitForReadModels(outcome->position);
  if (!seen.ok())
    log::Warn("read models lag behind a passkey removal", {{"error", seen.message()}});
  return out;
}

std::string SessionCookie(const std::string& token, int64_t max_age_seconds, bool secure) {
  std::string c = std::string(kSessionCookie) + "=" + token +
                  "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" + std::to_string(max_age_seconds);
  if (secure) c += "; Secure";
  return c;
}

void AddAuthRoutes(Router& router, App& app) {
  router.Add(AppRoute("POST", "/auth/register/options", Access::Public().BrowserSessionOnly(),
                      "Start registering a new user, or another passkey for the signed-in user",
                      RegisterOptions, app, /*rate_limited=*/true));
  router.Add(AppRoute("POST", "/auth/register/verify", Access::Public().BrowserSessionOnly(),
                      "Finish a registration with the browser's attestation", RegisterVerify, app));
  router.Add(AppRoute("POST", "/auth/login/options", Access::Public().BrowserSessionOnly(),
                      "Start signing in, with or without a username", LoginOptions, app,
                      /*rate_limited=*/true));
  router.Add(AppRoute("POST", "/auth/login/verify", Access::Public().BrowserSessionOnly(),
                      "Finish signing in with the browser's assertion", LoginVerify, app));
  router.Add(AppRoute("POST", "/auth/logout", Access::SignedIn().BrowserSessionOnly(),
                      "Sign out (ends this session)", Logout, app));
  router.Add(AppRoute("GET", "/auth/session", Access::Public().BrowserSessionOnly(),
                      "Who is signed in, and the CSRF token for scripts", CurrentSession, app));
  router.Add(AppRoute("GET", "/api/v1/account/passkeys", Access::SignedIn().BrowserSessionOnly(),
                      "The signed-in user's passkeys", ListPasskeys, app));
  router.Add(AppRoute(
      "DELETE", "/api/v1/account/passkeys/{credential_id}", Access::SignedIn().BrowserSessionOnly(),
      "Remove one of the signed-in user's passkeys (never the last)", RemovePasskey, app));
  router.Add(AppRoute("GET", "/api/v1/account/sessions", Access::SignedIn().BrowserSessionOnly(),
                      "The signed-in user's open sessions", ListSessions, app));
  router.Add(AppRoute("DELETE", "/api/v1/account/sessions/{session_id}",
                      Access::SignedIn().BrowserSessionOnly(),
                      "End one of the signed-in user's sessions", EndSession, app));
  router.Add(AppRoute("GET", "/api/v1/account/tokens", Access::SignedIn().BrowserSessionOnly(),
                      "The signed-in user's personal API tokens (never the tokens themselves)",
                      ListTokens, app));
  router.Add(AppRoute("POST", "/api/v1/account/tokens", Access::SignedIn().BrowserSessionOnly(),
                      "Create a personal API token, shown once (from a browser session only)",
                      CreateToken, app));
  router.Add(AppRoute("DELETE", "/api/v1/account/tokens/{token_id}",
                      Access::SignedIn().BrowserSessionOnly(), "Revoke a personal API token",
                      RevokeToken, app));
}

}  // namespace strato::http
