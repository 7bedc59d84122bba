#include "http/pages/ui_html.h"

#include "http/pages/ui_assets.h"

namespace strato::http {

std::string AssetRef(std::string_view name) {
  return UiAssetUrl(name).substr(std::string_view("/static/").size());
}

View PageView(const Principal* principal) {
  View v = ViewObject();
  v.set("csrf_token", Text(principal != nullptr ? principal->csrf_token : ""));
  return v;
}

std::string RenderPage(const Page& page) {
  View v = PageView(page.principal);
  v.set("title", Text(page.title));
  v.set("app_css", AssetRef("app.css"));
  v.set("htmx_js", AssetRef("htmx.min.js"));
  v.set("live_js", AssetRef("live.js"));
  const bool signed_in = page.principal != nullptr;
  v.set("signed_in", Flag(signed_in));
  v.set("csrf_meta", Flag(signed_in && !page.principal->csrf_token.empty()));
  v.set("live_after", Number(signed_in ? page.principal->live_after : 0));
  v.set("username", Text(signed_in ? page.principal->username : ""));
  View scripts = ViewList();
  for (const std::string& s : page.scripts) {
    View script = ViewObject();
    script.set("src", AssetRef(s));
    scripts.push_back(script);
  }
  v.set("scripts", scripts);
  for (const char* key :
       {"home", "vms", "orgs", "hosts", "audit", "account", "signin", "register"}) {
    v.set(std::string("nav_") + key, Flag(page.current == key));
  }
  v.set("main", Text(page.main_html));
  return Render("layout", v) + "\n";
}

Response PageResponse(int status, const Page& page) {
  return Response::Html(status, RenderPage(page));
}

Response TemplatePage(int status, Page page, std::string_view template_name, const View& view) {
  page.main_html = Render(template_name, view);
  return PageResponse(status, page);
}

View NoticeView(NoticeKind kind, std::string_view sentence, std::string_view id) {
  View v = ViewObject();
  v.set("kind", Text(kind == NoticeKind::kError  ? "error"
                     : kind == NoticeKind::kDone ? "done"
                                                 : "info"));
  v.set("role", Text(kind == NoticeKind::kError ? "alert" : "status"));
  v.set("label", Text(kind == NoticeKind::kError  ? "Error:"
                      : kind == NoticeKind::kDone ? "Done:"
                                                  : "Note:"));
  v.set("sentence", Maybe(sentence));
  v.set("id", Maybe(id));
  return v;
}

std::string NoticeHtml(NoticeKind kind, std::string_view sentence, std::string_view id) {
  return Render("_notice", NoticeView(kind, sentence, id));
}

View CeremonyView() {
  View v = ViewObject();
  v.set("noscript",
        NoticeView(NoticeKind::kInfo,
                   "Passkeys need JavaScript: allow scripts from this site to continue."));
  v.set("error", NoticeView(NoticeKind::kError, "", "ceremony-error"));
  v.set("status", NoticeView(NoticeKind::kInfo, "", "ceremony-status"));
  return v;
}

Response ErrorPageResponse(const Request& req, int status, std::string_view heading,
                           std::string_view sentence, std::string_view back) {
  const Principal* me = req.principal ? &*req.principal : nullptr;
  View v = PageView(me);
  v.set("heading", Text(heading));
  v.set("notice", NoticeView(NoticeKind::kError, sentence));
  v.set("back", Text(back));
  return TemplatePage(status, {std::string(heading), me, "", {}, ""}, "error", v);
}

Response UiErrorPage(const Request& req, const Status& s, std::string_view title) {
  const int status = HttpStatusFor(s.code());
  std::string heading = !title.empty()      ? std::string(title)
                        : status == 403     ? "Not allowed"
                        : status == 404     ? "Not found"
                        : status / 100 == 4 ? "That did not work"
                                            : "Something went wrong";
  return ErrorPageResponse(req, status, heading, s.message(), "Back to the dashboard");
}

View TimeView(std::string_view t) {
  if (t.empty()) return Flag(false);
  std::string shown(t);
  // "YYYY-MM-DDTHH:MM:SS..." → "YYYY-MM-DD HH:MM UTC"
  if (shown.size() >= 16 && shown[10] == 'T')
    shown = shown.substr(0, 10) + " " + shown.substr(11, 5) + " UTC";
  View v = ViewObject();
  v.set("datetime", Text(t));
  v.set("shown", shown);
  return v;
}

std::string TimeHtml(std::string_view t, std::string_view missing) {
  if (t.empty()) return HtmlEscape(missing);
  return Render("_time", TimeView(t));
}

View OptionView(std::string_view value, std::string_view label, bool selected) {
  View v = ViewObject();
  v.set("value", Text(value));
  v.set("label", Text(label));
  v.set("selected", Flag(selected));
  return v;
}

View FieldErrorView(std::string_view id, std::string_view sentence) {
  if (sentence.empty()) return Flag(false);
  View v = ViewObject();
  v.set("id", Text(id));
  v.set("sentence", Text(sentence));
  return v;
}

View LiveView(std::string_view id, std::string_view url, std::initializer_list<std::string> streams,
              std::string_view oob) {
  std::string trigger;
  for (const std::string& s : streams) trigger += "live-" + s + " from:body, ";
  trigger += "live-reset from:body";
  View v = ViewObject();
  v.set("id", Text(id));
  v.set("href", Text(url));
  v.set("trigger", trigger);
  v.set("oob", Maybe(oob));
  return v;
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

}  // namespace strato::http
