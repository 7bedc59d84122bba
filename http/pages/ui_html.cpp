#include "http/pages/ui_html.h"

#include "http/pages/ui_assets.h"

namespace strato::http {

namespace {

std::string NavLink(const Page& page, std::string_view key, std::string_view href,
                    std::string_view label) {
  std::string a = "<a href=\"" + HtmlEscape(href) + "\"";
  if (page.current == key) a += " aria-current=\"page\"";
  return a + ">" + HtmlEscape(label) + "</a>";
}

}  // namespace

std::string RenderPage(const Page& page) {
  std::string h;
  h.reserve(page.main_html.size() + 2048);
  h += "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += "<title>" + HtmlEscape(page.title) + " · Strato</title>\n";
  h += "<link rel=\"stylesheet\" href=\"" + HtmlEscape(UiAssetUrl("app.css")) + "\">\n";
  if (page.principal != nullptr && !page.principal->csrf_token.empty()) {
    h += "<meta name=\"csrf-token\" content=\"" + HtmlEscape(page.principal->csrf_token) + "\">\n";
  }
  // htmx on every page, before the page's own scripts (deferred scripts run in order). The CSP
  // (default-src 'self') forbids what htmx would otherwise do: inject its indicator <style>,
  // eval hx-on and trigger filters, run <script> elements of swapped content. No history
  // snapshots in localStorage: they would keep a signed-in page after signing out.
  h += "<meta name=\"htmx-config\" content='{\"includeIndicatorStyles\":false,"
       "\"allowEval\":false,\"allowScriptTags\":false,\"selfRequestsOnly\":true,"
       "\"historyCacheSize\":0,\"refreshOnHistoryMiss\":true}'>\n";
  h += "<script src=\"" + HtmlEscape(UiAssetUrl("htmx.min.js")) + "\" defer></script>\n";
  // Live updates: one stream per tab, opened here in the layout (never by swapped content).
  if (page.principal != nullptr) {
    h += "<meta name=\"live-after\" content=\"" + std::to_string(page.principal->live_after) +
         "\">\n<script src=\"" + HtmlEscape(UiAssetUrl("live.js")) + "\" defer></script>\n";
  }
  for (const std::string& s : page.scripts) {
    h += "<script src=\"" + HtmlEscape(UiAssetUrl(s)) + "\" defer></script>\n";
  }
  h += "</head>\n<body>\n<a class=\"skip\" href=\"#main\">Skip to the content</a>\n";
  h += "<header class=\"top\">\n<a class=\"brand\" href=\"/\">Strato</a>\n";
  if (page.principal != nullptr) {
    h += "<nav aria-label=\"Main\">" + NavLink(page, "home", "/", "Dashboard") +
         NavLink(page, "vms", "/vms", "VMs") + NavLink(page, "orgs", "/orgs", "Organizations") +
         NavLink(page, "hosts", "/hosts", "Hosts") + NavLink(page, "audit", "/audit", "Audit log") +
         NavLink(page, "account", "/account", "Account") + "</nav>\n";
    h += "<div class=\"who\"><span id=\"live-status\" class=\"live-status\"></span><span>Signed in "
         "as <strong data-testid=\"signed-in-user\">" +
         HtmlEscape(page.principal->username) + "</strong></span>";
    h += "<form method=\"post\" action=\"/auth/logout\" class=\"inline\">" +
         CsrfFieldHtml(*page.principal) +
         "<button type=\"submit\" class=\"link\">Sign out</button></form></div>\n";
  } else {
    h += "<nav aria-label=\"Main\">" + NavLink(page, "signin", "/signin", "Sign in") +
         NavLink(page, "register", "/register", "Register") + "</nav>\n";
  }
  h += "</header>\n<main id=\"main\">\n";
  h += page.main_html;
  h += "\n</main>\n</body>\n</html>\n";
  return h;
}

Response PageResponse(int status, const Page& page) {
  return Response::Html(status, RenderPage(page));
}

std::string NoticeHtml(NoticeKind kind, std::string_view sentence, std::string_view id) {
  const char* cls = kind == NoticeKind::kError  ? "notice error"
                    : kind == NoticeKind::kDone ? "notice done"
                                                : "notice info";
  const char* role = kind == NoticeKind::kError ? "alert" : "status";
  const char* label = kind == NoticeKind::kError  ? "Error:"
                      : kind == NoticeKind::kDone ? "Done:"
                                                  : "Note:";
  std::string h = "<p class=\"" + std::string(cls) + "\" role=\"" + role + "\"";
  if (!id.empty()) h += " id=\"" + HtmlEscape(id) + "\"";
  // Empty: a live region scripts fill later; it must exist (rendered, not hidden) beforehand
  // so screen readers announce what is put into it.
  if (sentence.empty()) return h + "></p>";
  return h + "><strong>" + label + "</strong> <span>" + HtmlEscape(sentence) + "</span></p>";
}

std::string CsrfFieldHtml(const Principal& principal) {
  return "<input type=\"hidden\" name=\"csrf_token\" value=\"" + HtmlEscape(principal.csrf_token) +
         "\">";
}

std::string SafeNext(std::string_view next) {
  if (next.empty() || next.size() > 512 || next[0] != '/') return "/";
  if (next.size() > 1 && (next[1] == '/' || next[1] == '\\')) return "/";
  for (char c : next) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '\\') return "/";
  }
  return std::string(next);
}

std::string TimeHtml(std::string_view t, std::string_view missing) {
  if (t.empty()) return HtmlEscape(missing);
  std::string shown(t);
  // "YYYY-MM-DDTHH:MM:SS..." → "YYYY-MM-DD HH:MM UTC"
  if (shown.size() >= 16 && shown[10] == 'T')
    shown = shown.substr(0, 10) + " " + shown.substr(11, 5) + " UTC";
  return "<time datetime=\"" + HtmlEscape(t) + "\">" + HtmlEscape(shown) + "</time>";
}

}  // namespace strato::http
