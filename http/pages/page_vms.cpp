#include "http/pages/page_vms.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/domain/audit_line.h"
#include "core/domain/vm.h"
#include "core/ids.h"
#include "core/log.h"
#include "http/app/ui_support.h"
#include "http/app/vm_directory.h"
#include "http/pages/ui_html.h"

namespace strato::http {

namespace {

constexpr const char* kTime = "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'";

std::string UtcText(const char* column) {
  return std::string("to_char(") + column + " AT TIME ZONE 'UTC', " + kTime + ")";
}

// The observed state in words, with what the host's reachability adds to it.
std::string StateHtml(std::string_view observed, std::string_view placement_failure,
                      bool host_reachable) {
  std::string words = ObservedStateWords(observed, placement_failure);
  if (!host_reachable && observed != "unknown") {
    words += " (its last report; the host is unreachable now)";
  }
  return "<span class=\"state state-" + HtmlEscape(observed) + "\">" + HtmlEscape(words) +
         "</span>";
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

// One row of the list, copied out of the directory.
struct VmListRow {
  std::string id, name, org_name, desired, observed, placement_failure, host_name, created_at;
  bool host_reachable = true;
  int64_t generation = 0, observed_generation = 0;
};

struct VmListQuery {
  std::string q, state, org, desired, sort;  // sort: "name" or "created"
  int64_t offset = 0, limit = 0;
};

// The page of VMs among `ids` (what the user may read) that match the filters, and how many
// match in all. Filters, sorts and pages the VM directory in memory.
Result<std::pair<std::vector<VmListRow>, int64_t>> ListPage(App& app,
                                                            const projections::EntityIds& ids,
                                                            const VmListQuery& query) {
  VmFilter filter{query.state, query.org, query.desired, query.q};
  for (char& c : filter.name_contains) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  std::vector<VmListRow> rows;
  int64_t total = 0;
  Status read = app.vm_directory->Read([&](const VmDirectory::View& d) {
    // By name already; only "newest first" sorts again.
    VmDirectory::Listing listing = d.Resolve(ids);
    std::vector<VmDirectory::Listed> matches;
    matches.reserve(listing->size());
    for (const VmDirectory::Listed& l : *listing) {
      if (filter.Matches(*l.vm)) matches.push_back(l);
    }
    total = static_cast<int64_t>(matches.size());
    const size_t from = std::min(matches.size(), static_cast<size_t>(query.offset));
    const size_t to = std::min(matches.size(), from + static_cast<size_t>(query.limit));
    if (query.sort == "created") {
      std::partial_sort(
          matches.begin(), matches.begin() + static_cast<std::ptrdiff_t>(to), matches.end(),
          [](const VmDirectory::Listed& a, const VmDirectory::Listed& b) {
            return std::tie(b.vm->created_at, a.vm->id) < std::tie(a.vm->created_at, b.vm->id);
          });
    }
    for (size_t i = from; i < to; ++i) {
      const VmRecord& v = *matches[i].vm;
      const HostLabel* host = v.host_id.empty() ? nullptr : d.Host(v.host_id);
      rows.push_back({v.id, v.name, std::string(matches[i].org_name), v.desired, v.observed,
                      v.placement_failure, host ? host->name : std::string(), v.created_at,
                      host ? host->reachable : true, v.generation, v.observed_generation});
    }
  });
  if (!read.ok()) return read.WithContext("reading your VMs");
  return std::make_pair(std::move(rows), total);
}

// --- GET /vms

// The list shows this many VMs a page (with links to the others).
constexpr int64_t kVmsPerPage = 50;

Response VmList(App& app, Request& req) {
  const Principal& me = *req.principal;
  auto ids = UserEntities(app, me, "vm", "read");
  if (!ids.ok()) return UiErrorPage(req, ids.status());
  auto org_ids = UserEntities(app, me, "organization", "view");
  if (!org_ids.ok()) return UiErrorPage(req, org_ids.status());
  auto orgs = OrgNames(app, **org_ids);
  if (!orgs.ok()) return UiErrorPage(req, orgs.status());

  std::string q = req.Query("q"), state = req.Query("state"), org = req.Query("org"),
              sort = req.Query("sort"), desired = req.Query("desired");
  if (sort != "created") sort = "name";
  std::string filter_error;
  int64_t page_number = 1;
  if (std::string text = req.Query("page"); !text.empty()) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), page_number);
    if (ec != std::errc() || end != text.data() + text.size() || page_number < 1 ||
        page_number > 100000) {
      filter_error = "\"" + text + "\" is not a page number; showing the first page.";
      page_number = 1;
    }
  }
  if (!desired.empty() && !domain::ParseVmDesiredState(desired).ok()) {
    filter_error = "\"" + desired + "\" is not a desired state; showing every one.";
    desired.clear();
  }
  if (!state.empty() && !domain::ParseVmObservedState(state).ok()) {
    filter_error = "\"" + state + "\" is not a VM state; showing every state.";
    state.clear();
  }

  auto listed = ListPage(
      app, *ids, {q, state, org, desired, sort, (page_number - 1) * kVmsPerPage, kVmsPerPage});
  if (!listed.ok()) return UiErrorPage(req, listed.status());
  const std::vector<VmListRow>& rows = listed->first;

  Page page;
  page.title = "Virtual machines";
  page.principal = &me;
  page.current = "vms";
  std::string h;
  h.reserve(8192 + rows.size() * 512);  // a row is about 400 bytes
  h += "<h1>Virtual machines</h1>\n";
  if (req.Query("notice") == "deleted") h += NoticeHtml(NoticeKind::kDone, "The VM was deleted.");
  if (!filter_error.empty()) h += NoticeHtml(NoticeKind::kError, filter_error);
  h += "<p><a class=\"button\" href=\"/vms/new\">Create VM</a></p>\n";

  // Filters: a GET form, so the address says what is shown.
  h += "<form method=\"get\" action=\"/vms\" class=\"filters\" role=\"search\" "
       "aria-label=\"Filter VMs\">\n<div><label for=\"f-q\">Name contains</label><input "
       "id=\"f-q\" name=\"q\" type=\"search\" value=\"" +
       HtmlEscape(q) +
       "\"></div>\n<div><label for=\"f-state\">State</label><select id=\"f-state\" "
       "name=\"state\">" +
       OptionHtml("", "any state", state.empty());
  for (const char* s : {"pending", "scheduled", "starting", "running", "stopping", "stopped",
                        "paused", "crashed", "failed", "unknown"}) {
    h += OptionHtml(s, s, state == s);
  }
  h += "</select></div>\n<div><label for=\"f-desired\">Asked to be</label><select "
       "id=\"f-desired\" name=\"desired\">" +
       OptionHtml("", "anything", desired.empty());
  for (const char* s : {"running", "stopped", "paused"}) h += OptionHtml(s, s, desired == s);
  h += "</select></div>\n<div><label for=\"f-org\">Organization</label><select id=\"f-org\" "
       "name=\"org\">" +
       OptionHtml("", "any organization", org.empty());
  for (const OrgChoice& o : *orgs) h += OptionHtml(o.id, o.name, org == o.id);
  h += "</select></div>\n<div><label for=\"f-sort\">Sort by</label><select id=\"f-sort\" "
       "name=\"sort\">" +
       OptionHtml("name", "name", sort == "name") +
       OptionHtml("created", "newest first", sort == "created") +
       "</select></div>\n<div><button type=\"submit\">Show</button></div>\n</form>\n";

  // The results refresh themselves when a VM or organization the user may read changes
  // (ui/static/live.js turns the live-update stream into these events; htmx re-fetches this
  // address and swaps in the same element).
  const std::string filters = "/vms?q=" + UrlEncode(q) + "&state=" + UrlEncode(state) +
                              "&org=" + UrlEncode(org) + "&sort=" + UrlEncode(sort) +
                              (desired.empty() ? "" : "&desired=" + UrlEncode(desired));
  const std::string self = filters + "&page=" + std::to_string(page_number);
  h += LiveRegionStart("vm-list", self, {"vm", "org"});
  if (rows.empty() && page_number > 1) {
    h += "<p id=\"no-vms\">There is no page " + std::to_string(page_number) +
         " of these VMs. <a href=\"" + HtmlEscape(filters) + "\">Go to the first page</a>.</p>\n";
  } else if (rows.empty()) {
    bool filtered = !q.empty() || !state.empty() || !org.empty() || !desired.empty();
    h += std::string("<p id=\"no-vms\">") +
         (filtered ? "No VM you may see matches these filters."
                   : "There are no VMs you may see yet. <a href=\"/vms/new\">Create one</a>.") +
         "</p>\n";
  } else {
    h += "<table class=\"list\" id=\"vms\">\n<caption class=\"sr-only\">" +
         std::to_string(rows.size()) +
         " VMs</caption>\n<thead><tr><th scope=\"col\">Name</th><th "
         "scope=\"col\">Organization</th><th scope=\"col\">Desired</th><th "
         "scope=\"col\">Observed</th><th scope=\"col\">Host</th><th "
         "scope=\"col\">Generation</th><th scope=\"col\">Created</th></tr></thead>\n<tbody>\n";
    for (const VmListRow& row : rows) {
      const std::string& host = row.host_name;
      const bool reachable = row.host_reachable;
      const int64_t gen = row.generation, seen = row.observed_generation;
      h += "<tr data-vm-id=\"" + HtmlEscape(row.id) + "\"><th scope=\"row\"><a href=\"" +
           HtmlEscape("/vms/" + UrlEncode(row.id)) + "\">" + HtmlEscape(row.name) +
           "</a></th><td>" + HtmlEscape(row.org_name) + "</td><td>" + HtmlEscape(row.desired) +
           "</td><td>" + StateHtml(row.observed, row.placement_failure, reachable || host.empty()) +
           "</td><td>" +
           (host.empty() ? std::string("none yet")
                         : HtmlEscape(host) + (reachable ? "" : " (unreachable)")) +
           "</td><td>" + std::to_string(gen) +
           (seen < gen ? " <span class=\"hint\">(host has seen " + std::to_string(seen) + ")</span>"
                       : "") +
           "</td><td>" + TimeHtml(row.created_at) + "</td></tr>\n";
    }
    h += "</tbody>\n</table>\n";
    // Pages of kVmsPerPage; the total counts every VM that matches, not only this page's.
    const int64_t total = listed->second;
    const int64_t first = (page_number - 1) * kVmsPerPage + 1;
    h += "<nav class=\"pager\" aria-label=\"Pages of VMs\"><p id=\"vm-count\">VMs " +
         std::to_string(first) + "–" +
         std::to_string(first + static_cast<int64_t>(rows.size()) - 1) + " of " +
         std::to_string(total) + "</p>";
    if (page_number > 1) {
      h += "<a rel=\"prev\" href=\"" +
           HtmlEscape(filters + "&page=" + std::to_string(page_number - 1)) +
           "\">Previous page</a> ";
    }
    if (first + static_cast<int64_t>(rows.size()) - 1 < total) {
      h += "<a rel=\"next\" href=\"" +
           HtmlEscape(filters + "&page=" + std::to_string(page_number + 1)) + "\">Next page</a>";
    }
    h += "</nav>\n";
  }
  h += LiveRegionEnd();
  page.main_html = std::move(h);
  return PageResponse(200, page);
}

// --- GET /vms/new, POST /vms

struct VmForm {
  std::string org_id, name, description, image = "debian-12", cpu = "1", memory = "512",
                                         disk = "10";
  bool start = true;
  std::map<std::string, std::string> errors;  // field -> sentence
  std::string error;                          // for the whole form
};

std::string InputHtml(const VmForm& f, const std::string& field, const std::string& label,
                      const std::string& value, const std::string& attrs, const std::string& hint) {
  std::string id = "vm-" + field;
  auto err = f.errors.find(field);
  std::string described = "vm-" + field + "-hint";
  if (err != f.errors.end()) described += " vm-" + field + "-error";
  std::string h = "<label for=\"" + id + "\">" + HtmlEscape(label) + "</label>\n<input id=\"" + id +
                  "\" name=\"" + field + "\" " + attrs + " value=\"" + HtmlEscape(value) +
                  "\" aria-describedby=\"" + described + "\"" +
                  (err != f.errors.end() ? " aria-invalid=\"true\"" : "") + ">\n";
  if (err != f.errors.end()) h += FieldErrorHtml("vm-" + field + "-error", err->second);
  h += "<p class=\"hint\" id=\"" + described.substr(0, described.find(' ')) + "\">" +
       HtmlEscape(hint) + "</p>\n";
  return h;
}

Response NewVmPage(App& app, Request& req, int status, const VmForm& f) {
  const Principal& me = *req.principal;
  auto ids = UserEntities(app, me, "organization", "create_vm");
  if (!ids.ok()) return UiErrorPage(req, ids.status());
  auto orgs = OrgNames(app, **ids);
  if (!orgs.ok()) return UiErrorPage(req, orgs.status());

  Page page;
  page.title = "Create a VM";
  page.principal = &me;
  page.current = "vms";
  std::string h =
      "<p class=\"crumbs\"><a href=\"/vms\">Virtual machines</a></p>\n<h1>Create a "
      "VM</h1>\n";
  if (!f.error.empty()) h += NoticeHtml(NoticeKind::kError, f.error);
  if (!f.errors.empty()) {
    h += NoticeHtml(NoticeKind::kError,
                    "The VM was not created: correct the fields marked "
                    "below and submit again.");
  }
  if (orgs->empty()) {
    h += "<p id=\"no-orgs\">You may not create VMs in any organization yet. <a "
         "href=\"/orgs\">Create an organization</a> first, or ask an owner to add you to "
         "theirs.</p>";
    page.main_html = std::move(h);
    return PageResponse(status, page);
  }
  h += "<form method=\"post\" action=\"/vms\" class=\"card\" id=\"create-vm\" novalidate>" +
       CsrfFieldHtml(me);
  {
    auto err = f.errors.find("org_id");
    h += "<label for=\"vm-org_id\">Organization</label>\n<select id=\"vm-org_id\" "
         "name=\"org_id\"" +
         std::string(err != f.errors.end()
                         ? " aria-invalid=\"true\" aria-describedby=\"vm-org_id-error\""
                         : "") +
         ">";
    std::string chosen = f.org_id.empty() && orgs->size() == 1 ? (*orgs)[0].id : f.org_id;
    if (orgs->size() > 1) h += OptionHtml("", "Choose an organization", chosen.empty());
    for (const OrgChoice& o : *orgs) h += OptionHtml(o.id, o.name, chosen == o.id);
    h += "</select>\n";
    if (err != f.errors.end()) h += FieldErrorHtml("vm-org_id-error", err->second);
  }
  h += InputHtml(f, "name", "Name", f.name,
                 "required maxlength=\"63\" autocapitalize=\"none\" spellcheck=\"false\"",
                 "1 to 63 lowercase letters, digits and '-', not starting or ending with '-'; "
                 "unique in the organization.");
  {
    auto err = f.errors.find("description");
    h += "<label for=\"vm-description\">Description <span class=\"optional\">(optional)</span>"
         "</label>\n<textarea id=\"vm-description\" name=\"description\" rows=\"3\" "
         "maxlength=\"1000\"" +
         std::string(err != f.errors.end()
                         ? " aria-invalid=\"true\" aria-describedby=\"vm-description-error\""
                         : "") +
         ">" + HtmlEscape(f.description) + "</textarea>\n";
    if (err != f.errors.end()) h += FieldErrorHtml("vm-description-error", err->second);
  }
  h += InputHtml(f, "image", "Image", f.image, "required maxlength=\"200\" spellcheck=\"false\"",
                 "The name of the disk image to boot, without spaces (e.g. debian-12).");
  h += InputHtml(f, "cpu_count", "CPUs", f.cpu,
                 "type=\"number\" inputmode=\"numeric\" min=\"1\" max=\"64\" required", "1 to 64.");
  h += InputHtml(f, "memory_mb", "Memory (MiB)", f.memory,
                 "type=\"number\" inputmode=\"numeric\" min=\"128\" max=\"262144\" required",
                 "128 to 262144 MiB.");
  h += InputHtml(f, "disk_gb", "Disk (GiB)", f.disk,
                 "type=\"number\" inputmode=\"numeric\" min=\"1\" max=\"16384\" required",
                 "1 to 16384 GiB.");
  h += "<label class=\"check\"><input type=\"checkbox\" name=\"start\" value=\"1\"" +
       std::string(f.start ? " checked" : "") +
       "> Start it once it is placed on a host</label>\n<button type=\"submit\">Create "
       "VM</button>\n</form>";
  page.main_html = std::move(h);
  return PageResponse(status, page);
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
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi) {
    f.errors[field] = what + " must be a whole number from " + std::to_string(lo) + " to " +
                      std::to_string(hi) + unit + "; \"" + text + "\" is not.";
  }
  return v;
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

struct VmRow {
  std::string id, org_id, org_name, owner_id, owner, name, description, image, desired, host_id,
      host_name, placement_failure, observed, observed_error, created_at, updated_at;
  int64_t cpu = 0, memory = 0, disk = 0, generation = 0, observed_generation = 0;
  bool host_reachable = true, deleted = false;
};

Result<std::optional<VmRow>> ReadVm(App& app, const std::string& id) {
  auto db = app.db.Acquire();
  if (!db.ok()) return db.status();
  auto r = (*db)->Exec(
      "SELECT v.vm_id, v.org_id, coalesce(o.name, ''), v.owner_id, coalesce(u.username, ''), "
      "v.name, v.description, v.image, v.desired, coalesce(v.host_id, ''), coalesce(h.name, ''), "
      "coalesce(v.placement_failure, ''), v.observed, coalesce(v.observed_error, ''), " +
          UtcText("v.created_at") + ", " + UtcText("v.updated_at") +
          ", v.cpu_count, v.memory_mb, v.disk_gb, v.generation, v.observed_generation, "
          "coalesce(h.reachable, true), v.deleted FROM vms v LEFT JOIN organizations o ON "
          "o.org_id = v.org_id COLLATE \"default\" LEFT JOIN users u ON u.user_id = v.owner_id "
          "COLLATE \"default\" LEFT JOIN hosts h ON h.host_id = v.host_id COLLATE \"default\" "
          "WHERE v.vm_id = $1",
      {id});
  if (!r.ok()) return r.status().WithContext("reading the VM");
  if (r->rows() == 0) return std::optional<VmRow>();
  VmRow v;
  std::string* text[] = {&v.id,       &v.org_id,         &v.org_name,    &v.owner_id,
                         &v.owner,    &v.name,           &v.description, &v.image,
                         &v.desired,  &v.host_id,        &v.host_name,   &v.placement_failure,
                         &v.observed, &v.observed_error, &v.created_at,  &v.updated_at};
  for (int c = 0; c < 16; ++c) *text[c] = std::string(r->Get(0, c));
  v.cpu = r->GetInt64(0, 16);
  v.memory = r->GetInt64(0, 17);
  v.disk = r->GetInt64(0, 18);
  v.generation = r->GetInt64(0, 19);
  v.observed_generation = r->GetInt64(0, 20);
  v.host_reachable = r->Get(0, 21) == "t";
  v.deleted = r->Get(0, 22) == "t";
  return std::optional<VmRow>(std::move(v));
}

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

std::string HistoryHtml(App& app, const std::string& vm_id) {
  auto db = app.db.Acquire();
  if (!db.ok()) return NoticeHtml(NoticeKind::kError, "The history cannot be read right now.");
  auto r = (*db)->Exec("SELECT " + UtcText("e.recorded_at") +
                           ", strato_event_actor(e.metadata), coalesce(u.username, ''), e.type, "
                           "e.data::text FROM events e LEFT JOIN users u "
                           "ON 'user-' || u.user_id = strato_event_actor(e.metadata) "
                           "WHERE e.stream_id = $1 ORDER BY e.global_position DESC LIMIT 200",
                       {domain::VmStreamId(vm_id)});
  if (!r.ok()) return NoticeHtml(NoticeKind::kError, "The history cannot be read right now.");
  if (r->rows() == 0) return "<p>Nothing has been recorded yet.</p>";
  std::string h =
      "<table class=\"list\" id=\"history\">\n<thead><tr><th "
      "scope=\"col\">When</th><th scope=\"col\">Who</th><th scope=\"col\">What</th>"
      "<th scope=\"col\">Details</th></tr></thead>\n<tbody>\n";
  domain::JsonParser parser;
  for (int i = 0; i < r->rows(); ++i) {
    std::string actor(r->Get(i, 1)), username(r->Get(i, 2));
    std::string who = !username.empty()              ? username
                      : actor == "system"            ? "the system"
                      : actor.rfind("host-", 0) == 0 ? "its host"
                                                     : actor;
    h += "<tr data-type=\"" + HtmlEscape(r->Get(i, 3)) + "\"><td>" + TimeHtml(r->Get(i, 0)) +
         "</td><td>" + HtmlEscape(who) + "</td><td>" + HtmlEscape(EventWords(r->Get(i, 3))) +
         "</td><td class=\"summary\">" +
         HtmlEscape(domain::AuditSummary(r->Get(i, 3), parser.Parse(std::string(r->Get(i, 4))))) +
         "</td></tr>\n";
  }
  return h + "</tbody>\n</table>\n";
}

// "Force stop" -> "force-stop": a stable id, so keyboard focus survives a live refresh.
std::string ActionId(std::string_view label) {
  std::string id;
  for (char c : label) id += c == ' ' ? '-' : static_cast<char>(std::tolower(c));
  return id;
}

std::string ActionButton(const Principal& me, const std::string& base, std::string_view action,
                         std::string_view label, const std::string& vm_name,
                         std::string_view extra_html = "", bool danger = false) {
  // With htmx the form posts in the background and swaps in the VM's state, actions, history
  // and notice from the answer (VmActionForm answers htmx with the page, not a redirect);
  // without it, it is a plain form.
  const std::string url = HtmlEscape(base + "/" + std::string(action));
  return "<form method=\"post\" action=\"" + url + "\" hx-post=\"" + url +
         "\" hx-target=\"#vm-live\" hx-select=\"#vm-live-body\" hx-swap=\"innerHTML\" "
         "hx-select-oob=\"#history,#vm-notice\" class=\"inline\">" +
         CsrfFieldHtml(me) + std::string(extra_html) + "<button type=\"submit\" id=\"action-" +
         ActionId(label) + "\"" + (danger ? " class=\"danger\"" : "") + " aria-label=\"" +
         HtmlEscape(std::string(label) + " VM " + vm_name) + "\">" + HtmlEscape(label) +
         "</button></form>\n";
}

std::string NoticeForAction(std::string_view code) {
  static const std::map<std::string_view, std::string_view> kDone = {
      {"created", "The VM was created."},          {"start", "The VM was asked to start."},
      {"stop", "The VM was asked to stop."},       {"force-stop", "The VM was asked to power off."},
      {"restart", "The VM was asked to restart."}, {"pause", "The VM was asked to pause."},
      {"resume", "The VM was asked to resume."},
  };
  auto it = kDone.find(code);
  return it == kDone.end() ? "" : NoticeHtml(NoticeKind::kDone, it->second);
}

Response VmPage(App& app, Request& req, int status, const std::string& error) {
  const Principal& me = *req.principal;
  const std::string id = req.Param("id");
  auto vm = ReadVm(app, id);
  if (!vm.ok()) return UiErrorPage(req, vm.status());
  if (!vm->has_value()) {
    return UiErrorPage(
        req, Status::NotFound("There is no VM " + id + "; it may not have been created yet."));
  }
  const VmRow& v = **vm;
  const std::string base = "/vms/" + UrlEncode(v.id);

  Page page;
  page.title = "VM " + v.name;
  page.principal = &me;
  page.current = "vms";
  std::string h = "<p class=\"crumbs\"><a href=\"/vms\">Virtual machines</a></p>\n<h1>VM " +
                  HtmlEscape(v.name) + "</h1>\n";
  h += "<div id=\"vm-notice\">" +
       (error.empty() ? NoticeForAction(req.Query("notice"))
                      : NoticeHtml(NoticeKind::kError, error)) +
       "</div>\n";
  if (v.deleted) {
    h += NoticeHtml(NoticeKind::kInfo, "VM " + v.name + " was deleted; its host destroys it.");
  }

  h += "<section aria-labelledby=\"state-heading\">\n<h2 "
       "id=\"state-heading\">State</h2>\n" +
       LiveRegionStart("vm-live", base, {"vm-" + v.id}, "hx-select-oob=\"#history\"") +
       "<dl class=\"facts\" id=\"vm-state\">\n<dt>Desired</dt><dd id=\"desired\">" +
       HtmlEscape(v.desired) + "</dd>\n<dt>Observed</dt><dd id=\"observed\">" +
       StateHtml(v.observed, v.placement_failure, v.host_reachable || v.host_id.empty()) +
       "</dd>\n";
  if (v.desired != v.observed && !v.deleted) {
    h += "<dt>Converging</dt><dd>" +
         std::string(v.host_id.empty() ? "waiting to be placed on a host"
                     : v.observed_generation < v.generation
                         ? "its host has not yet acted on the latest request"
                         : "its host has acted on the latest request but reports another state") +
         "</dd>\n";
  }
  h += "<dt>Host</dt><dd id=\"host\">" +
       (v.host_id.empty() ? std::string("none yet")
                          : HtmlEscape(v.host_name.empty() ? v.host_id : v.host_name) +
                                (v.host_reachable ? " (reachable)" : " (unreachable)")) +
       "</dd>\n<dt>Generation</dt><dd id=\"generation\">" + std::to_string(v.generation) +
       " requested; the host last reported on " + std::to_string(v.observed_generation) +
       "</dd>\n<dt>Last error</dt><dd id=\"last-error\">" +
       (v.observed_error.empty() ? std::string("none") : HtmlEscape(v.observed_error)) +
       "</dd>\n</dl>\n";

  // Actions: only those the user may do and that make sense for the desired state.
  if (!v.deleted) {
    auto may = [&](std::string_view p) { return UserMay(app, me, "vm", v.id, p); };
    const bool running = v.desired == "running", stopped = v.desired == "stopped",
               paused = v.desired == "paused";
    std::string a;
    if (stopped && may("start")) a += ActionButton(me, base, "start", "Start", v.name);
    if (paused && may("start")) a += ActionButton(me, base, "resume", "Resume", v.name);
    if (running && may("restart")) a += ActionButton(me, base, "restart", "Restart", v.name);
    if (running && may("stop")) a += ActionButton(me, base, "pause", "Pause", v.name);
    if ((running || paused) && may("stop")) a += ActionButton(me, base, "stop", "Stop", v.name);
    const bool still_up = stopped && !v.host_id.empty() && v.observed != "stopped";
    if ((running || paused || still_up) && may("stop")) {
      // Destructive: it asks first, naming the VM (kept open across live refreshes).
      a += "<details class=\"confirm danger-zone\" id=\"force-stop\" hx-preserve=\"true\">"
           "<summary>Force stop…</summary>\n<p>Force stop powers VM <strong>" +
           HtmlEscape(v.name) +
           "</strong> off at once, like pulling its power cord: what the guest has not written "
           "to disk is lost. Stop shuts it down cleanly instead.</p>\n" +
           ActionButton(me, base, "stop", "Force stop", v.name,
                        "<input type=\"hidden\" name=\"force\" value=\"1\">", true) +
           "</details>\n";
    }
    if (!a.empty()) h += "<div class=\"actions\" id=\"vm-actions\">\n" + a + "</div>\n";
  }
  h += LiveRegionEnd();  // #vm-live
  if (!v.deleted) {
    auto may = [&](std::string_view p) { return UserMay(app, me, "vm", v.id, p); };
    if (may("delete")) {
      h += "<details class=\"card danger-zone\" id=\"delete-vm\"" +
           std::string(!error.empty() && req.path.ends_with("/delete") ? " open" : "") +
           "><summary>Delete this VM</summary>\n<form method=\"post\" action=\"" +
           HtmlEscape(base + "/delete") + "\">" + CsrfFieldHtml(me) + "<p>Deleting VM <strong>" +
           HtmlEscape(v.name) +
           "</strong> destroys it and its disk on its host. This cannot be undone.</p>\n<label "
           "for=\"confirm-name\">Type the VM's name, <kbd>" +
           HtmlEscape(v.name) +
           "</kbd>, to confirm</label>\n<input id=\"confirm-name\" name=\"confirm_name\" "
           "autocomplete=\"off\" autocapitalize=\"none\" spellcheck=\"false\" required>\n"
           "<button type=\"submit\" class=\"danger\">Delete VM " +
           HtmlEscape(v.name) + "</button>\n</form>\n</details>\n";
    }
  }
  h += "</section>\n";

  h += "<section aria-labelledby=\"spec-heading\">\n<h2 id=\"spec-heading\">Specification</h2>\n"
       "<dl class=\"facts\" id=\"vm-spec\">\n<dt>Organization</dt><dd><a href=\"" +
       HtmlEscape("/orgs/" + UrlEncode(v.org_id)) + "\">" +
       HtmlEscape(v.org_name.empty() ? v.org_id : v.org_name) + "</a></dd>\n<dt>Owner</dt><dd>" +
       HtmlEscape(v.owner.empty() ? v.owner_id : v.owner) +
       "</dd>\n<dt>Description</dt><dd id=\"description\">" +
       (v.description.empty() ? std::string("none") : HtmlEscape(v.description)) +
       "</dd>\n<dt>Image</dt><dd>" + HtmlEscape(v.image) + "</dd>\n<dt>CPUs</dt><dd>" +
       std::to_string(v.cpu) + "</dd>\n<dt>Memory</dt><dd>" + std::to_string(v.memory) +
       " MiB</dd>\n<dt>Disk</dt><dd>" + std::to_string(v.disk) + " GiB</dd>\n<dt>Created</dt><dd>" +
       TimeHtml(v.created_at) + "</dd>\n<dt>Last changed</dt><dd>" + TimeHtml(v.updated_at) +
       "</dd>\n<dt>Id</dt><dd><code>" + HtmlEscape(v.id) + "</code></dd>\n</dl>\n</section>\n";

  h += "<section aria-labelledby=\"history-heading\">\n<h2 id=\"history-heading\">History</h2>\n" +
       HistoryHtml(app, v.id) + "<p><a href=\"" +
       HtmlEscape("/audit?stream=" + UrlEncode("vm-" + v.id)) +
       "\">The whole history in the audit log</a></p>\n</section>";
  page.main_html = std::move(h);
  return PageResponse(status, page);
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
