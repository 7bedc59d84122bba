#include "http/pages/page_vms.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/domain/vm.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/parse.h"
#include "http/app/permissions.h"
#include "http/app/vm_directory.h"
#include "http/pages/ui_html.h"
#include "projections/queries/audit_queries.h"
#include "projections/queries/page_queries.h"

namespace strato::http {

namespace {

// The observed state in words, honest about what is not known: "pending — not placed on a host
// yet", "unknown — host unreachable", "starting". `placement_failure` is shown for pending VMs.
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

// The observed state in words, with what the host's reachability adds to it: the view of
// {{> _vm_state}}.
View StateView(std::string_view observed, std::string_view placement_failure, bool host_reachable) {
  std::string words = ObservedStateWords(observed, placement_failure);
  if (!host_reachable && observed != "unknown") {
    words += " (its last report; the host is unreachable now)";
  }
  View v = ViewObject();
  Put(v, "observed", Text(observed));
  Put(v, "words", std::move(words));
  return v;
}

struct OrgChoice {
  std::string id, name;
};

// Organizations (id, name) among `ids`, by name.
Result<std::vector<OrgChoice>> OrgNames(App& app, const std::vector<std::string>& ids) {
  std::vector<OrgChoice> out;
  Status read = app.vm_directory->Read([&](const VmDirectory::View& d) {
    for (const std::string& id : ids) {
      if (auto it = d.org_names.find(id); it != d.org_names.end()) out.push_back({id, it->second});
    }
  });
  if (!read.ok()) return read;
  std::sort(out.begin(), out.end(), [](const OrgChoice& a, const OrgChoice& b) {
    return std::tie(a.name, a.id) < std::tie(b.name, b.id);
  });
  return out;
}

View OptionsView(std::initializer_list<std::pair<std::string, std::string>> options,
                 const std::string& chosen) {
  View list = ViewList();
  for (const auto& [value, label] : options)
    Append(list, OptionView(value, label, chosen == value));
  return list;
}

// --- GET /vms

// The list shows this many VMs a page (with links to the others).
constexpr int64_t kVmsPerPage = 50;

// Step 1: what the address asks for. A filter that makes no sense is dropped with a sentence.
struct VmListRequest {
  std::string q, state, org, desired, sort;  // sort: "name" or "created"
  int64_t page = 1;
  std::string filter_error;
  bool deleted_notice = false;

  // "/vms?q=&state=&org=&sort=name[&desired=]": the filters, without the page.
  std::string FiltersUrl() const {
    return "/vms?q=" + UrlEncode(q) + "&state=" + UrlEncode(state) + "&org=" + UrlEncode(org) +
           "&sort=" + UrlEncode(sort) + (desired.empty() ? "" : "&desired=" + UrlEncode(desired));
  }
  std::string PageUrl(int64_t n) const { return FiltersUrl() + "&page=" + std::to_string(n); }
  bool Filtered() const { return !q.empty() || !state.empty() || !org.empty() || !desired.empty(); }
};

VmListRequest ParseVmListRequest(const Request& req) {
  VmListRequest r;
  r.q = req.Query("q");
  r.state = req.Query("state");
  r.org = req.Query("org");
  r.sort = req.Query("sort");
  r.desired = req.Query("desired");
  r.deleted_notice = req.Query("notice") == "deleted";
  if (r.sort != "created") r.sort = "name";
  if (std::string text = req.Query("page"); !text.empty()) {
    auto page = ParseInt(text, 1, 100000);
    if (page) {
      r.page = *page;
    } else {
      r.filter_error = "\"" + text + "\" is not a page number; showing the first page.";
    }
  }
  if (!r.desired.empty() && !domain::ParseVmDesiredState(r.desired).ok()) {
    r.filter_error = "\"" + r.desired + "\" is not a desired state; showing every one.";
    r.desired.clear();
  }
  if (!r.state.empty() && !domain::ParseVmObservedState(r.state).ok()) {
    r.filter_error = "\"" + r.state + "\" is not a VM state; showing every state.";
    r.state.clear();
  }
  return r;
}

// One row of the list, copied out of the directory.
struct VmListRow {
  std::string id, name, org_name, desired, observed, placement_failure, host_name, created_at;
  bool host_reachable = true;
  int64_t generation = 0, observed_generation = 0;
};

struct VmListPage {
  std::vector<VmListRow> rows;
  int64_t total = 0;  // every VM that matches, not only this page's
};

// Step 2: the page of VMs among `ids` (what the user may read) that match the filters, and how
// many match in all. Filters, sorts and pages the VM directory in memory.
Result<VmListPage> ReadVmListPage(App& app, const projections::EntityIds& ids,
                                  const VmListRequest& request) {
  VmFilter filter{request.state, request.org, request.desired, request.q};
  for (char& c : filter.name_contains) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  const int64_t offset = (request.page - 1) * kVmsPerPage;
  VmListPage page;
  Status read = app.vm_directory->Read([&](const VmDirectory::View& d) {
    // By name already; only "newest first" sorts again.
    VmDirectory::Listing listing = d.Resolve(ids);
    std::vector<VmDirectory::Listed> matches;
    matches.reserve(listing->size());
    for (const VmDirectory::Listed& l : *listing) {
      if (filter.Matches(*l.vm)) matches.push_back(l);
    }
    page.total = static_cast<int64_t>(matches.size());
    const size_t from = std::min(matches.size(), static_cast<size_t>(offset));
    const size_t to = std::min(matches.size(), from + static_cast<size_t>(kVmsPerPage));
    if (request.sort == "created") {
      std::partial_sort(
          matches.begin(), matches.begin() + static_cast<std::ptrdiff_t>(to), matches.end(),
          [](const VmDirectory::Listed& a, const VmDirectory::Listed& b) {
            return std::tie(b.vm->created_at, a.vm->id) < std::tie(a.vm->created_at, b.vm->id);
          });
    }
    for (size_t i = from; i < to; ++i) {
      const VmRecord& v = *matches[i].vm;
      const HostLabel* host = v.host_id.empty() ? nullptr : d.Host(v.host_id);
      page.rows.push_back({v.id, v.name, std::string(matches[i].org_name), v.desired, v.observed,
                           v.placement_failure, host ? host->name : std::string(), v.created_at,
                           host ? host->reachable : true, v.generation, v.observed_generation});
    }
  });
  if (!read.ok()) return read.WithContext("reading your VMs");
  return page;
}

// Step 3: the view of ui/templates/vms.mustache.
View VmListView(const Principal& me, const VmListRequest& r, const std::vector<OrgChoice>& orgs,
                const VmListPage& listed) {
  View v = PageView(&me);
  View notices = ViewList();
  if (r.deleted_notice) Append(notices, NoticeView(NoticeKind::kDone, "The VM was deleted."));
  if (!r.filter_error.empty()) Append(notices, NoticeView(NoticeKind::kError, r.filter_error));
  Put(v, "notices", std::move(notices));
  v.set("q", r.q);

  View states = ViewList();
  Append(states, OptionView("", "any state", r.state.empty()));
  for (const char* s : {"pending", "scheduled", "starting", "running", "stopping", "stopped",
                        "paused", "crashed", "failed", "unknown"}) {
    Append(states, OptionView(s, s, r.state == s));
  }
  Put(v, "state_options", std::move(states));
  View desired = ViewList();
  Append(desired, OptionView("", "anything", r.desired.empty()));
  for (const char* s : {"running", "stopped", "paused"}) {
    Append(desired, OptionView(s, s, r.desired == s));
  }
  Put(v, "desired_options", std::move(desired));
  View org_options = ViewList();
  Append(org_options, OptionView("", "any organization", r.org.empty()));
  for (const OrgChoice& o : orgs) Append(org_options, OptionView(o.id, o.name, r.org == o.id));
  Put(v, "org_options", std::move(org_options));
  Put(v, "sort_options", OptionsView({{"name", "name"}, {"created", "newest first"}}, r.sort));

  // The results refresh themselves when a VM or organization the user may read changes.
  Put(v, "live", LiveView("vm-list", r.PageUrl(r.page), {"vm", "org"}));
  const std::vector<VmListRow>& rows = listed.rows;
  Put(v, "no_such_page", Flag(rows.empty() && r.page > 1));
  Put(v, "page_number", Number(r.page));
  v.set("first_page_href", r.FiltersUrl());
  Put(v, "none_match", Flag(rows.empty() && r.page == 1 && r.Filtered()));
  Put(v, "none_yet", Flag(rows.empty() && r.page == 1 && !r.Filtered()));
  Put(v, "list", Flag(!rows.empty()));
  Put(v, "count", Number(static_cast<int64_t>(rows.size())));
  View list = ViewList();
  for (const VmListRow& row : rows) {
    View item = ViewObject();
    item.set("id", row.id);
    Put(item, "id_url", UrlEncode(row.id));
    item.set("name", row.name);
    item.set("org_name", row.org_name);
    item.set("desired", row.desired);
    Put(item, "state",
        StateView(row.observed, row.placement_failure,
                  row.host_reachable || row.host_name.empty()));
    Put(item, "host_name", Maybe(row.host_name));
    Put(item, "host_reachable", Flag(row.host_reachable));
    Put(item, "generation", Number(row.generation));
    Put(item, "behind", Flag(row.observed_generation < row.generation));
    Put(item, "observed_generation", Number(row.observed_generation));
    Put(item, "created", TimeView(row.created_at));
    Append(list, std::move(item));
  }
  Put(v, "rows", std::move(list));
  const int64_t first = (r.page - 1) * kVmsPerPage + 1;
  const int64_t last = first + static_cast<int64_t>(rows.size()) - 1;
  Put(v, "first", Number(first));
  Put(v, "last", Number(last));
  Put(v, "total", Number(listed.total));
  v.set("prev_href", r.page > 1 ? Text(r.PageUrl(r.page - 1)) : Flag(false));
  v.set("next_href", last < listed.total ? Text(r.PageUrl(r.page + 1)) : Flag(false));
  return v;
}

Response VmList(App& app, Request& req) {
  const Principal& me = *req.principal;
  const VmListRequest request = ParseVmListRequest(req);
  auto ids = UserEntities(app, me, "vm", "read");
  if (!ids.ok()) return UiErrorPage(req, ids.status());
  auto org_ids = UserEntities(app, me, "organization", "view");
  if (!org_ids.ok()) return UiErrorPage(req, org_ids.status());
  auto orgs = OrgNames(app, **org_ids);
  if (!orgs.ok()) return UiErrorPage(req, orgs.status());
  auto listed = ReadVmListPage(app, *ids, request);
  if (!listed.ok()) return UiErrorPage(req, listed.status());
  return TemplatePage(200, {"Virtual machines", &me, "vms", {}, ""}, "vms",
                      VmListView(me, request, *orgs, *listed));
}

// --- GET /vms/new, POST /vms

struct VmForm {
  std::string org_id, name, description, image = "debian-12", cpu = "1", memory = "512",
                                         disk = "10";
  bool start = true;
  std::map<std::string, std::string> errors;  // field -> sentence
  std::string error;                          // for the whole form
};

Response NewVmPage(App& app, Request& req, int status, const VmForm& f) {
  const Principal& me = *req.principal;
  auto ids = UserEntities(app, me, "organization", "create_vm");
  if (!ids.ok()) return UiErrorPage(req, ids.status());
  auto orgs = OrgNames(app, **ids);
  if (!orgs.ok()) return UiErrorPage(req, orgs.status());

  View v = PageView(&me);
  View notices = ViewList();
  if (!f.error.empty()) Append(notices, NoticeView(NoticeKind::kError, f.error));
  if (!f.errors.empty()) {
    Append(notices, NoticeView(NoticeKind::kError,
                               "The VM was not created: correct the fields marked "
                               "below and submit again."));
  }
  Put(v, "notices", std::move(notices));
  Put(v, "orgs", Flag(!orgs->empty()));
  const std::string chosen = f.org_id.empty() && orgs->size() == 1 ? (*orgs)[0].id : f.org_id;
  View options = ViewList();
  if (orgs->size() > 1) Append(options, OptionView("", "Choose an organization", chosen.empty()));
  for (const OrgChoice& o : *orgs) Append(options, OptionView(o.id, o.name, chosen == o.id));
  Put(v, "org_options", std::move(options));
  for (const char* field :
       {"org_id", "name", "description", "image", "cpu_count", "memory_mb", "disk_gb"}) {
    auto err = f.errors.find(field);
    v.set(std::string(field) + "_error", FieldErrorView("vm-" + std::string(field) + "-error",
                                                        err == f.errors.end() ? "" : err->second));
  }
  v.set("name_value", f.name);
  v.set("description_value", f.description);
  v.set("image_value", f.image);
  v.set("cpu_value", f.cpu);
  v.set("memory_value", f.memory);
  v.set("disk_value", f.disk);
  Put(v, "start", Flag(f.start));
  return TemplatePage(status, {"Create a VM", &me, "vms", {}, ""}, "vm_new", v);
}

Response NewVm(App& app, Request& req) {
  VmForm f;
  f.org_id = req.Query("org");
  return NewVmPage(app, req, 200, f);
}

// "a VM name must be ..." -> "A VM name must be ....": the domain's message as a sentence.
std::string Sentence(std::string text) {
  if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') text[0] = static_cast<char>(text[0] - 32);
  if (!text.empty() && text.back() != '.') text += '.';
  return text;
}

// A whole number in [lo, hi] from a form field, or a sentence in `errors`.
int64_t FormInt(VmForm& f, const std::string& field, const std::string& text,
                const std::string& what, int64_t lo, int64_t hi, const std::string& unit) {
  std::optional<int64_t> v = ParseInt(text, lo, hi);
  if (!v) {
    f.errors[field] = what + " must be a whole number from " + std::to_string(lo) + " to " +
                      std::to_string(hi) + unit + "; \"" + text + "\" is not.";
  }
  return v.value_or(0);
}

Response CreateVmForm(App& app, Request& req) {
  const Principal& me = *req.principal;
  VmForm f;
  f.org_id = req.FormField("org_id");
  f.name = req.FormField("name");
  f.description = req.FormField("description");
  f.image = req.FormField("image");
  f.cpu = req.FormField("cpu_count");
  f.memory = req.FormField("memory_mb");
  f.disk = req.FormField("disk_gb");
  f.start = req.FormField("start") == "1";

  if (f.org_id.empty()) {
    f.errors["org_id"] = "Choose the organization the VM belongs to.";
  } else if (!UserMay(app, me, "organization", f.org_id, "create_vm")) {
    return UiErrorPage(
        req,
        Status::PermissionDenied("You may not create VMs in the organization " + f.org_id +
                                 "; ask one of its owners to add you as a member."),
        "Not allowed");
  }
  if (Status s = domain::ValidateVmName(f.name); !s.ok()) {
    f.errors["name"] = f.name.empty() ? "Give the VM a name." : Sentence(s.message());
  }
  bool image_ok = !f.image.empty() && f.image.size() <= 200;
  for (char c : f.image) image_ok = image_ok && c > 0x20 && c < 0x7f;
  if (!image_ok) {
    f.errors["image"] =
        "The image must be 1 to 200 printable characters without spaces (e.g. debian-12).";
  }
  domain::CreateVm c;
  c.cpu_count = FormInt(f, "cpu_count", f.cpu, "CPUs", domain::kMinVmCpus, domain::kMaxVmCpus, "");
  c.memory_mb = FormInt(f, "memory_mb", f.memory, "Memory", domain::kMinVmMemoryMb,
                        domain::kMaxVmMemoryMb, " MiB");
  c.disk_gb =
      FormInt(f, "disk_gb", f.disk, "Disk", domain::kMinVmDiskGb, domain::kMaxVmDiskGb, " GiB");
  if (!f.errors.empty()) return NewVmPage(app, req, 400, f);

  c.vm_id = Uuid::NewV4().ToString();
  c.org_id = f.org_id;
  c.owner_id = me.user_id;
  c.name = f.name;
  c.description = f.description;
  c.image = f.image;
  c.start = f.start;
  auto outcome = app.commands.Vm(ContextFor(req), c.vm_id, c);
  if (!outcome.ok()) {
    const Status& s = outcome.status();
    if (s.code() == Code::kAlreadyExists) {
      f.errors["name"] = "A VM named " + f.name +
                         " already exists in this organization; choose "
                         "another name.";
      return NewVmPage(app, req, 409, f);
    }
    // The domain's checks the form does not repeat (description length, characters).
    if (s.code() == Code::kInvalidArgument) {
      for (const char* field : {"description", "image", "name"}) {
        if (s.message().find(field) != std::string::npos) {
          f.errors[field] = Sentence(s.message());
          return NewVmPage(app, req, 400, f);
        }
      }
    }
    f.error = "VM " + f.name + " was not created: " + s.message() + ".";
    return NewVmPage(app, req, HttpStatusFor(s.code()), f);
  }
  Status seen = app.WaitForReadModels(outcome->position);
  if (!seen.ok()) log::Warn("read models lag behind a new VM", {{"error", seen.message()}});
  return Response::Redirect("/vms/" + UrlEncode(c.vm_id) + "?notice=created");
}

// --- GET /vms/{id}

// The newest this many events of the VM's stream are its page's history.
constexpr int kHistoryEntries = 200;

std::string EventWords(std::string_view type) {
  static const std::map<std::string_view, std::string_view> kWords = {
      {"VmCreated", "created"},
      {"VmStartRequested", "asked it to start"},
      {"VmStopRequested", "asked it to stop"},
      {"VmRestartRequested", "asked it to restart"},
      {"VmPauseRequested", "asked it to pause"},
      {"VmResumeRequested", "asked it to resume"},
      {"VmDeleteRequested", "asked to delete it"},
      {"VmResized", "resized it"},
      {"VmRenamed", "renamed it"},
      {"VmScheduled", "placed it on a host"},
      {"VmPlacementFailed", "could not place it"},
      {"VmObserved", "reported its state"},
  };
  auto it = kWords.find(type);
  return it == kWords.end() ? std::string(type) : std::string(it->second);
}

Result<std::optional<projections::VmDetail>> ReadVm(App& app, const std::string& id) {
  auto db = app.db.Acquire();
  if (!db.ok()) return db.status();
  return projections::ReadVmDetail(**db, id);
}

// The newest entries of the VM's stream with the usernames of the users among their actors.
struct VmHistory {
  std::vector<projections::AuditEntry> entries;
  projections::EntityNames names;
};

Result<VmHistory> ReadVmHistory(App& app, const std::string& vm_id) {
  auto db = app.db.Acquire();
  if (!db.ok()) return db.status();
  VmHistory out;
  auto entries = projections::ReadStreamHistory(
      **db, domain::VmStreamId(vm_id), projections::HistoryOrder::kNewestFirst, kHistoryEntries);
  if (!entries.ok()) return entries.status();
  out.entries = std::move(*entries);
  projections::EntityIdSets ids;
  for (const projections::AuditEntry& e : out.entries) {
    if (e.actor.rfind("user-", 0) == 0) ids.users.insert(e.actor.substr(5));
  }
  if (ids.users.empty()) return out;
  auto names = projections::ReadEntityNames(**db, ids);
  if (!names.ok()) return names.status();
  out.names = std::move(*names);
  return out;
}

// The history's part of the VM page's view: a table, "nothing yet", or a sentence when it
// cannot be read (the rest of the page is still shown).
void SetHistoryView(App& app, const std::string& vm_id, View& v) {
  Result<VmHistory> history = ReadVmHistory(app, vm_id);
  v.set("history_error",
        history.ok() ? Flag(false)
                     : NoticeView(NoticeKind::kError, "The history cannot be read right now."));
  Put(v, "history_empty", Flag(history.ok() && history->entries.empty()));
  Put(v, "history_table", Flag(history.ok() && !history->entries.empty()));
  View rows = ViewList();
  if (history.ok()) {
    for (const projections::AuditEntry& e : history->entries) {
      const std::string& actor = e.actor;
      auto username = history->names.name.find(actor);
      std::string who = username != history->names.name.end() ? username->second
                        : actor == "system"                   ? "the system"
                        : actor.rfind("host-", 0) == 0        ? "its host"
                                                              : actor;
      View row = ViewObject();
      row.set("type", e.type);
      Put(row, "when", TimeView(e.recorded_at));
      Put(row, "who", std::move(who));
      Put(row, "what", EventWords(e.type));
      row.set("summary", e.summary);
      Append(rows, std::move(row));
    }
  }
  Put(v, "history", std::move(rows));
}

// "Force stop" -> "force-stop": a stable id, so keyboard focus survives a live refresh.
std::string ActionId(std::string_view label) {
  std::string id;
  for (char c : label) id += c == ' ' ? '-' : static_cast<char>(std::tolower(c));
  return id;
}

// The view of {{> _vm_action}}: one action's form.
View ActionView(std::string_view action, std::string_view label, bool force = false) {
  View v = ViewObject();
  Put(v, "action", Text(action));
  Put(v, "action_id", ActionId(label));
  Put(v, "label", Text(label));
  Put(v, "force", Flag(force));
  Put(v, "danger", Flag(force));
  return v;
}

// The actions the user may take now: those the engine allows and that make sense for the
// desired state. Force stop (destructive: it asks first, naming the VM) is apart.
struct VmActions {
  View buttons = ViewList();
  bool any = false, force_stop = false, delete_vm = false;
};

VmActions AllowedActions(App& app, const Principal& me, const projections::VmDetail& v) {
  VmActions out;
  if (v.deleted) return out;
  auto may = [&](std::string_view p) { return UserMay(app, me, "vm", v.id, p); };
  const bool running = v.desired == "running", stopped = v.desired == "stopped",
             paused = v.desired == "paused";
  auto add = [&](std::string_view action, std::string_view label) {
    out.buttons.push_back(ActionView(action, label));
    out.any = true;
  };
  if (stopped && may("start")) add("start", "Start");
  if (paused && may("start")) add("resume", "Resume");
  if (running && may("restart")) add("restart", "Restart");
  if (running && may("stop")) add("pause", "Pause");
  if ((running || paused) && may("stop")) add("stop", "Stop");
  const bool still_up = stopped && !v.host_id.empty() && v.observed != "stopped";
  if ((running || paused || still_up) && may("stop")) out.force_stop = out.any = true;
  out.delete_vm = may("delete");
  return out;
}

std::string NoticeForAction(std::string_view code) {
  static const std::map<std::string_view, std::string_view> kDone = {
      {"created", "The VM was created."},          {"start", "The VM was asked to start."},
      {"stop", "The VM was asked to stop."},       {"force-stop", "The VM was asked to power off."},
      {"restart", "The VM was asked to restart."}, {"pause", "The VM was asked to pause."},
      {"resume", "The VM was asked to resume."},
  };
  auto it = kDone.find(code);
  return it == kDone.end() ? "" : std::string(it->second);
}

// The view of ui/templates/vm.mustache, but for the history (SetHistoryView).
View VmView(const Principal& me, const projections::VmDetail& v, VmActions actions,
            std::string_view notice_code, const std::string& error, bool delete_open) {
  View view = PageView(&me);
  view.set("name", v.name);
  view.set("id", v.id);
  Put(view, "vm_id_url", UrlEncode(v.id));
  if (!error.empty()) {
    Put(view, "notice", NoticeView(NoticeKind::kError, error));
  } else if (std::string done = NoticeForAction(notice_code); !done.empty()) {
    Put(view, "notice", NoticeView(NoticeKind::kDone, done));
  } else {
    Put(view, "notice", Flag(false));
  }
  view.set("deleted_notice",
           v.deleted ? NoticeView(NoticeKind::kInfo,
                                  "VM " + v.name + " was deleted; its host destroys it.")
                     : Flag(false));
  Put(view, "live", LiveView("vm-live", "/vms/" + UrlEncode(v.id), {"vm-" + v.id}, "#history"));
  view.set("desired", v.desired);
  view.set("state",
           StateView(v.observed, v.placement_failure, v.host_reachable || v.host_id.empty()));
  std::string converging;
  if (v.desired != v.observed && !v.deleted) {
    converging = v.host_id.empty() ? "waiting to be placed on a host"
                 : v.observed_generation < v.generation
                     ? "its host has not yet acted on the latest request"
                     : "its host has acted on the latest request but reports another state";
  }
  Put(view, "converging", Maybe(converging));
  view.set("host",
           v.host_id.empty() ? Flag(false) : Text(v.host_name.empty() ? v.host_id : v.host_name));
  Put(view, "host_reachable", Flag(v.host_reachable));
  Put(view, "generation", Number(v.generation));
  Put(view, "observed_generation", Number(v.observed_generation));
  Put(view, "observed_error", Maybe(v.observed_error));
  Put(view, "has_actions", Flag(actions.any));
  view.set("actions", actions.buttons);
  view.set("force_stop", actions.force_stop ? ActionView("stop", "Force stop", true) : Flag(false));
  Put(view, "may_delete", Flag(actions.delete_vm));
  Put(view, "delete_open", Flag(delete_open));
  Put(view, "org_id_url", UrlEncode(v.org_id));
  view.set("org_name", v.org_name.empty() ? v.org_id : v.org_name);
  view.set("owner", v.owner.empty() ? v.owner_id : v.owner);
  Put(view, "description", Maybe(v.description));
  view.set("image", v.image);
  Put(view, "cpu", Number(v.cpu));
  Put(view, "memory", Number(v.memory));
  Put(view, "disk", Number(v.disk));
  Put(view, "created", TimeView(v.created_at));
  Put(view, "updated", TimeView(v.updated_at));
  Put(view, "stream_url", UrlEncode("vm-" + v.id));
  return view;
}

// The VM page, with `error` (a sentence) in its notice when an action was refused.
Response VmPage(App& app, Request& req, int status, const std::string& error) {
  const Principal& me = *req.principal;
  const std::string id = req.Param("id");
  auto vm = ReadVm(app, id);
  if (!vm.ok()) return UiErrorPage(req, vm.status());
  if (!vm->has_value()) {
    return UiErrorPage(
        req, Status::NotFound("There is no VM " + id + "; it may not have been created yet."));
  }
  const projections::VmDetail& v = **vm;
  VmActions actions = AllowedActions(app, me, v);
  const bool delete_open = !error.empty() && req.path.ends_with("/delete");
  View view = VmView(me, v, std::move(actions), req.Query("notice"), error, delete_open);
  SetHistoryView(app, v.id, view);
  return TemplatePage(status, {"VM " + v.name, &me, "vms", {}, ""}, "vm", view);
}

Response Vm(App& app, Request& req) {
  return VmPage(app, req, 200, "");
}

// --- the action forms

// The VM's name for sentences ("" when there is no such VM).
std::string VmName(App& app, const std::string& id) {
  auto vm = ReadVm(app, id);
  if (!vm.ok() || !vm->has_value()) return "";
  return (**vm).name;
}

Response VmActionForm(App& app, Request& req, const domain::VmCommand& command,
                      std::string_view verb, std::string_view notice) {
  const std::string id = req.Param("id");
  std::string name = VmName(app, id);
  if (name.empty()) {
    return UiErrorPage(req,
                       Status::NotFound("There is no VM " + id + " to " + std::string(verb) + "."));
  }
  // htmx swaps only 2xx answers in: a refusal comes back as a page with its sentence.
  const bool htmx = req.Header("HX-Request") == "true";
  auto outcome = app.commands.Vm(ContextFor(req), id, command);
  if (!outcome.ok()) {
    std::string why = outcome.status().message();
    return VmPage(app, req, htmx ? 200 : HttpStatusFor(outcome.status().code()),
                  "Could not " + std::string(verb) + " VM " + name + ": " + why + ".");
  }
  Status seen = app.WaitForReadModels(outcome->position);
  if (!seen.ok()) log::Warn("read models lag behind a VM action", {{"error", seen.message()}});
  const std::string done = "/vms/" + UrlEncode(id) + "?notice=" + std::string(notice);
  if (!htmx) return Response::Redirect(done);
  // The page as it is after the action (read-your-writes above); the address bar says so too.
  req.query.erase("notice");
  req.query.emplace("notice", std::string(notice));
  return VmPage(app, req, 200, "").With("HX-Replace-Url", done);
}

Response StopForm(App& app, Request& req) {
  bool force = req.FormField("force") == "1";
  return VmActionForm(app, req, domain::StopVm{force}, force ? "force stop" : "stop",
                      force ? "force-stop" : "stop");
}

Response DeleteForm(App& app, Request& req) {
  const std::string id = req.Param("id");
  std::string name = VmName(app, id);
  if (name.empty()) return UiErrorPage(req, Status::NotFound("There is no VM " + id + "."));
  if (req.FormField("confirm_name") != name) {
    return VmPage(app, req, 400,
                  "VM " + name + " was not deleted: type its name, " + name +
                      ", exactly in the confirmation field to delete it.");
  }
  auto outcome = app.commands.Vm(ContextFor(req), id, domain::DeleteVm{});
  if (!outcome.ok()) {
    return VmPage(app, req, HttpStatusFor(outcome.status().code()),
                  "Could not delete VM " + name + ": " + outcome.status().message() + ".");
  }
  Status seen = app.WaitForReadModels(outcome->position);
  if (!seen.ok()) log::Warn("read models lag behind a VM deletion", {{"error", seen.message()}});
  return Response::Redirect("/vms?notice=deleted");
}

}  // namespace

void AddVmPages(Router& router, App& app) {
  router.Add(AppRoute("GET", "/vms", Access::SignedIn(),
                      "The VMs page: VMs you may read, with search, filters and sorting", VmList,
                      app));
  router.Add(AppRoute("GET", "/vms/new", Access::SignedIn(), "The create-VM form", NewVm, app));
  router.Add(AppRoute("POST", "/vms", Access::SignedIn(),
                      "Create a VM (form; organization#create_vm of the chosen organization)",
                      CreateVmForm, app));
  router.Add(AppRoute("GET", "/vms/{id}", Access::Permission("vm:{id}#read"),
                      "A VM's page: spec, state, actions, history", Vm, app));
  router.Add(AppRoute(
      "POST", "/vms/{id}/start", CommandAccess("vm.start"), "Start the VM (form)",
      [](App& a, Request& r) { return VmActionForm(a, r, domain::StartVm{}, "start", "start"); },
      app));
  router.Add(AppRoute("POST", "/vms/{id}/stop", CommandAccess("vm.stop"),
                      "Stop the VM (form; force=1 powers it off)", StopForm, app));
  router.Add(AppRoute(
      "POST", "/vms/{id}/restart", CommandAccess("vm.restart"), "Restart the VM (form)",
      [](App& a, Request& r) {
        return VmActionForm(a, r, domain::RestartVm{}, "restart", "restart");
      },
      app));
  router.Add(AppRoute(
      "POST", "/vms/{id}/pause", CommandAccess("vm.pause"), "Pause the VM (form)",
      [](App& a, Request& r) { return VmActionForm(a, r, domain::PauseVm{}, "pause", "pause"); },
      app));
  router.Add(AppRoute(
      "POST", "/vms/{id}/resume", CommandAccess("vm.resume"), "Resume the VM (form)",
      [](App& a, Request& r) { return VmActionForm(a, r, domain::ResumeVm{}, "resume", "resume"); },
      app));
  router.Add(AppRoute("POST", "/vms/{id}/delete", CommandAccess("vm.delete"),
                      "Delete the VM (form; confirm_name must be its name)", DeleteForm, app));
}

}  // namespace strato::http
