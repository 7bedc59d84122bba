// AuthStore: the short-lived security state of sign-in, kept in PostgreSQL so that every
// `strato serve` instance sees it (schema/migrations/0004_identity.sql): WebAuthn ceremony
// challenges (single use: consuming one deletes it) and sessions (a random 32-byte token in
// the cookie, only its SHA-256 stored; idle and absolute expiry; a CSRF token per session).
// It is also the Authenticator of the request pipeline (session cookie).
//
// Thread-safe (connections come from the borrowed pool, which must outlive the store). Tokens
// and challenges never reach logs.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "events/pg/pg_pool.h"
#include "http/server/pipeline.h"

namespace strato::http {

struct SessionOptions {
  std::chrono::minutes idle{8 * 60};           // ends after this long without a request
  std::chrono::minutes absolute{7 * 24 * 60};  // ends this long after sign-in, whatever happens
  std::chrono::seconds challenge_ttl{300};     // a ceremony must finish within this
};

struct Challenge {
  std::string purpose;  // "register", "add_passkey", "login"
  std::string user_id;
  std::string username;
  std::string display_name;
  std::string user_verification;  // "required", "preferred", "discouraged"
  // The ceremony cookie's value the browser that started the ceremony holds (never stored:
  // only its SHA-256 is). CreateChallenge stores it; ConsumeChallenge hands back whether the
  // cookie presented at the verify step is the same (`same_browser`).
  std::string browser_binding;
  bool same_browser = false;
};

struct NewSession {
  std::string token;  // for the cookie; shown once, stored hashed
  std::string session_id;
  std::string csrf_token;
};

struct SessionRow {
  std::string session_id;
  std::string created_at, last_seen_at, expires_at;  // RFC 3339
  std::string client_address, user_agent, credential_id;
  bool current = false;
};

class AuthStore final : public Authenticator {
 public:
  AuthStore(events::PgPool& pool, SessionOptions options = {});

  // A new single-use challenge (32 random bytes) for a ceremony; returns the raw bytes.
  Result<std::string> CreateChallenge(const Challenge& c);
  // Consumes the challenge (it cannot be used again, whatever happens next). kNotFound when it
  // is unknown or already used, kFailedPrecondition when it expired. `browser_binding` is the
  // ceremony cookie presented now; the answer's same_browser says whether it is the one the
  // challenge was made for.
  Result<Challenge> ConsumeChallenge(const std::string& raw_challenge,
                                     const std::string& browser_binding);

  Result<NewSession> StartSession(const std::string& user_id, const std::string& credential_id,
                                  const std::string& client_address, const std::string& user_agent);
  // Ends one of the user's sessions (sign-out, or from the account page). kNotFound when the
  // user has no such open session.
  Status EndSession(const std::string& user_id, const std::string& session_id,
                    const std::string& reason);
  // Ends every open session of the user that was signed in with this passkey (after the
  // passkey was removed); returns their ids.
  Result<std::vector<std::string>> EndSessionsSignedInWith(const std::string& user_id,
                                                           const std::string& credential_id,
                                                           const std::string& reason);
  Result<std::vector<SessionRow>> ListSessions(const std::string& user_id,
                                               const std::string& current_session_id);

  // Personal API tokens: "strato_" + 43 base64url characters, shown once, stored hashed.
  struct NewToken {
    std::string token_id, token;
  };
  Result<NewToken> CreateToken(const std::string& user_id, const std::string& name);
  struct TokenRow {
    std::string token_id, name, created_at, last_used_at;
  };
  Result<std::vector<TokenRow>> ListTokens(const std::string& user_id);
  // kNotFound when the user has no such unrevoked token.
  Status RevokeToken(const std::string& user_id, const std::string& token_id);

  // Authenticator: the session cookie, or `Authorization: Bearer <personal token>`.
  Result<std::optional<Principal>> Authenticate(const Request& request) override;

  const SessionOptions& options() const { return options_; }

 private:
  events::PgPool& pool_;
  SessionOptions options_;
};

// Random bytes as base64url without padding (libsodium's generator).
std::string RandomToken(size_t bytes = 32);
// "\\x<hex of SHA-256(text)>", a bytea literal to pass as a text parameter.
std::string Sha256Bytea(std::string_view text);

}  // namespace strato::http
