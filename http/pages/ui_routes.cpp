#include "http/pages/ui_routes.h"

#include <string>
#include <vector>

#include "core/log.h"
#include "events/commands/domain_commands.h"
#include "http/auth/auth_routes.h"
#include "http/auth/auth_store.h"
#include "http/pages/page_orgs.h"
#include "http/pages/page_vms.h"
#include "http/pages/ui_assets.h"
#include "http/pages/ui_html.h"
#include "projections/queries/user_queries.h"

namespace strato::http {

namespace {

// A page for an error the handler met (database down, ...): the sentence in role="alert".
Response ErrorPage(const Request& req, const Status& s) {
  return ErrorPageResponse(req, HttpStatusFor(s.code()), "Something went wrong", s.message(),
                           "Back to the start page");
}

// --- GET /signin

Response SignIn(App&, Request& req) {
  std::string next = SafeNext(req.Query("next"));
  if (req.principal) return Response::Redirect(next);
  View v = PageView(nullptr);
  v.set("notice", req.Query("signed_out") == "1"
                      ? NoticeView(NoticeKind::kDone, "You are signed out.")
                      : Flag(false));
  Put(v, "ceremony", CeremonyView());
  v.set("next", next);
  Put(v, "next_field", Flag(next != "/"));
  v.set("username", req.Query("username"));
  return TemplatePage(200, {"Sign in", nullptr, "signin", {"passkeys.js"}, ""}, "signin", v);
}

// --- GET /register

Response Register(App&, Request& req) {
  if (req.principal) return Response::Redirect("/account");
  View v = PageView(nullptr);
  Put(v, "ceremony", CeremonyView());
  v.set("username", req.Query("username"));
  v.set("display_name", req.Query("display_name"));
  return TemplatePage(200, {"Register", nullptr, "register", {"passkeys.js"}, ""}, "register", v);
}

// --- GET /account

using projections::PasskeyRow;

Result<std::vector<PasskeyRow>> ReadPasskeys(App& app, const std::string& user_id) {
  auto db = app.db.Acquire();
  if (!db.ok()) return db.status();
  return projections::ListPasskeys(**db, user_id);
}

View NoticeFor(std::string_view code) {
  if (code == "passkey-added") return NoticeView(NoticeKind::kDone, "The passkey was added.");
  if (code == "passkey-removed") return NoticeView(NoticeKind::kDone, "The passkey was removed.");
  if (code == "session-ended") return NoticeView(NoticeKind::kDone, "The session was ended.");
  return Flag(false);
}

// The view of ui/templates/account.mustache.
View AccountView(const Principal& me, const std::vector<PasskeyRow>& passkeys,
                 const std::vector<SessionRow>& sessions, View notice) {
  View v = PageView(&me);
  v.set("notice", std::move(notice));
  Put(v, "ceremony", CeremonyView());
  const bool only_one = passkeys.size() <= 1;
  View keys = ViewList();
  for (const PasskeyRow& k : passkeys) {
    View key = ViewObject();
    key.set("credential_id", k.credential_id);
    Put(key, "credential_id_url", UrlEncode(k.credential_id));
    key.set("name", k.name.empty() ? std::string("Unnamed passkey") : k.name);
    Put(key, "created", TimeView(k.created_at));
    Put(key, "last_used", TimeView(k.last_used_at.value_or("")));
    Put(key, "synced", Text(k.backup_state ? "yes" : "no"));
    Put(key, "only_one", Flag(only_one));
    Append(keys, std::move(key));
  }
  Put(v, "passkeys", std::move(keys));
  View rows = ViewList();
  for (const SessionRow& s : sessions) {
    View row = ViewObject();
    row.set("session_id", s.session_id);
    Put(row, "session_id_url", UrlEncode(s.session_id));
    Put(row, "current", Flag(s.current));
    Put(row, "created", TimeView(s.created_at));
    Put(row, "last_seen", TimeView(s.last_seen_at));
    row.set("address", s.client_address);
    row.set("agent", s.user_agent);
    Append(rows, std::move(row));
  }
  Put(v, "sessions", std::move(rows));
  return v;
}

// The account page; `error` (a sentence) is shown in role="alert" above everything.
Response AccountPage(App& app, Request& req, int status, const std::string& error) {
  const Principal& me = *req.principal;
  auto passkeys = ReadPasskeys(app, me.user_id);
  if (!passkeys.ok()) return ErrorPage(req, passkeys.status());
  auto sessions = app.auth.ListSessions(me.user_id, me.session_id);
  if (!sessions.ok()) return ErrorPage(req, sessions.status());
  View notice =
      error.empty() ? NoticeFor(req.Query("notice")) : NoticeView(NoticeKind::kError, error);
  return TemplatePage(status, {"Your account", &me, "account", {"passkeys.js"}, ""}, "account",
                      AccountView(me, *passkeys, *sessions, std::move(notice)));
}

Response Account(App& app, Request& req) {
  return AccountPage(app, req, 200, "");
}

// --- POST /account/passkeys/{credential_id}/remove, /account/sessions/{session_id}/end

Response RemovePasskeyForm(App& app, Request& req) {
  auto removed = RemovePasskeyAndItsSessions(app, req, req.Param("credential_id"));
  if (!removed.ok()) {
    return AccountPage(app, req, HttpStatusFor(removed.status().code()),
                       removed.status().message());
  }
  if (removed->ended_current) {
    // This very session was signed in with the removed passkey: it has ended.
    return Response::Redirect("/signin?signed_out=1")
        .With("Set-Cookie", SessionCookie("", 0, app.environment != Environment::kDevelopment));
  }
  return Response::Redirect("/account?notice=passkey-removed");
}

Response EndSessionForm(App& app, Request& req) {
  Status s = app.auth.EndSession(req.principal->user_id, req.Param("session_id"),
                                 "ended from the account page");
  if (!s.ok()) return AccountPage(app, req, HttpStatusFor(s.code()), s.message());
  return Response::Redirect("/account?notice=session-ended");
}

// --- GET /static/{file}

Response Static(App&, Request& req) {
  const UiAsset* a = FindUiAsset(req.Param("file"));
  if (a == nullptr) {
    Response r;
    r.status = 404;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "There is no file " + req.Param("file") + " here.\n";
    return r;
  }
  std::string etag = "\"" + std::string(a->sha256.substr(0, 16)) + "\"";
  // A versioned address (?v=hash, as pages write it) never changes content: cache it for good.
  bool versioned = req.Query("v") == a->sha256.substr(0, 12);
  std::string cache = versioned ? "public, max-age=31536000, immutable" : "no-cache";
  if (req.Header("If-None-Match") == etag) {
    Response r;
    r.status = 304;
    r.content_type.clear();
    return r.With("ETag", etag).With("Cache-Control", cache);
  }
  Response r;
  r.status = 200;
  r.content_type = std::string(a->content_type);
  r.body = std::string(a->body);
  return r.With("ETag", etag).With("Cache-Control", cache);
}

}  // namespace

void AddUiRoutes(Router& router, App& app) {
  router.Add(AppRoute("GET", "/signin", Access::Public(), "The sign-in page", SignIn, app));
  router.Add(
      AppRoute("GET", "/register", Access::Public(), "The registration page", Register, app));
  router.Add(AppRoute("GET", "/account", Access::SignedIn().BrowserSessionOnly(),
                      "The account page: passkeys and open sessions", Account, app));
  router.Add(AppRoute("POST", "/account/passkeys/{credential_id}/remove",
                      Access::SignedIn().BrowserSessionOnly(),
                      "Remove a passkey (form; never the last)", RemovePasskeyForm, app));
  router.Add(AppRoute("POST", "/account/sessions/{session_id}/end",
                      Access::SignedIn().BrowserSessionOnly(),
                      "End one of your other sessions (form)", EndSessionForm, app));
  AddOrgPages(router, app);
  AddVmPages(router, app);
  router.Add(AppRoute("GET", "/static/{file}", Access::Public(),
                      "The pages' scripts and style sheets (embedded in the binary)", Static, app));
}

}  // namespace strato::http
