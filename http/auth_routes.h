// The sign-in routes: WebAuthn registration and sign-in ceremonies (options + verify), sign-out,
// the current session, and the account's passkeys and sessions (JSON). Verification is
// core/webauthn's; what was verified becomes events on the user's stream through the command
// pipeline; challenges and sessions live in AuthStore.
//
//   POST /auth/register/options   public, rate-limited: a new user (username), or, signed in
//                                 and without a username, another passkey for that user
//   POST /auth/register/verify    public: stores the user / passkey, starts a session (new user)
//   POST /auth/login/options      public, rate-limited: with a username (allowCredentials) or
//                                 without (discoverable passkeys)
//   POST /auth/login/verify       public: verifies the assertion, records it, starts a session
//   POST /auth/logout             signed in
//   GET  /auth/session            public: who is signed in, and the CSRF token for scripts
//   GET/DELETE /api/v1/account/passkeys[/{credential_id}], /api/v1/account/sessions[/{id}]
#pragma once

#include "http/app.h"
#include "http/router.h"

namespace strato::http {

void AddAuthRoutes(Router& router, App& app);

// The Set-Cookie value of a session (Secure outside development); empty token: the cookie that
// removes it.
std::string SessionCookie(const std::string& token, int64_t max_age_seconds, bool secure);

}  // namespace strato::http
