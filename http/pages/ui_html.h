// The pages' shared parts: the layout (ui/templates/layout.mustache: head with the style sheet
// and scripts from the embedded assets, a header naming the signed-in user with a sign-out form,
// the main element), notices (errors in role="alert", confirmations in role="status", each
// labelled in words, never by colour alone), and the small views the templates' partials show
// (ui/templates/_*.mustache): a notice, a time, an option, a field's error, a live region, the
// passkey ceremonies' notices; and the error page (error.mustache) every page answers a failure
// with. Everything is rendered through templates (http/pages/render.h), which escape every value.
//
// Pure functions: call them from any thread.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "http/pages/render.h"
#include "http/server/request.h"

namespace strato::http {

struct Page {
  std::string title;                     // "Sign in": shown as "Sign in · Strato"
  const Principal* principal = nullptr;  // the signed-in user, or null
  std::string current;                   // nav entry marked current: home, vms, orgs, account
  std::vector<std::string> scripts;      // embedded asset names ("passkeys.js"), loaded deferred
  std::string main_html;                 // the content of <main>: a template's output
};

// The whole document. The CSRF token of a signed-in page is in <meta name="csrf-token"> for
// scripts, and in the sign-out form's hidden field.
std::string RenderPage(const Page& page);
Response PageResponse(int status, const Page& page);

// A page's own template rendered into the layout: main_html = Render(template_name, view).
Response TemplatePage(int status, Page page, std::string_view template_name, const View& view);

// The view every page template starts from: csrf_token (for {{> _csrf}}) of the signed-in user.
View PageView(const Principal* principal);

enum class NoticeKind { kError, kDone, kInfo };
// The view of {{> _notice}}: <p class="notice ..." role="alert|status"><strong>Error:</strong>
// sentence</p>. An empty sentence gives the element empty (a live region scripts fill later).
View NoticeView(NoticeKind kind, std::string_view sentence, std::string_view id = "");
// The same notice as HTML ({{> _notice}} rendered alone).
std::string NoticeHtml(NoticeKind kind, std::string_view sentence, std::string_view id = "");

// The view of {{> _ceremony}}: the note for browsers without scripts and the empty notices
// ui/static/passkeys.js fills in (#ceremony-error in role="alert", #ceremony-status).
View CeremonyView();

// A page saying what went wrong (ui/templates/error.mustache): `heading`, the sentence in
// role="alert", a link back to / saying `back`.
Response ErrorPageResponse(const Request& req, int status, std::string_view heading,
                           std::string_view sentence, std::string_view back);

// The error page of the pages for a failure a handler met: "Not allowed", "Not found", "That
// did not work" or "Something went wrong" (or `title`), with the status for the Status's code.
Response UiErrorPage(const Request& req, const Status& s, std::string_view title = "");

// The view of {{> _time}} for "2026-11-27T10:31:02Z" (shown "2026-11-27 10:31 UTC"); false when
// empty, so a template says what stands instead ({{^t}}never{{/t}}).
View TimeView(std::string_view rfc3339);
// The same as HTML; empty → the escaped `missing` text.
std::string TimeHtml(std::string_view rfc3339, std::string_view missing = "never");

// The view of {{> _option}}.
View OptionView(std::string_view value, std::string_view label, bool selected);

// The view of {{> _field_error}}: the message beside a form field; false when there is none.
View FieldErrorView(std::string_view id, std::string_view sentence);

// The view of {{> _live_open}}: a region of a page that refreshes itself on live updates, the
// events ui/static/live.js dispatches on <body> for each named stream kind or stream ("vm",
// "org", "vm-<id>"), and after a reconnect that missed events ("live-reset"). It re-fetches
// `url` (a path on this site) and swaps in the answer's <div id="<id>-body">; `oob` is an
// hx-select-oob value, or "".
View LiveView(std::string_view id, std::string_view url, std::initializer_list<std::string> streams,
              std::string_view oob = "");

// A "next" address is followed only when it is a path on this site ("/account"), never another
// site ("//evil.example", "https://...") or anything odd; otherwise "/".
std::string SafeNext(std::string_view next);

// "app.css?v=<hash>": an embedded asset's address below /static/ (the templates write the
// "/static/" themselves).
std::string AssetRef(std::string_view name);

}  // namespace strato::http
