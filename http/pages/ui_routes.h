// The pages of the sign-in slice: / (a landing for the signed-in user), /signin, /register,
// /account (passkeys and sessions, with forms that work without JavaScript), the account forms'
// POST targets, and /static/{file} (the embedded scripts and style sheets, ui/static/). The
// passkey ceremonies themselves run in ui/static/passkeys.js against the JSON endpoints of
// http/auth/auth_routes.h.
//
// Handlers are stateless; they borrow the App (which outlives the router) and run on the
// server's worker threads at once.
#pragma once

#include "http/app/app.h"
#include "http/server/router.h"

namespace strato::http {

void AddUiRoutes(Router& router, App& app);

}  // namespace strato::http
