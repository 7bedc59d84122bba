#include "http/pages/page_dashboard.h"

#include <map>
#include <string>
#include <vector>

#include "core/domain/platform.h"
#include "http/api/api_hosts.h"
#include "http/app/ui_support.h"
#include "http/app/visibility.h"
#include "http/app/vm_directory.h"
#include "http/pages/page_hosts.h"
#include "http/pages/ui_html.h"
#include "projections/queries/page_queries.h"
#include "projections/queries/user_queries.h"

namespace strato::http {

namespace {

constexpr const char* kObservedStates[] = {"pending",  "scheduled", "starting", "running",
                                           "stopping", "stopped",   "paused",   "crashed",
                                           "failed",   "unknown"};
constexpr const char* kDesiredStates[] = {"running", "stopped", "paused"};

std::string CountLink(const std::string& href, int64_t n, const std::string& label) {
  return "<a href=\"" + HtmlEscape(href) + "\"><span class=\"count\">" + std::to_string(n) +
         "</span> " + HtmlEscape(label) + "</a>";
}

// VMs the user may read and that are not deleted, counted by observed and by desired state.
struct VmCounts {
  int64_t total = 0;
  std::map<std::string, int64_t> observed, desired;
};

Result<VmCounts> CountVms(const App& app, const Principal& me) {
  auto ids = UserEntities(app, me, "vm", "read");
  if (!ids.ok()) return ids.status();
  VmCounts out;
  Status read = app.vm_directory->Read([&](const VmDirectory::View& d) {
    for (const VmDirectory::Listed& l : *d.Resolve(*ids)) {
      const VmRecord* v = l.vm;
      ++out.observed[v->observed];
      ++out.desired[v->desired];
      ++out.total;
    }
  });
  if (!read.ok()) return read.WithContext("counting your VMs");
  return out;
}

std::string VmCountsHtml(const VmCounts& c) {
  std::string h =
      "<section id=\"vm-counts\" aria-labelledby=\"vm-counts-heading\">\n<h2 "
      "id=\"vm-counts-heading\">Your VMs</h2>\n<p class=\"total\">" +
      CountLink("/vms", c.total, c.total == 1 ? "VM you may see" : "VMs you may see") + "</p>\n";
  if (c.total == 0) {
    return h + "<p>There are no VMs you may see yet. <a href=\"/vms/new\">Create one</a>.</p>\n" +
           "</section>\n";
  }
  h += "<h3>By observed state</h3>\n<ul class=\"counts\" id=\"vm-counts-observed\">\n";
  for (const char* s : kObservedStates) {
    auto it = c.observed.find(s);
    if (it == c.observed.end()) continue;
    h += "<li data-state=\"" + HtmlEscape(s) + "\">" +
         CountLink("/vms?state=" + UrlEncode(s), it->second, s) + "</li>\n";
  }
  h += "</ul>\n<h3>By desired state</h3>\n<ul class=\"counts\" id=\"vm-counts-desired\">\n";
  for (const char* s : kDesiredStates) {
    auto it = c.desired.find(s);
    if (it == c.desired.end()) continue;
    h += "<li data-desired=\"" + HtmlEscape(s) + "\">" +
         CountLink("/vms?desired=" + UrlEncode(s), it->second, s) + "</li>\n";
  }
  return h + "</ul>\n</section>\n";
}

// The capacity of the hosts the user may read, summed; "" for users who may read none and are
// not operators.
Result<std::string> HostCapacityHtml(const App& app, const Principal& me) {
  auto ids = UserEntities(app, me, "host", "read");
  if (!ids.ok()) return ids.status();
  if ((*ids)->empty() && !UserMay(app, me, "platform", domain::kPlatformId, "operate")) {
    return std::string();
  }
  auto hosts = ReadHosts(app, **ids);
  if (!hosts.ok()) return hosts.status();
  domain::Resources total, allocated;
  int64_t unreachable = 0, cordoned = 0;
  for (const HostRow& h : *hosts) {
    total.cpu_count += h.capacity.cpu_count;
    total.memory_mb += h.capacity.memory_mb;
    total.disk_gb += h.capacity.disk_gb;
    allocated.cpu_count += h.allocated.cpu_count;
    allocated.memory_mb += h.allocated.memory_mb;
    allocated.disk_gb += h.allocated.disk_gb;
    unreachable += h.reachable ? 0 : 1;
    cordoned += h.cordoned ? 1 : 0;
  }
  std::string h =
      "<section id=\"host-capacity\" aria-labelledby=\"host-capacity-heading\">\n<h2 "
      "id=\"host-capacity-heading\">Host capacity</h2>\n<p>" +
      CountLink("/hosts", static_cast<int64_t>(hosts->size()),
                hosts->size() == 1 ? "host" : "hosts") +
      ", " + std::to_string(unreachable) + " unreachable, " + std::to_string(cordoned) +
      " cordoned.</p>\n";
  if (hosts->empty()) return h + "<p>No host has registered yet.</p>\n</section>\n";
  h += CapacityHtml("capacity-cpu", "CPUs", total.cpu_count, allocated.cpu_count, "CPUs") +
       CapacityHtml("capacity-memory", "Memory", total.memory_mb, allocated.memory_mb, "MiB") +
       CapacityHtml("capacity-disk", "Disk", total.disk_gb, allocated.disk_gb, "GiB");
  return h + "</section>\n";
}

// Where an entry's stream is shown, or "" when it has no page.
std::string StreamHref(const std::string& stream_id) {
  if (stream_id.rfind("vm-", 0) == 0) return "/vms/" + UrlEncode(stream_id.substr(3));
  if (stream_id.rfind("org-", 0) == 0) return "/orgs/" + UrlEncode(stream_id.substr(4));
  if (stream_id.rfind("host-", 0) == 0) return "/hosts";
  return "";
}

// Usernames for the entries' user actors ("user-<id>" or "user:<id>"), "the system" for the
// system; actors the users read model does not know are left out (shown as they are).
std::map<std::string, std::string> ActorNames(const App& app,
                                              const std::vector<AuditEntry>& entries) {
  std::map<std::string, std::string> out;
  projections::EntityIdSets ids;
  for (const AuditEntry& e : entries) {
    if (e.actor == "system") out[e.actor] = "the system";
    if (e.actor.rfind("user-", 0) == 0 || e.actor.rfind("user:", 0) == 0) {
      ids.users.insert(e.actor.substr(5));
    }
  }
  if (ids.users.empty()) return out;
  auto db = app.db.Acquire();
  if (!db.ok()) return out;
  auto names = projections::ReadEntityNames(**db, ids);
  if (!names.ok()) return out;
  for (const std::string& id : ids.users) {
    auto it = names->name.find("user-" + id);
    if (it == names->name.end()) continue;
    out["user-" + id] = it->second;
    out["user:" + id] = it->second;
  }
  return out;
}

std::string RecentActivityHtml(const App& app, const Principal& me) {
  std::string h =
      "<section id=\"recent-activity\" aria-labelledby=\"recent-activity-heading\">\n<h2 "
      "id=\"recent-activity-heading\">Recent activity</h2>\n";
  auto page = ReadableAuditEntries(app, me, AuditQuery{.limit = 10});
  if (!page.ok()) {
    return h + "<p class=\"unavailable\">" +
           HtmlEscape("Recent activity is not available: " + page.status().message()) +
           "</p>\n</section>\n";
  }
  const std::vector<AuditEntry>* entries = &page->entries;
  if (entries->empty()) return h + "<p>Nothing you may see has happened yet.</p>\n</section>\n";
  const std::map<std::string, std::string> names = ActorNames(app, *entries);
  h += "<ol class=\"activity\">\n";
  for (const AuditEntry& e : *entries) {
    std::string href = StreamHref(e.stream_id);
    std::string what = HtmlEscape(e.type);
    if (!href.empty()) what = "<a href=\"" + HtmlEscape(href) + "\">" + what + "</a>";
    auto name = names.find(e.actor);
    // The summary starts with the type, already shown.
    std::string summary = e.summary;
    if (summary.rfind(e.type, 0) == 0) summary = summary.substr(e.type.size());
    while (!summary.empty() && summary.front() == ' ') summary.erase(0, 1);
    h += "<li data-position=\"" + std::to_string(e.position) + "\">" + TimeHtml(e.recorded_at) +
         " " + what + " by " + HtmlEscape(name != names.end() ? name->second : e.actor) +
         (summary.empty() ? std::string() : " — " + HtmlEscape(summary)) + "</li>\n";
  }
  return h + "</ol>\n<p><a href=\"/audit\">The whole audit log</a></p>\n</section>\n";
}

Response Dashboard(App& app, Request& req) {
  const Principal& me = *req.principal;
  std::string display = me.username;
  {
    auto db = app.db.Acquire();
    if (!db.ok()) return UiErrorPage(req, db.status());
    auto user = projections::FindUserById(**db, me.user_id);
    if (!user.ok()) return UiErrorPage(req, user.status().WithContext("reading your name"));
    if (*user) display = (*user)->display_name;
  }
  auto vms = CountVms(app, me);
  if (!vms.ok()) return UiErrorPage(req, vms.status());
  auto orgs = UserEntities(app, me, "organization", "view");
  if (!orgs.ok()) return UiErrorPage(req, orgs.status());
  auto capacity = HostCapacityHtml(app, me);
  if (!capacity.ok()) return UiErrorPage(req, capacity.status());

  Page page;
  page.title = "Dashboard";
  page.principal = &me;
  page.current = "home";
  std::string h = "<h1>Welcome, <span data-testid=\"display-name\">" + HtmlEscape(display) +
                  "</span></h1>\n<p>You are signed in as <strong>" + HtmlEscape(me.username) +
                  "</strong>.</p>\n" + LiveRegionStart("dashboard", "/", {"change"}) +
                  "<div class=\"dashboard\">\n";
  h += VmCountsHtml(*vms);
  const int64_t n_orgs = static_cast<int64_t>((*orgs)->size());
  h += "<section id=\"org-count\" aria-labelledby=\"org-count-heading\">\n<h2 "
       "id=\"org-count-heading\">Organizations</h2>\n<p>" +
       CountLink("/orgs", n_orgs, n_orgs == 1 ? "organization" : "organizations") +
       "</p>\n</section>\n";
  h += *capacity;
  h += RecentActivityHtml(app, me);
  h += "</div>\n" + LiveRegionEnd() +
       "<p>Manage your passkeys and open sessions on your <a href=\"/account\">account "
       "page</a>.</p>";
  page.main_html = std::move(h);
  return PageResponse(200, page);
}

}  // namespace

void AddDashboardPages(Router& router, App& app) {
  router.Add(AppRoute("GET", "/", Access::SignedIn(),
                      "The dashboard: your VMs by state, organizations, host capacity (operators) "
                      "and recent activity",
                      Dashboard, app));
}

}  // namespace strato::http
