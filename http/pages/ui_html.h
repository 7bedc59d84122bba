// The pages' shared HTML: the layout (head with the style sheet and scripts from the embedded
// assets, a header naming the signed-in user with a sign-out form, the main element), notices
// (errors in role="alert", confirmations in role="status", each labelled in words, never by
// colour alone) and small helpers. Every value that reaches HTML goes through HtmlEscape here or
// in the caller; functions taking `*_html` take markup the caller already built safely.
//
// Pure functions: call them from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/server/request.h"

namespace strato::http {

struct Page {
  std::string title;                     // "Sign in": shown as "Sign in · Strato"
  const Principal* principal = nullptr;  // the signed-in user, or null
  std::string current;                   // nav entry marked current: home, vms, orgs, account
  std::vector<std::string> scripts;      // embedded asset names ("passkeys.js"), loaded deferred
  std::string main_html;                 // the content of <main>, already escaped
};

// The whole document. The CSRF token of a signed-in page is in <meta name="csrf-token"> for
// scripts, and in the sign-out form's hidden field.
std::string RenderPage(const Page& page);
Response PageResponse(int status, const Page& page);

enum class NoticeKind { kError, kDone, kInfo };
// <p class="notice ..." role="alert|status"><strong>Error:</strong> sentence</p>. The sentence
// is escaped. An empty sentence gives the element empty (a live region scripts fill later).
std::string NoticeHtml(NoticeKind kind, std::string_view sentence, std::string_view id = "");

// The hidden CSRF field for a form posted with the session cookie.
std::string CsrfFieldHtml(const Principal& principal);

// A "next" address is followed only when it is a path on this site ("/account"), never another
// site ("//evil.example", "https://...") or anything odd; otherwise "/".
std::string SafeNext(std::string_view next);

// "2026-11-27T10:31:02Z" → <time datetime="...">2026-11-27 10:31 UTC</time>; empty → the
// escaped `missing` text.
std::string TimeHtml(std::string_view rfc3339, std::string_view missing = "never");

}  // namespace strato::http
