#include "http/app/ui_support.h"

#include "http/pages/ui_html.h"

namespace strato::http {

Response UiErrorPage(const Request& req, const Status& s, std::string_view title) {
  int status = HttpStatusFor(s.code());
  std::string heading = !title.empty()      ? std::string(title)
                        : status == 403     ? "Not allowed"
                        : status == 404     ? "Not found"
                        : status / 100 == 4 ? "That did not work"
                                            : "Something went wrong";
  Page page;
  page.title = heading;
  page.principal = req.principal ? &*req.principal : nullptr;
  page.main_html = "<h1>" + HtmlEscape(heading) + "</h1>" +
                   NoticeHtml(NoticeKind::kError, s.message()) +
                   "<p><a href=\"/\">Back to the dashboard</a></p>";
  return PageResponse(status, page);
}

std::string ObservedStateWords(std::string_view observed, std::string_view placement_failure) {
  if (observed == "pending") {
    if (!placement_failure.empty())
      return "pending — no host can take it: " + std::string(placement_failure);
    return "pending — not placed on a host yet";
  }
  if (observed == "scheduled") return "scheduled — waiting for its host to report";
  if (observed == "unknown") return "unknown — host unreachable";
  if (observed == "crashed") return "crashed";
  if (observed == "failed") return "failed";
  return std::string(observed);
}

std::string VmNameHtml(std::string_view name) {
  return "VM <strong>" + HtmlEscape(name) + "</strong>";
}

std::string OptionHtml(std::string_view value, std::string_view label, bool selected) {
  return "<option value=\"" + HtmlEscape(value) + "\"" + (selected ? " selected" : "") + ">" +
         HtmlEscape(label) + "</option>";
}

std::string FieldErrorHtml(std::string_view id, std::string_view sentence) {
  if (sentence.empty()) return "";
  return "<p class=\"field-error\" id=\"" + HtmlEscape(id) + "\"><strong>Error:</strong> " +
         HtmlEscape(sentence) + "</p>";
}

std::string LiveRegionStart(std::string_view id, std::string_view url,
                            std::initializer_list<std::string> streams,
                            std::string_view extra_attributes) {
  const std::string i = HtmlEscape(id);
  std::string h = "<div id=\"" + i + "\" hx-get=\"" + HtmlEscape(url) + "\" hx-select=\"#" + i +
                  "-body\" hx-swap=\"innerHTML\" hx-trigger=\"" + LiveTrigger(streams) + "\"";
  if (!extra_attributes.empty()) h += " " + std::string(extra_attributes);
  return h + ">\n<div id=\"" + i + "-body\">\n";
}

std::string LiveRegionEnd() {
  return "</div>\n</div>\n";
}

std::string LiveTrigger(std::initializer_list<std::string> streams) {
  std::string t;
  for (const std::string& s : streams) t += "live-" + s + " from:body, ";
  return t + "live-reset from:body";
}

}  // namespace strato::http
