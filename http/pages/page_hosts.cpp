#include "http/pages/page_hosts.h"

#include <string>
#include <vector>

#include "core/domain/host.h"
#include "core/domain/platform.h"
#include "core/log.h"
#include "http/api/api_hosts.h"
#include "http/app/ui_support.h"
#include "http/pages/ui_html.h"

namespace strato::http {

namespace {

// The most characters a cordon reason may have (the Host aggregate's limit).
constexpr int kMaxReasonChars = 500;

// A form's error, shown beside the reason field of one host.
struct FormError {
  std::string host_id;
  std::string reason;    // what was typed, shown again
  std::string sentence;  // why it was refused
};

std::string Percent(int64_t part, int64_t total) {
  if (total <= 0) return "0%";
  return std::to_string((part * 100 + total / 2) / total) + "%";
}

std::string HostFormsHtml(const Principal& me, const HostRow& h, const FormError* error) {
  const std::string base = "/hosts/" + UrlEncode(h.id);
  if (h.cordoned) {
    return "<form method=\"post\" action=\"" + HtmlEscape(base + "/uncordon") +
           "\" class=\"inline\">" + CsrfFieldHtml(me) + "<button type=\"submit\" aria-label=\"" +
           HtmlEscape("Uncordon host " + h.name) + "\">Uncordon</button></form>\n";
  }
  const std::string field = "reason-" + h.id;
  const bool failed = error != nullptr && error->host_id == h.id;
  // Kept as it is when the list refreshes live (hx-preserve): a half-typed reason survives.
  std::string out =
      "<form method=\"post\" action=\"" + HtmlEscape(base + "/cordon") +
      "\" class=\"cordon\" id=\"" + HtmlEscape("cordon-" + h.id) + "\" hx-preserve=\"true\">" +
      CsrfFieldHtml(me) + "<label for=\"" + HtmlEscape(field) + "\">Reason for cordoning " +
      HtmlEscape(h.name) + " <span class=\"optional\">(optional)</span></label>\n<input id=\"" +
      HtmlEscape(field) + "\" name=\"reason\" maxlength=\"" + std::to_string(kMaxReasonChars) +
      "\" value=\"" + HtmlEscape(failed ? error->reason : "") + "\"";
  if (failed) out += " aria-invalid=\"true\" aria-describedby=\"" + HtmlEscape(field) + "-error\"";
  out += ">\n";
  if (failed) out += FieldErrorHtml(field + "-error", error->sentence);
  out += "<button type=\"submit\" aria-label=\"" + HtmlEscape("Cordon host " + h.name) +
         "\">Cordon</button>\n<p class=\"hint\">A cordoned host keeps its VMs but takes no new "
         "ones.</p></form>\n";
  return out;
}

std::string HostHtml(const App& app, const Principal& me, const HostRow& h,
                     const FormError* error) {
  const std::string id = "host-" + h.id;
  std::string out = "<article class=\"card host\" id=\"" + HtmlEscape(id) + "\" data-host-id=\"" +
                    HtmlEscape(h.id) + "\" aria-labelledby=\"" + HtmlEscape(id) +
                    "-name\">\n<h2 id=\"" + HtmlEscape(id) + "-name\">" + HtmlEscape(h.name) +
                    "</h2>\n<dl class=\"facts\">\n<dt>Reachability</dt><dd class=\"reachability\">";
  out += h.reachable ? std::string("reachable")
                     : "unreachable" + (h.unreachable_reason.empty()
                                            ? std::string()
                                            : ": " + HtmlEscape(h.unreachable_reason));
  out += "</dd>\n<dt>New VMs</dt><dd class=\"cordon\">";
  out += h.cordoned ? "cordoned, takes no new VMs" +
                          (h.cordon_reason.empty() ? std::string(" (no reason given)")
                                                   : " — reason: " + HtmlEscape(h.cordon_reason))
                    : std::string("takes new VMs");
  out += "</dd>\n<dt>VMs on it</dt><dd class=\"vm-count\">" + std::to_string(h.vm_count) +
         "</dd>\n<dt>Address</dt><dd>" + HtmlEscape(h.address) + "</dd>\n<dt>Hypervisor</dt><dd>" +
         HtmlEscape(h.hypervisor_kind + " " + h.hypervisor_version) +
         "</dd>\n<dt>Registered</dt><dd>" + TimeHtml(h.registered_at) + "</dd>\n</dl>\n";
  out +=
      "<h3>Capacity</h3>\n" +
      CapacityHtml(id + "-cpu", "CPUs", h.capacity.cpu_count, h.allocated.cpu_count, "CPUs") +
      CapacityHtml(id + "-memory", "Memory", h.capacity.memory_mb, h.allocated.memory_mb, "MiB") +
      CapacityHtml(id + "-disk", "Disk", h.capacity.disk_gb, h.allocated.disk_gb, "GiB");
  if (UserMay(app, me, "host", h.id, "manage")) out += HostFormsHtml(me, h, error);
  return out + "</article>\n";
}

Response HostsPage(App& app, Request& req, int status, const std::string& error_sentence,
                   const FormError* form_error) {
  const Principal& me = *req.principal;
  auto ids = UserEntities(app, me, "host", "read");
  if (!ids.ok()) return UiErrorPage(req, ids.status());
  auto hosts = ReadHosts(app, **ids);
  if (!hosts.ok()) return UiErrorPage(req, hosts.status());

  Page page;
  page.title = "Hosts";
  page.principal = &me;
  page.current = "hosts";
  std::string h = "<h1>Hosts</h1>\n";
  if (!error_sentence.empty()) {
    h += NoticeHtml(NoticeKind::kError, error_sentence);
  } else if (req.Query("notice") == "cordoned") {
    h += NoticeHtml(NoticeKind::kDone, "The host was cordoned; it takes no new VMs.");
  } else if (req.Query("notice") == "uncordoned") {
    h += NoticeHtml(NoticeKind::kDone, "The host was uncordoned; it takes new VMs again.");
  }
  // The list refreshes itself when a host or a VM changes (capacity, reachability, cordon).
  h += LiveRegionStart("host-list", "/hosts", {"host", "vm"});
  if (hosts->empty()) {
    if (UserMay(app, me, "platform", domain::kPlatformId, "operate")) {
      h += "<p id=\"no-hosts\">No host has registered yet. A host appears here once its hostd "
           "starts and registers with the control plane.</p>\n";
    } else {
      h += "<p id=\"no-hosts\">Hosts are visible to platform operators and admins only, and you "
           "are not one. Whoever runs this installation can make you an operator with "
           "<code>strato platform grant --username " +
           HtmlEscape(me.username) + " --role operator</code>.</p>\n";
    }
  } else {
    h += "<p>" + std::to_string(hosts->size()) + (hosts->size() == 1 ? " host" : " hosts") +
         ".</p>\n<div id=\"hosts\">\n";
    for (const HostRow& row : *hosts) h += HostHtml(app, me, row, form_error);
    h += "</div>\n";
  }
  h += LiveRegionEnd();
  page.main_html = std::move(h);
  return PageResponse(status, page);
}

Response Hosts(App& app, Request& req) {
  return HostsPage(app, req, 200, "", nullptr);
}

// The host's name for sentences (its id when the read model does not have it).
std::string HostName(App& app, const std::string& id) {
  auto rows = ReadHosts(app, {id});
  if (!rows.ok() || rows->empty()) return id;
  return rows->front().name;
}

std::string Trimmed(std::string s) {
  size_t b = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::string Sentence(std::string text) {
  if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') text[0] = static_cast<char>(text[0] - 32);
  if (!text.empty() && text.back() != '.') text += '.';
  return text;
}

Response HostActionForm(App& app, Request& req, const domain::HostCommand& command,
                        std::string_view verb, std::string_view notice, const std::string& reason) {
  const std::string id = req.Param("id");
  const std::string name = HostName(app, id);
  auto outcome = app.commands.Host(ContextFor(req), id, command);
  if (!outcome.ok()) {
    const Status& s = outcome.status();
    std::string sentence =
        "Could not " + std::string(verb) + " host " + name + ": " + s.message() + ".";
    if (s.code() == Code::kInvalidArgument) {
      FormError e{id, reason, Sentence(s.message())};
      return HostsPage(app, req, 400, sentence, &e);
    }
    return HostsPage(app, req, HttpStatusFor(s.code()), sentence, nullptr);
  }
  Status seen = app.WaitForReadModels(outcome->position);
  if (!seen.ok()) log::Warn("read models lag behind a host action", {{"error", seen.message()}});
  return Response::Redirect("/hosts?notice=" + std::string(notice));
}

Response CordonForm(App& app, Request& req) {
  std::string reason = Trimmed(req.FormField("reason"));
  return HostActionForm(app, req, domain::CordonHost{reason}, "cordon", "cordoned", reason);
}

Response UncordonForm(App& app, Request& req) {
  return HostActionForm(app, req, domain::UncordonHost{}, "uncordon", "uncordoned", "");
}

}  // namespace

std::string CapacityHtml(std::string_view id, std::string_view label, int64_t total,
                         int64_t allocated, std::string_view unit) {
  const std::string meter_id(id);
  const std::string t = std::to_string(total), a = std::to_string(allocated);
  const std::string words = a + " of " + t + " " + std::string(unit) + " allocated (" +
                            Percent(allocated, total) + "), " +
                            std::to_string(FreeOf(total, allocated)) + " free";
  // low/high let the browser shade a nearly full bar; the words say the same for everyone.
  return "<div class=\"capacity\"><label for=\"" + HtmlEscape(meter_id) + "\">" +
         HtmlEscape(label) + "</label> <meter id=\"" + HtmlEscape(meter_id) +
         "\" min=\"0\" max=\"" + t + "\" low=\"" + std::to_string(total * 7 / 10) + "\" high=\"" +
         std::to_string(total * 9 / 10) + "\" optimum=\"0\" value=\"" + a + "\">" +
         HtmlEscape(words) + "</meter> <span class=\"capacity-words\">" + HtmlEscape(words) +
         "</span></div>\n";
}

void AddHostPages(Router& router, App& app) {
  router.Add(AppRoute("GET", "/hosts", Access::SignedIn(),
                      "The hosts page: hosts you may read (platform operators), capacity, "
                      "reachability, cordon",
                      Hosts, app));
  router.Add(AppRoute("POST", "/hosts/{id}/cordon", CommandAccess("host.cordon"),
                      "Cordon the host (form; field reason)", CordonForm, app));
  router.Add(AppRoute("POST", "/hosts/{id}/uncordon", CommandAccess("host.uncordon"),
                      "Uncordon the host (form)", UncordonForm, app));
}

}  // namespace strato::http
