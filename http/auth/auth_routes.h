// The sign-in routes: WebAuthn registration and sign-in ceremonies (options + verify), sign-out,
// the current session, and the account's passkeys and sessions (JSON). Verification is
// core/webauthn's; what was verified becomes events on the user's stream through the command
// pipeline; challenges and sessions live in AuthStore.
//
// Every route here takes a browser session only (never an API token), and a ceremony is bound
// to the browser that started it by the strato_ceremony cookie set with its options.
//
//   POST /auth/register/options   public, rate-limited: a new user (username), or, signed in
//                                 and without a username, another passkey for that user
//   POST /auth/register/verify    public: stores the user / passkey, starts a session (new user)
//   POST /auth/login/options      public, rate-limited (per address and per username): the
//                                 same answer whether the name exists or not, no credential ids
//   POST /auth/login/verify       public: verifies the assertion, records it, starts a session
//   POST /auth/logout             signed in
//   GET  /auth/session            public: who is signed in, and the CSRF token for scripts
//   GET/DELETE /api/v1/account/passkeys[/{credential_id}], /api/v1/account/sessions[/{id}]
#pragma once

#include "http/app/app.h"
#include "http/server/router.h"

namespace strato::http {

void AddAuthRoutes(Router& router, App& app);

struct PasskeyRemoval {
  int sessions_ended = 0;
  bool ended_current = false;  // the request's own session was signed in with it
};
// Removes one of the signed-in user's passkeys (a command) and ends every session it signed in.
Result<PasskeyRemoval> RemovePasskeyAndItsSessions(App& app, const Request& req,
                                                   const std::string& credential_id);

// The Set-Cookie value of a session (Secure outside development); empty token: the cookie that
// removes it.
std::string SessionCookie(const std::string& token, int64_t max_age_seconds, bool secure);

}  // namespace strato::http
