#include "http/pages/ui_html.h"

#include "http/pages/ui_assets.h"

namespace strato::http {

std::string AssetRef(std::string_view name) {
  return UiAssetUrl(name).substr(std::string_view("/static/").size());
}

View PageView(const Principal* principal) {
  View v = ViewObject();
  Put(v, "csrf_token", Text(principal != nullptr ? principal->csrf_token : ""));
  return v;
}

std::string RenderPage(const Page& page) {
  View v = PageView(page.principal);
  Put(v, "title", Text(page.title));
  Put(v, "app_css", AssetRef("app.css"));
  Put(v, "htmx_js", AssetRef("htmx.min.js"));
  Put(v, "live_js", AssetRef("live.js"));
  const bool signed_in = page.principal != nullptr;
  Put(v, "signed_in", Flag(signed_in));
  Put(v, "csrf_meta", Flag(signed_in && !page.principal->csrf_token.empty()));
  Put(v, "live_after", Number(signed_in ? page.principal->live_after : 0));
  Put(v, "username", Text(signed_in ? page.principal->username : ""));
  View scripts = ViewList();
  for (const std::string& s : page.scripts) {
    View script = ViewObject();
    Put(script, "src", AssetRef(s));
    Append(scripts, std::move(script));
  }
  Put(v, "scripts", std::move(scripts));
  for (const char* key :
       {"home", "vms", "orgs", "hosts", "audit", "account", "signin", "register"}) {
    v.set(std::string("nav_") + key, Flag(page.current == key));
  }
  Put(v, "main", Text(page.main_html));
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
  Put(v, "kind",
      Text(kind == NoticeKind::kError  ? "error"
           : kind == NoticeKind::kDone ? "done"
                                       : "info"));
  Put(v, "role", Text(kind == NoticeKind::kError ? "alert" : "status"));
  Put(v, "label",
      Text(kind == NoticeKind::kError  ? "Error:"
           : kind == NoticeKind::kDone ? "Done:"
                                       : "Note:"));
  Put(v, "sentence", Maybe(sentence));
  Put(v, "id", Maybe(id));
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
  Put(v, "error", NoticeView(NoticeKind::kError, "", "ceremony-error"));
  Put(v, "status", NoticeView(NoticeKind::kInfo, "", "ceremony-status"));
  return v;
}

Response ErrorPageResponse(const Request& req, int status, std::string_view heading,
                           std::string_view sentence, std::string_view back) {
  const Principal* me = req.principal ? &*req.principal : nullptr;
  View v = PageView(me);
  Put(v, "heading", Text(heading));
  Put(v, "notice", NoticeView(NoticeKind::kError, sentence));
  Put(v, "back", Text(back));
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
  Put(v, "datetime", Text(t));
  Put(v, "shown", std::move(shown));
  return v;
}

std::string TimeHtml(std::string_view t, std::string_view missing) {
  if (t.empty()) return HtmlEscape(missing);
  return Render("_time", TimeView(t));
}

View OptionView(std::string_view value, std::string_view label, bool selected) {
  View v = ViewObject();
  Put(v, "value", Text(value));
  Put(v, "label", Text(label));
  Put(v, "selected", Flag(selected));
  return v;
}

View FieldErrorView(std::string_view id, std::string_view sentence) {
  if (sentence.empty()) return Flag(false);
  View v = ViewObject();
  Put(v, "id", Text(id));
  Put(v, "sentence", Text(sentence));
  return v;
}

View LiveView(std::string_view id, std::string_view url, std::initializer_list<std::string> streams,
              std::string_view oob) {
  std::string trigger;
  for (const std::string& s : streams) trigger += "live-" + s + " from:body, ";
  trigger += "live-reset from:body";
  View v = ViewObject();
  Put(v, "id", Text(id));
  Put(v, "href", Text(url));
  Put(v, "trigger", std::move(trigger));
  Put(v, "oob", Maybe(oob));
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
