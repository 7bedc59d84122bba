#include "http/pages/page_dashboard.h"

#include <map>
#include <string>
#include <vector>

#include "core/domain/platform.h"
#include "http/app/permissions.h"
#include "http/app/visibility.h"
#include "http/app/vm_directory.h"
#include "http/pages/page_hosts.h"
#include "http/pages/ui_html.h"
#include "projections/queries/host_queries.h"
#include "projections/queries/page_queries.h"
#include "projections/queries/user_queries.h"

namespace strato::http {

namespace {

constexpr const char* kObservedStates[] = {"pending",  "scheduled", "starting", "running",
                                           "stopping", "stopped",   "paused",   "crashed",
                                           "failed",   "unknown"};
constexpr const char* kDesiredStates[] = {"running", "stopped", "paused"};

// The view of {{> _count_link}}: a number linked to the list it counts.
View CountView(const std::string& href, int64_t n, const std::string& label) {
  View v = ViewObject();
  v.set("href", href);
  Put(v, "n", Number(n));
  v.set("label", label);
  return v;
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

// The VM counts' part of the dashboard's view.
void SetVmCountsView(const VmCounts& c, View& v) {
  v.set("vm_total",
        CountView("/vms", c.total, c.total == 1 ? "VM you may see" : "VMs you may see"));
  Put(v, "has_vms", Flag(c.total > 0));
  View observed = ViewList();
  for (const char* s : kObservedStates) {
    auto it = c.observed.find(s);
    if (it == c.observed.end()) continue;
    View item = CountView("/vms?state=" + UrlEncode(s), it->second, s);
    Put(item, "state", Text(s));
    Append(observed, std::move(item));
  }
  Put(v, "observed", std::move(observed));
  View desired = ViewList();
  for (const char* s : kDesiredStates) {
    auto it = c.desired.find(s);
    if (it == c.desired.end()) continue;
    View item = CountView("/vms?desired=" + UrlEncode(s), it->second, s);
    Put(item, "state", Text(s));
    Append(desired, std::move(item));
  }
  Put(v, "desired", std::move(desired));
}

// The capacity of the hosts the user may read, summed; false for users who may read none and
// are not operators (the dashboard then has no hosts section).
Result<View> HostCapacityView(const App& app, const Principal& me) {
  auto ids = UserEntities(app, me, "host", "read");
  if (!ids.ok()) return ids.status();
  if ((*ids)->empty() && !UserMay(app, me, "platform", domain::kPlatformId, "operate")) {
    return Flag(false);
  }
  Result<std::vector<projections::HostRow>> hosts = std::vector<projections::HostRow>();
  if (!(*ids)->empty()) hosts = app.queries->Hosts(**ids);
  if (!hosts.ok()) return hosts.status();
  domain::Resources total, allocated;
  int64_t unreachable = 0, cordoned = 0;
  for (const projections::HostRow& h : *hosts) {
    total.cpu_count += h.schedulable().cpu_count;  // physical x the host's allocation ratio
    total.memory_mb += h.schedulable().memory_mb;
    total.disk_gb += h.capacity.disk_gb;
    allocated.cpu_count += h.allocated.cpu_count;
    allocated.memory_mb += h.allocated.memory_mb;
    allocated.disk_gb += h.allocated.disk_gb;
    unreachable += h.reachable ? 0 : 1;
    cordoned += h.cordoned ? 1 : 0;
  }
  View v = ViewObject();
  Put(v, "host_total",
      CountView("/hosts", static_cast<int64_t>(hosts->size()),
                hosts->size() == 1 ? "host" : "hosts"));
  Put(v, "unreachable", Number(unreachable));
  Put(v, "cordoned", Number(cordoned));
  Put(v, "has_hosts", Flag(!hosts->empty()));
  View capacity = ViewList();
  capacity.push_back(
      CapacityView("capacity-cpu", "CPUs", total.cpu_count, allocated.cpu_count, "CPUs"));
  capacity.push_back(
      CapacityView("capacity-memory", "Memory", total.memory_mb, allocated.memory_mb, "MiB"));
  capacity.push_back(
      CapacityView("capacity-disk", "Disk", total.disk_gb, allocated.disk_gb, "GiB"));
  Put(v, "capacity", std::move(capacity));
  return v;
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

// The recent activity's part of the dashboard's view: the newest entries the user may read, a
// sentence when they cannot be read (the rest of the dashboard is still shown).
void SetRecentActivityView(const App& app, const Principal& me, View& v) {
  auto page = ReadableAuditEntries(app, me, AuditQuery{.limit = 10});
  v.set("activity_error", page.ok() ? Flag(false) : Text(page.status().message()));
  Put(v, "activity_empty", Flag(page.ok() && page->entries.empty()));
  Put(v, "has_activity", Flag(page.ok() && !page->entries.empty()));
  View list = ViewList();
  if (page.ok() && !page->entries.empty()) {
    const std::map<std::string, std::string> names = ActorNames(app, page->entries);
    for (const AuditEntry& e : page->entries) {
      auto name = names.find(e.actor);
      // The summary starts with the type, already shown.
      std::string summary = e.summary;
      if (summary.rfind(e.type, 0) == 0) summary = summary.substr(e.type.size());
      while (!summary.empty() && summary.front() == ' ') summary.erase(0, 1);
      View item = ViewObject();
      Put(item, "position", Number(e.position));
      Put(item, "when", TimeView(e.recorded_at));
      Put(item, "href", Maybe(StreamHref(e.stream_id)));
      item.set("type", e.type);
      item.set("who", name != names.end() ? name->second : e.actor);
      Put(item, "summary", Maybe(summary));
      Append(list, std::move(item));
    }
  }
  Put(v, "activity", std::move(list));
}

Response Dashboard(App& app, Request& req) {
  const Principal& me = *req.principal;
  // Read.
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
  auto hosts = HostCapacityView(app, me);
  if (!hosts.ok()) return UiErrorPage(req, hosts.status());

  // The view of ui/templates/dashboard.mustache.
  View v = PageView(&me);
  v.set("display_name", display);
  v.set("username", me.username);
  Put(v, "live", LiveView("dashboard", "/", {"change"}));
  SetVmCountsView(*vms, v);
  const int64_t n_orgs = static_cast<int64_t>((*orgs)->size());
  Put(v, "org_total", CountView("/orgs", n_orgs, n_orgs == 1 ? "organization" : "organizations"));
  v.set("hosts", *hosts);
  SetRecentActivityView(app, me, v);
  return TemplatePage(200, {"Dashboard", &me, "home", {}, ""}, "dashboard", v);
}

}  // namespace

void AddDashboardPages(Router& router, App& app) {
  router.Add(AppRoute("GET", "/", Access::SignedIn(),
                      "The dashboard: your VMs by state, organizations, host capacity (operators) "
                      "and recent activity",
                      Dashboard, app));
}

}  // namespace strato::http
