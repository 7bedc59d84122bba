#include "http/pages/page_hosts.h"

#include <string>
#include <vector>

#include "core/domain/host.h"
#include "core/domain/platform.h"
#include "core/log.h"
#include "http/app/permissions.h"
#include "http/pages/ui_html.h"
#include "projections/queries/host_queries.h"

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

// Allocated vs physical, under a capacity bar: "2 physical CPUs at 4:1; 3 allocated is 150% of
// physical".
std::string Basis(int64_t physical, int64_t ratio, int64_t allocated, std::string_view unit) {
  return std::to_string(physical) + " " + std::string(unit) + " at " + std::to_string(ratio) +
         ":1; " + std::to_string(allocated) + " allocated is " + Percent(allocated, physical) +
         " of physical";
}

// The hosts among `ids`, through the query the JSON API shares (projections/queries).
Result<std::vector<projections::HostRow>> ReadHostRows(const App& app,
                                                       const std::vector<std::string>& ids) {
  if (ids.empty()) return std::vector<projections::HostRow>();
  return app.queries->Hosts(ids);
}

// The view of {{> _host}}: one host's facts, capacity bars and (with host#manage) its form.
View HostView(const App& app, const Principal& me, const projections::HostRow& h,
              const FormError* error) {
  const std::string id = "host-" + h.id;
  View v = ViewObject();
  v.set("id", h.id);
  Put(v, "id_url", UrlEncode(h.id));
  v.set("name", h.name);
  Put(v, "reachable", Flag(h.reachable));
  Put(v, "unreachable_reason", Maybe(h.unreachable_reason));
  Put(v, "cordoned", Flag(h.cordoned));
  Put(v, "cordon_reason", Maybe(h.cordon_reason));
  Put(v, "vm_count", Number(h.vm_count));
  v.set("address", h.address);
  v.set("hypervisor", h.hypervisor_kind + " " + h.hypervisor_version);
  Put(v, "accelerator", Maybe(h.accelerator));
  Put(v, "cpu_ratio", Number(h.cpu_allocation_ratio));
  Put(v, "memory_ratio", Number(h.memory_allocation_ratio));
  Put(v, "registered", TimeView(h.registered_at));
  // Bars of what the scheduler may place (physical x ratio), each with its physical basis.
  const domain::Resources total = h.schedulable();
  View capacity = ViewList();
  Append(capacity, CapacityView(id + "-cpu", "CPUs", total.cpu_count, h.allocated.cpu_count, "CPUs",
                                Basis(h.capacity.cpu_count, h.cpu_allocation_ratio,
                                      h.allocated.cpu_count, "physical CPUs")));
  Append(capacity,
         CapacityView(id + "-memory", "Memory", total.memory_mb, h.allocated.memory_mb, "MiB",
                      Basis(h.capacity.memory_mb, h.memory_allocation_ratio, h.allocated.memory_mb,
                            "MiB physical")));
  capacity.push_back(
      CapacityView(id + "-disk", "Disk", total.disk_gb, h.allocated.disk_gb, "GiB",
                   Basis(h.capacity.disk_gb, 1, h.allocated.disk_gb, "GiB physical")));
  Put(v, "capacity", std::move(capacity));
  Put(v, "manage", Flag(UserMay(app, me, "host", h.id, "manage")));
  const bool failed = error != nullptr && error->host_id == h.id;
  Put(v, "reason_max", Number(kMaxReasonChars));
  v.set("reason_value", failed ? error->reason : std::string());
  v.set("reason_error",
        FieldErrorView("reason-" + h.id + "-error", failed ? error->sentence : std::string()));
  return v;
}

// Step 1: what the address asks for (a notice after a form), or the form's own sentence.
View HostsNotice(const Request& req, const std::string& error_sentence) {
  if (!error_sentence.empty()) return NoticeView(NoticeKind::kError, error_sentence);
  if (req.Query("notice") == "cordoned") {
    return NoticeView(NoticeKind::kDone, "The host was cordoned; it takes no new VMs.");
  }
  if (req.Query("notice") == "uncordoned") {
    return NoticeView(NoticeKind::kDone, "The host was uncordoned; it takes new VMs again.");
  }
  return Flag(false);
}

Response HostsPage(App& app, Request& req, int status, const std::string& error_sentence,
                   const FormError* form_error) {
  const Principal& me = *req.principal;
  // Step 2: read.
  auto ids = UserEntities(app, me, "host", "read");
  if (!ids.ok()) return UiErrorPage(req, ids.status());
  auto hosts = ReadHostRows(app, **ids);
  if (!hosts.ok()) return UiErrorPage(req, hosts.status());

  // Step 3: the view of ui/templates/hosts.mustache.
  View v = PageView(&me);
  Put(v, "notice", HostsNotice(req, error_sentence));
  // The list refreshes itself when a host or a VM changes (capacity, reachability, cordon).
  Put(v, "live", LiveView("host-list", "/hosts", {"host", "vm"}));
  Put(v, "no_hosts", Flag(hosts->empty()));
  v.set("operator",
        Flag(hosts->empty() && UserMay(app, me, "platform", domain::kPlatformId, "operate")));
  v.set("username", me.username);
  Put(v, "has_hosts", Flag(!hosts->empty()));
  Put(v, "host_count", Number(static_cast<int64_t>(hosts->size())));
  Put(v, "host_word", Text(hosts->size() == 1 ? "host" : "hosts"));
  View list = ViewList();
  for (const projections::HostRow& row : *hosts) Append(list, HostView(app, me, row, form_error));
  Put(v, "hosts", std::move(list));
  return TemplatePage(status, {"Hosts", &me, "hosts", {}, ""}, "hosts", v);
}

Response Hosts(App& app, Request& req) {
  return HostsPage(app, req, 200, "", nullptr);
}

// The host's name for sentences (its id when the read model does not have it).
std::string HostName(App& app, const std::string& id) {
  auto rows = ReadHostRows(app, {id});
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

View CapacityView(std::string_view id, std::string_view label, int64_t total, int64_t allocated,
                  std::string_view unit, std::string_view basis) {
  const std::string t = std::to_string(total), a = std::to_string(allocated);
  View v = ViewObject();
  Put(v, "id", Text(id));
  Put(v, "label", Text(label));
  v.set("total", t);
  v.set("allocated", a);
  Put(v, "low", Number(total * 7 / 10));
  Put(v, "high", Number(total * 9 / 10));
  v.set("words", a + " of " + t + " " + std::string(unit) + " allocated (" +
                     Percent(allocated, total) + "), " +
                     std::to_string(projections::FreeOf(total, allocated)) + " free");
  Put(v, "basis", Maybe(std::string(basis)));
  return v;
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
