#include "http/auth/auth_store.h"

#include <sodium.h>

#include <cstring>

#include "core/ids.h"

namespace strato::http {

std::string RandomToken(size_t bytes) {
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string out(sodium_base64_ENCODED_LEN(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                    raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::strlen(out.c_str()));
  sodium_memzero(raw.data(), raw.size());
  return out;
}

std::string Sha256Bytea(std::string_view text) {
  unsigned char hash[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(hash, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  for (unsigned char b : hash) {
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
  return out;
}

namespace {

std::string Seconds(std::chrono::seconds s) {
  return std::to_string(s.count()) + " seconds";
}

}  // namespace

AuthStore::AuthStore(events::PgPool& pool, SessionOptions options)
    : pool_(pool), options_(options) {}

Result<std::string> AuthStore::CreateChallenge(const Challenge& c) {
  auto db = pool_.Acquire();
  if (!db.ok()) return db.status();
  std::string raw(32, '\0');
  randombytes_buf(raw.data(), raw.size());
  // Sweep what expired long ago, so abandoned ceremonies do not pile up.
  (void)(*db)->Run("DELETE FROM auth_challenges WHERE expires_at < now() - interval '1 hour'");
  auto r = (*db)->Exec(
      "INSERT INTO auth_challenges (challenge_hash, purpose, user_id, username, display_name, "
      "user_verification, expires_at, browser_binding) VALUES ($1::bytea, $2, $3, $4, $5, $6, "
      "now() + $7::interval, $8::bytea)",
      {Sha256Bytea(raw), c.purpose, c.user_id, c.username, c.display_name, c.user_verification,
       Seconds(options_.challenge_ttl), Sha256Bytea(c.browser_binding)});
  if (!r.ok()) return r.status().WithContext("storing a sign-in challenge");
  return raw;
}

Result<Challenge> AuthStore::ConsumeChallenge(const std::string& raw_challenge,
                                              const std::string& browser_binding) {
  auto db = pool_.Acquire();
  if (!db.ok()) return db.status();
  // An empty binding never matches: a ceremony started without the cookie cannot finish.
  auto r = (*db)->Exec(
      "DELETE FROM auth_challenges WHERE challenge_hash = $1::bytea "
      "RETURNING purpose, user_id, username, display_name, user_verification, "
      "expires_at > now(), coalesce($2 <> '' AND browser_binding = $3::bytea, false)",
      {Sha256Bytea(raw_challenge), browser_binding, Sha256Bytea(browser_binding)});
  if (!r.ok()) return r.status().WithContext("reading a sign-in challenge");
  if (r->rows() == 0) {
    return Status::NotFound(
        "the challenge of this ceremony is unknown or was already used; start again");
  }
  if (r->Get(0, 5) != "t") {
    return Status::FailedPrecondition("the challenge of this ceremony expired; start again");
  }
  Challenge c;
  c.purpose = std::string(r->Get(0, 0));
  c.user_id = std::string(r->Get(0, 1));
  c.username = std::string(r->Get(0, 2));
  c.display_name = std::string(r->Get(0, 3));
  c.user_verification = std::string(r->Get(0, 4));
  c.same_browser = r->Get(0, 6) == "t";
  return c;
}

Result<NewSession> AuthStore::StartSession(const std::string& user_id,
                                           const std::string& credential_id,
                                           const std::string& client_address,
                                           const std::string& user_agent) {
  auto db = pool_.Acquire();
  if (!db.ok()) return db.status();
  NewSession s;
  s.token = RandomToken();
  s.csrf_token = RandomToken();
  s.session_id = Uuid::NewV4().ToString();
  auto r = (*db)->Exec(
      "INSERT INTO sessions (session_id, token_hash, user_id, csrf_token, credential_id, "
      "client_address, user_agent, idle_expires_at, expires_at) VALUES ($1::uuid, $2::bytea, $3, "
      "$4, $5, $6, $7, now() + $8::interval, now() + $9::interval)",
      {s.session_id, Sha256Bytea(s.token), user_id, s.csrf_token, credential_id, client_address,
       user_agent.substr(0, 300),
       Seconds(std::chrono::duration_cast<std::chrono::seconds>(options_.idle)),
       Seconds(std::chrono::duration_cast<std::chrono::seconds>(options_.absolute))});
  if (!r.ok()) return r.status().WithContext("starting a session");
  return s;
}

Status AuthStore::EndSession(const std::string& user_id, const std::string& session_id,
                             const std::string& reason) {
  auto id = Uuid::Parse(session_id);
  if (!id.ok()) return Status::NotFound("there is no such session");
  auto db = pool_.Acquire();
  if (!db.ok()) return db.status();
  auto r = (*db)->Exec(
      "UPDATE sessions SET ended_at = now(), ended_reason = $3 WHERE session_id = $1::uuid AND "
      "user_id = $2 AND ended_at IS NULL RETURNING 1",
      {id->ToString(), user_id, reason});
  if (!r.ok()) return r.status().WithContext("ending a session");
  if (r->rows() == 0) return Status::NotFound("there is no such open session");
  return Status::Ok();
}

Result<std::vector<std::string>> AuthStore::EndSessionsSignedInWith(
    const std::string& user_id, const std::string& credential_id, const std::string& reason) {
  auto db = pool_.Acquire();
  if (!db.ok()) return db.status();
  auto r = (*db)->Exec(
      "UPDATE sessions SET ended_at = now(), ended_reason = $3 WHERE user_id = $1 AND "
      "credential_id = $2 AND ended_at IS NULL RETURNING session_id::text",
      {user_id, credential_id, reason});
  if (!r.ok()) return r.status().WithContext("ending the sessions of a removed passkey");
  std::vector<std::string> ended;
  for (int i = 0; i < r->rows(); ++i) ended.emplace_back(r->Get(i, 0));
  return ended;
}

Result<std::vector<SessionRow>> AuthStore::ListSessions(const std::string& user_id,
                                                        const std::string& current_session_id) {
  auto db = pool_.Acquire();
  if (!db.ok()) return db.status();
  auto r = (*db)->Exec(
      "SELECT session_id::text, to_char(created_at AT TIME ZONE 'UTC', "
      "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), to_char(last_seen_at AT TIME ZONE 'UTC', "
      "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), to_char(LEAST(expires_at, idle_expires_at) AT TIME "
      "ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), client_address, user_agent, credential_id "
      "FROM sessions WHERE user_id = $1 AND ended_at IS NULL AND expires_at > now() AND "
      "idle_expires_at > now() ORDER BY created_at DESC",
      {user_id});
  if (!r.ok()) return r.status().WithContext("listing sessions");
  std::vector<SessionRow> out;
  for (int i = 0; i < r->rows(); ++i) {
    SessionRow row;
    row.session_id = std::string(r->Get(i, 0));
    row.created_at = std::string(r->Get(i, 1));
    row.last_seen_at = std::string(r->Get(i, 2));
    row.expires_at = std::string(r->Get(i, 3));
    row.client_address = std::string(r->Get(i, 4));
    row.user_agent = std::string(r->Get(i, 5));
    row.credential_id = std::string(r->Get(i, 6));
    row.current = row.session_id == current_session_id;
    out.push_back(std::move(row));
  }
  return out;
}

Result<AuthStore::NewToken> AuthStore::CreateToken(const std::string& user_id,
                                                   const std::string& name) {
  auto db = pool_.Acquire();
  if (!db.ok()) return db.status();
  NewToken t;
  t.token_id = Uuid::NewV4().ToString();
  t.token = "strato_" + RandomToken();
  auto r = (*db)->Exec(
      "INSERT INTO api_tokens (token_id, token_hash, user_id, name) VALUES ($1::uuid, "
      "$2::bytea, $3, $4)",
      {t.token_id, Sha256Bytea(t.token), user_id, name});
  if (!r.ok()) return r.status().WithContext("creating a token");
  return t;
}

Result<std::vector<AuthStore::TokenRow>> AuthStore::ListTokens(const std::string& user_id) {
  auto db = pool_.Acquire();
  if (!db.ok()) return db.status();
  auto r = (*db)->Exec(
      "SELECT token_id::text, name, to_char(created_at AT TIME ZONE 'UTC', "
      "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), coalesce(to_char(last_used_at AT TIME ZONE 'UTC', "
      "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '') FROM api_tokens WHERE user_id = $1 AND revoked_at "
      "IS NULL ORDER BY created_at",
      {user_id});
  if (!r.ok()) return r.status().WithContext("listing tokens");
  std::vector<TokenRow> out;
  for (int i = 0; i < r->rows(); ++i) {
    out.push_back({std::string(r->Get(i, 0)), std::string(r->Get(i, 1)), std::string(r->Get(i, 2)),
                   std::string(r->Get(i, 3))});
  }
  return out;
}

Status AuthStore::RevokeToken(const std::string& user_id, const std::string& token_id) {
  auto id = Uuid::Parse(token_id);
  if (!id.ok()) return Status::NotFound("there is no such token");
  auto db = pool_.Acquire();
  if (!db.ok()) return db.status();
  auto r = (*db)->Exec(
      "UPDATE api_tokens SET revoked_at = now() WHERE token_id = $1::uuid AND user_id = $2 AND "
      "revoked_at IS NULL RETURNING 1",
      {id->ToString(), user_id});
  if (!r.ok()) return r.status().WithContext("revoking a token");
  if (r->rows() == 0) return Status::NotFound("there is no such token");
  return Status::Ok();
}

Result<std::optional<Principal>> AuthStore::Authenticate(const Request& request) {
  std::string authorization = request.Header("Authorization");
  if (authorization.rfind("Bearer ", 0) == 0) {
    std::string bearer = authorization.substr(7);
    if (bearer.empty() || bearer.size() > 100) return std::optional<Principal>();
    auto db = pool_.Acquire();
    if (!db.ok()) return db.status();
    auto r = (*db)->ExecPrepared(
        "auth_token",
        "SELECT t.token_id::text, t.user_id, u.username, t.last_used_at IS NULL OR "
        "t.last_used_at < now() - interval '1 minute' FROM api_tokens t JOIN users u ON "
        "u.user_id = t.user_id WHERE t.token_hash = $1::bytea AND t.revoked_at IS NULL",
        {Sha256Bytea(bearer)});
    if (!r.ok()) return r.status().WithContext("reading the token");
    if (r->rows() == 0) return std::optional<Principal>();
    Principal p;
    p.session_id = std::string(r->Get(0, 0));
    p.user_id = std::string(r->Get(0, 1));
    p.username = std::string(r->Get(0, 2));
    p.via_cookie = false;  // not sent by a browser on its own: no CSRF token needed
    if (r->Get(0, 3) == "t") {
      // Like a session's last-seen time: at most one write a minute per token, so a script
      // calling the API in a loop does not turn every read into a row update.
      (void)(*db)->ExecPrepared(
          "auth_token_touch",
          "UPDATE api_tokens SET last_used_at = now() WHERE token_id = $1::uuid", {p.session_id});
    }
    return std::optional<Principal>(std::move(p));
  }
  std::string token = request.Cookie(kSessionCookie);
  if (token.empty() || token.size() > 100) return std::optional<Principal>();
  auto db = pool_.Acquire();
  if (!db.ok()) return db.status();
  auto r = (*db)->ExecPrepared(
      "auth_session",
      "SELECT s.session_id::text, s.user_id, s.csrf_token, coalesce(u.username, ''), "
      "s.last_seen_at < now() - interval '1 minute' FROM sessions s LEFT JOIN users u ON "
      "u.user_id = s.user_id WHERE s.token_hash = $1::bytea AND s.ended_at IS NULL AND "
      "s.expires_at > now() AND s.idle_expires_at > now()",
      {Sha256Bytea(token)});
  if (!r.ok()) return r.status().WithContext("reading the session");
  if (r->rows() == 0) return std::optional<Principal>();
  Principal p;
  p.session_id = std::string(r->Get(0, 0));
  p.user_id = std::string(r->Get(0, 1));
  p.csrf_token = std::string(r->Get(0, 2));
  p.username = std::string(r->Get(0, 3));
  p.via_cookie = true;
  if (r->Get(0, 4) == "t") {
    // Activity moves the idle expiry, at most once a minute per session (not a write per request).
    (void)(*db)->ExecPrepared(
        "auth_session_touch",
        "UPDATE sessions SET last_seen_at = now(), idle_expires_at = LEAST(expires_at, now() + "
        "$2::interval) WHERE session_id = $1::uuid",
        {p.session_id, Seconds(std::chrono::duration_cast<std::chrono::seconds>(options_.idle))});
  }
  return std::optional<Principal>(std::move(p));
}

}  // namespace strato::http
