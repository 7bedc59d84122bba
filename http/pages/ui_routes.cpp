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
  Page page;
  page.title = "Something went wrong";
  page.principal = req.principal ? &*req.principal : nullptr;
  page.main_html = "<h1>Something went wrong</h1>" + NoticeHtml(NoticeKind::kError, s.message()) +
                   "<p><a href=\"/\">Back to the start page</a></p>";
  return PageResponse(HttpStatusFor(s.code()), page);
}

// The empty notices passkeys.js fills in: errors (alert) and progress (status).
std::string CeremonyNotices() {
  return NoticeHtml(NoticeKind::kError, "", "ceremony-error") +
         NoticeHtml(NoticeKind::kInfo, "", "ceremony-status");
}

std::string NoScriptNote() {
  return "<noscript>" +
         NoticeHtml(NoticeKind::kInfo,
                    "Passkeys need JavaScript: allow scripts from this site to continue.") +
         "</noscript>";
}

// --- GET /signin

Response SignIn(App&, Request& req) {
  std::string next = SafeNext(req.Query("next"));
  if (req.principal) return Response::Redirect(next);
  Page page;
  page.title = "Sign in";
  page.current = "signin";
  page.scripts = {"passkeys.js"};
  std::string h = "<h1>Sign in</h1>\n";
  if (req.Query("signed_out") == "1") h += NoticeHtml(NoticeKind::kDone, "You are signed out.");
  h += NoScriptNote() + CeremonyNotices();
  h += "<form id=\"signin-form\" class=\"card\" method=\"get\" action=\"/signin\" "
       "data-ceremony=\"signin\" data-next=\"" +
       HtmlEscape(next) + "\">\n";
  if (next != "/") h += "<input type=\"hidden\" name=\"next\" value=\"" + HtmlEscape(next) + "\">";
  h += "<label for=\"username\">Username</label>\n"
       "<input id=\"username\" name=\"username\" autocomplete=\"username webauthn\" "
       "autocapitalize=\"none\" spellcheck=\"false\" required maxlength=\"32\" value=\"" +
       HtmlEscape(req.Query("username")) +
       "\">\n<button type=\"submit\">Sign in with a passkey</button>\n</form>\n";
  h += "<div class=\"card\">\n<p>Your passkey may already know who you are:</p>\n"
       "<button type=\"button\" id=\"signin-discoverable\" data-ceremony=\"signin-discoverable\" "
       "data-next=\"" +
       HtmlEscape(next) +
       "\">Use a passkey without typing a name</button>\n</div>\n"
       "<p>No account yet? <a href=\"/register\">Register</a>.</p>";
  page.main_html = std::move(h);
  return PageResponse(200, page);
}

// --- GET /register

Response Register(App&, Request& req) {
  if (req.principal) return Response::Redirect("/account");
  Page page;
  page.title = "Register";
  page.current = "register";
  page.scripts = {"passkeys.js"};
  std::string h = "<h1>Create an account</h1>\n" + NoScriptNote() + CeremonyNotices();
  h += "<form id=\"register-form\" class=\"card\" method=\"get\" action=\"/register\" "
       "data-ceremony=\"register\" data-next=\"/\">\n"
       "<label for=\"username\">Username</label>\n"
       "<input id=\"username\" name=\"username\" autocomplete=\"username\" autocapitalize=\"none\" "
       "spellcheck=\"false\" required minlength=\"3\" maxlength=\"32\" "
       "pattern=\"[a-z][a-z0-9_\\-]{2,31}\" aria-describedby=\"username-hint\" value=\"" +
       HtmlEscape(req.Query("username")) +
       "\">\n<p class=\"hint\" id=\"username-hint\">3 to 32 characters: lowercase letters, "
       "digits, - and _, starting with a letter.</p>\n"
       "<label for=\"display-name\">Display name <span class=\"optional\">(optional)</span>"
       "</label>\n<input id=\"display-name\" name=\"display_name\" autocomplete=\"name\" "
       "maxlength=\"64\" value=\"" +
       HtmlEscape(req.Query("display_name")) +
       "\">\n<label for=\"passkey-name\">Name for this passkey <span "
       "class=\"optional\">(optional)</span></label>\n"
       "<input id=\"passkey-name\" name=\"passkey_name\" maxlength=\"64\" "
       "placeholder=\"e.g. Work laptop\">\n"
       "<button type=\"submit\">Create account with a passkey</button>\n</form>\n"
       "<p>Already registered? <a href=\"/signin\">Sign in</a>.</p>";
  page.main_html = std::move(h);
  return PageResponse(200, page);
}

// --- GET /account

using projections::PasskeyRow;

Result<std::vector<PasskeyRow>> ReadPasskeys(App& app, const std::string& user_id) {
  auto db = app.db.Acquire();
  if (!db.ok()) return db.status();
  return projections::ListPasskeys(**db, user_id);
}

std::string NoticeFor(std::string_view code) {
  if (code == "passkey-added") return NoticeHtml(NoticeKind::kDone, "The passkey was added.");
  if (code == "passkey-removed") return NoticeHtml(NoticeKind::kDone, "The passkey was removed.");
  if (code == "session-ended") return NoticeHtml(NoticeKind::kDone, "The session was ended.");
  return "";
}

// The account page; `error` (a sentence) is shown in role="alert" above everything.
Response AccountPage(App& app, Request& req, int status, const std::string& error) {
  const Principal& me = *req.principal;
  auto passkeys = ReadPasskeys(app, me.user_id);
  if (!passkeys.ok()) return ErrorPage(req, passkeys.status());
  auto sessions = app.auth.ListSessions(me.user_id, me.session_id);
  if (!sessions.ok()) return ErrorPage(req, sessions.status());

  Page page;
  page.title = "Your account";
  page.principal = &me;
  page.current = "account";
  page.scripts = {"passkeys.js"};
  std::string h = "<h1>Your account</h1>\n";
  h += error.empty() ? NoticeFor(req.Query("notice")) : NoticeHtml(NoticeKind::kError, error);

  h += "<section aria-labelledby=\"passkeys-heading\">\n<h2 id=\"passkeys-heading\">Passkeys</h2>\n"
       "<table class=\"list\" id=\"passkeys\">\n<thead><tr><th scope=\"col\">Name</th>"
       "<th scope=\"col\">Added</th><th scope=\"col\">Last used</th><th scope=\"col\">Synced"
       "</th><th scope=\"col\"><span class=\"sr-only\">Actions</span></th></tr></thead>\n<tbody>\n";
  const bool only_one = passkeys->size() <= 1;
  for (const PasskeyRow& k : *passkeys) {
    std::string name = k.name.empty() ? "Unnamed passkey" : k.name;
    h += "<tr data-credential-id=\"" + HtmlEscape(k.credential_id) + "\"><th scope=\"row\">" +
         HtmlEscape(name) + "</th><td>" + TimeHtml(k.created_at) + "</td><td>" +
         TimeHtml(k.last_used_at.value_or("")) + "</td><td>" + (k.backup_state ? "yes" : "no") +
         "</td><td>";
    if (only_one) {
      h += "<span class=\"hint\">Your only passkey: add another before removing it.</span>";
    } else {
      h += "<form method=\"post\" action=\"/account/passkeys/" +
           HtmlEscape(UrlEncode(k.credential_id)) + "/remove\" class=\"inline\">" +
           CsrfFieldHtml(me) + "<button type=\"submit\" class=\"danger\" aria-label=\"Remove " +
           HtmlEscape(name) + "\">Remove</button></form>";
    }
    h += "</td></tr>\n";
  }
  h += "</tbody>\n</table>\n";
  h += "<h3>Add a passkey</h3>\n" + NoScriptNote() + CeremonyNotices();
  h += "<form id=\"add-passkey-form\" class=\"card\" data-ceremony=\"add-passkey\" "
       "data-next=\"/account?notice=passkey-added\">\n"
       "<label for=\"passkey-name\">Name for the new passkey <span class=\"optional\">(optional)"
       "</span></label>\n<input id=\"passkey-name\" name=\"passkey_name\" maxlength=\"64\" "
       "placeholder=\"e.g. Phone\">\n<button type=\"submit\">Add a passkey</button>\n</form>\n"
       "</section>\n";

  h += "<section aria-labelledby=\"sessions-heading\">\n<h2 id=\"sessions-heading\">Open "
       "sessions</h2>\n<table class=\"list\" id=\"sessions\">\n<thead><tr><th "
       "scope=\"col\">Started</th><th scope=\"col\">Last active</th><th scope=\"col\">Address</th>"
       "<th scope=\"col\">Browser</th><th scope=\"col\"><span class=\"sr-only\">Actions</span>"
       "</th></tr></thead>\n<tbody>\n";
  for (const SessionRow& s : *sessions) {
    h += "<tr data-session-id=\"" + HtmlEscape(s.session_id) + "\"" +
         (s.current ? " data-current=\"true\"" : "") + "><td>" + TimeHtml(s.created_at) +
         "</td><td>" + TimeHtml(s.last_seen_at) + "</td><td>" + HtmlEscape(s.client_address) +
         "</td><td class=\"agent\">" + HtmlEscape(s.user_agent) + "</td><td>";
    if (s.current) {
      h += "<strong>This session</strong>";
    } else {
      h += "<form method=\"post\" action=\"/account/sessions/" +
           HtmlEscape(UrlEncode(s.session_id)) + "/end\" class=\"inline\">" + CsrfFieldHtml(me) +
           "<button type=\"submit\">End</button></form>";
    }
    h += "</td></tr>\n";
  }
  h += "</tbody>\n</table>\n</section>\n";
  h += "<section aria-labelledby=\"signout-heading\">\n<h2 id=\"signout-heading\">Sign out</h2>\n"
       "<form method=\"post\" action=\"/auth/logout\">" +
       CsrfFieldHtml(me) +
       "<button type=\"submit\">Sign out of this browser</button></form>\n</section>";
  page.main_html = std::move(h);
  return PageResponse(status, page);
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
