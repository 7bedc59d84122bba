#include "http/pages/page_audit.h"

#include <rapidjson/document.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/ids.h"
#include "events/log/as_of.h"
#include "http/app/ui_support.h"
#include "http/app/visibility.h"
#include "http/pages/ui_html.h"
#include "projections/queries/page_queries.h"

namespace strato::http {

namespace {

// "2026-11-27T10:31:02.123456Z" → <time datetime="...">2026-11-27 10:31:02 UTC</time>.
std::string WhenHtml(const std::string& rfc3339) {
  std::string shown = rfc3339;
  if (shown.size() >= 19 && shown[10] == 'T') {
    shown = shown.substr(0, 10) + " " + shown.substr(11, 8) + " UTC";
  }
  return "<time datetime=\"" + HtmlEscape(rfc3339) + "\">" + HtmlEscape(shown) + "</time>";
}

// A datetime-local input's value for what was typed: the parsed time to the second when it
// parses ("2026-11-27T10:31:02"), else the text as typed.
std::string LocalValue(const std::string& typed) {
  if (typed.empty()) return "";
  auto t = ParseAuditTime(typed, "time");
  if (!t.ok() || t->size() < 19) return typed;
  return t->substr(0, 19);
}

std::pair<std::string, std::string> Split(const std::string& stream_or_actor) {
  size_t dash = stream_or_actor.find('-');
  if (dash == std::string::npos) return {"", ""};
  return {stream_or_actor.substr(0, dash), stream_or_actor.substr(dash + 1)};
}

// What the read models call the users, hosts, VMs and organizations the entries name, by
// stream/actor id ("user-<id>" → username, "vm-<id>" → VM name, ...), and which VMs are
// deleted.
using Names = projections::EntityNames;

Result<Names> LookUpNames(App& app, const std::vector<AuditEntry>& entries) {
  projections::EntityIdSets ids;
  for (const AuditEntry& e : entries) {
    for (const std::string* s : {&e.actor, &e.stream_id}) {
      auto [category, id] = Split(*s);
      if (id.empty()) continue;
      if (category == "user") ids.users.insert(id);
      if (category == "host") ids.hosts.insert(id);
      if (category == "vm") ids.vms.insert(id);
      if (category == "org") ids.orgs.insert(id);
    }
  }
  auto db = app.db.Acquire();
  if (!db.ok()) return db.status();
  return projections::ReadEntityNames(**db, ids);
}

std::string ActorHtml(const std::string& actor, const Names& names) {
  if (actor == "system") return "system";
  auto [category, id] = Split(actor);
  auto it = names.name.find(actor);
  if (category == "user" && it != names.name.end()) {
    return "<span class=\"actor\" title=\"" + HtmlEscape(actor) + "\">" + HtmlEscape(it->second) +
           "</span>";
  }
  if (category == "host") {
    return "host " + HtmlEscape(it != names.name.end() ? it->second : id);
  }
  return HtmlEscape(actor);
}

// The stream as words ("VM web-1"), linked to its page when the user may open it now; its id
// beside it.
std::string StreamHtml(App& app, const Principal& me, const std::string& stream, const Names& names,
                       std::map<std::string, std::string>& memo) {
  auto found = memo.find(stream);
  if (found != memo.end()) return found->second;
  auto [category, id] = Split(stream);
  auto it = names.name.find(stream);
  std::string label, href;
  if (category == "vm") {
    label = "VM " + (it != names.name.end() ? it->second : id);
    if (names.deleted.count(stream)) label += " (deleted)";
    if (UserMay(app, me, "vm", id, "read")) href = "/vms/" + UrlEncode(id);
  } else if (category == "org") {
    label = "organization " + (it != names.name.end() ? it->second : id);
    if (UserMay(app, me, "organization", id, "view")) href = "/orgs/" + UrlEncode(id);
  } else if (category == "host") {
    label = "host " + (it != names.name.end() ? it->second : id);
  } else if (category == "user") {
    label = "user " + (it != names.name.end() ? it->second : id);
  }
  std::string h;
  if (!label.empty()) {
    h = href.empty() ? HtmlEscape(label)
                     : "<a href=\"" + HtmlEscape(href) + "\">" + HtmlEscape(label) + "</a>";
    h += " ";
  }
  h += "<code class=\"stream\">" + HtmlEscape(stream) + "</code>";
  memo.emplace(stream, h);
  return h;
}

// The filters as a query string (what was typed, so the next page reads the same way).
std::string FilterQuery(const AuditFilterText& t) {
  std::string q;
  auto add = [&q](const char* key, const std::string& value) {
    if (value.empty()) return;
    q += q.empty() ? "" : "&";
    q += std::string(key) + "=" + UrlEncode(value);
  };
  add("actor", t.actor);
  add("stream", t.stream);
  add("type", t.type);
  add("from", t.from);
  add("to", t.to);
  add("limit", t.limit);
  return q;
}

std::string TextField(const char* id, const char* name, const char* label, const std::string& value,
                      const char* attrs = "type=\"text\"") {
  return std::string("<div><label for=\"") + id + "\">" + label + "</label><input id=\"" + id +
         "\" name=\"" + name + "\" " + attrs + " value=\"" + HtmlEscape(value) + "\"></div>\n";
}

std::string FilterFormHtml(const AuditFilterText& t) {
  std::string h =
      "<form method=\"get\" action=\"/audit\" class=\"filters\" role=\"search\" "
      "aria-label=\"Filter the audit log\" id=\"audit-filters\">\n" +
      TextField("f-actor", "actor", "Actor (username)", t.actor) +
      TextField("f-stream", "stream", "Stream (vm-&lt;id&gt;, org-&lt;id&gt;, ...)", t.stream) +
      "<div><label for=\"f-type\">Event type</label><select id=\"f-type\" name=\"type\">" +
      OptionHtml("", "any type", t.type.empty());
  const auto& types = AuditEventTypes();
  bool listed = t.type.empty();
  for (const std::string& type : types) {
    h += OptionHtml(type, type, t.type == type);
    listed = listed || t.type == type;
  }
  if (!listed) h += OptionHtml(t.type, t.type, true);
  h += "</select></div>\n" +
       TextField("f-from", "from", "From (UTC)", LocalValue(t.from),
                 "type=\"datetime-local\" step=\"1\" aria-describedby=\"f-utc\"") +
       TextField("f-to", "to", "Until, not including (UTC)", LocalValue(t.to),
                 "type=\"datetime-local\" step=\"1\" aria-describedby=\"f-utc\"") +
       "<p class=\"hint\" id=\"f-utc\">Times are in UTC.</p>\n"
       "<div><button type=\"submit\">Filter</button> <a href=\"/audit\">Clear</a></div>\n"
       "</form>\n";
  return h;
}

struct AsOf {
  int status = 200;
  std::string html;  // the result or the sentence; empty when nothing was asked
};

// "State as of": the VM's state at the moment, when the user may read its history.
AsOf StateAsOfHtml(App& app, const Principal& me, std::string vm, const std::string& at) {
  AsOf out;
  if (vm.empty() && at.empty()) return out;
  if (vm.rfind("vm-", 0) == 0) vm = vm.substr(3);
  auto fail = [&out](int status, const std::string& sentence) {
    out.status = status;
    out.html = NoticeHtml(NoticeKind::kError, sentence, "state-error");
    return out;
  };
  if (vm.empty()) return fail(400, "Give the VM whose state you want to see.");
  if (vm.size() != 36 || !Uuid::Parse(vm).ok()) {
    return fail(400, "\"" + vm.substr(0, 64) + "\" is not a VM id (a uuid).");
  }
  if (at.empty()) return fail(400, "Give the time to show the VM's state at.");
  auto when = ParseAuditTime(at, "at");
  if (!when.ok()) {
    return fail(400, "\"" + at.substr(0, 64) +
                         "\" is not a time: give it as 2026-11-27T10:31 (UTC) or in RFC 3339.");
  }
  const std::string stream = "vm-" + vm;
  if (!MayReadStream(app, me, stream)) {
    return fail(404, "There is no VM " + vm + " whose history you may read.");
  }
  auto position = events::ResolveAsOf(*app.log, *when);
  if (!position.ok())
    return fail(HttpStatusFor(position.status().code()), position.status().message());
  auto json = events::StateAsOf(*app.log, stream, *position);
  if (!json.ok()) return fail(HttpStatusFor(json.status().code()), json.status().message());
  rapidjson::Document d;
  d.Parse(json->c_str(), json->size());
  if (d.HasParseError() || !d.IsObject()) return fail(500, "The VM's state could not be read.");
  auto str = [&d](const char* key) -> std::string {
    auto it = d.FindMember(key);
    if (it == d.MemberEnd()) return "";
    if (it->value.IsString()) return it->value.GetString();
    if (it->value.IsInt64()) return std::to_string(it->value.GetInt64());
    return "";
  };
  std::string h = "<div id=\"state-as-of\" data-position=\"" + std::to_string(*position) + "\">\n";
  auto exists = d.FindMember("exists");
  if (exists == d.MemberEnd() || !exists->value.IsBool() || !exists->value.GetBool()) {
    h += "<p>VM <code>" + HtmlEscape(vm) + "</code> did not exist yet at " + WhenHtml(*when) +
         ".</p>\n</div>\n";
    out.html = h;
    return out;
  }
  h += "<p>VM <strong>" + HtmlEscape(str("name")) + "</strong> as it was at " + WhenHtml(*when) +
       " (after position " + std::to_string(*position) +
       " of the log):</p>\n<dl class=\"facts\">\n";
  auto fact = [&h](const char* label, const std::string& id, const std::string& value) {
    h += std::string("<dt>") + label + "</dt><dd id=\"asof-" + id + "\">" +
         (value.empty() ? std::string("none") : HtmlEscape(value)) + "</dd>\n";
  };
  fact("Name", "name", str("name"));
  fact("Desired", "desired", str("desired"));
  fact("Observed", "observed", str("observed"));
  fact("Host", "host", str("host_id"));
  fact("Generation", "generation", str("generation"));
  fact("Image", "image", str("image"));
  fact("Description", "description", str("description"));
  auto res = d.FindMember("resources");
  if (res != d.MemberEnd() && res->value.IsObject()) {
    auto num = [&res](const char* key) -> std::string {
      auto it = res->value.FindMember(key);
      return it != res->value.MemberEnd() && it->value.IsInt64()
                 ? std::to_string(it->value.GetInt64())
                 : "";
    };
    fact("Resources", "resources",
         num("cpu_count") + " CPUs, " + num("memory_mb") + " MiB memory, " + num("disk_gb") +
             " GiB disk");
  }
  h += "</dl>\n</div>\n";
  out.html = h;
  return out;
}

std::string StateFormHtml(const std::string& vm, const std::string& at, const AuditFilterText& t) {
  std::string h =
      "<section aria-labelledby=\"state-heading\">\n<h2 id=\"state-heading\">State as of</h2>\n"
      "<form method=\"get\" action=\"/audit\" class=\"filters\" id=\"state-form\">\n";
  // The list's filters come along, so the page keeps showing the same entries.
  for (const auto& [name, value] :
       std::vector<std::pair<const char*, const std::string*>>{{"actor", &t.actor},
                                                               {"stream", &t.stream},
                                                               {"type", &t.type},
                                                               {"from", &t.from},
                                                               {"to", &t.to}}) {
    if (!value->empty()) {
      h += std::string("<input type=\"hidden\" name=\"") + name + "\" value=\"" +
           HtmlEscape(*value) + "\">\n";
    }
  }
  h += TextField("s-vm", "state_vm", "VM id", vm) +
       TextField("s-at", "state_at", "At (UTC)", LocalValue(at),
                 "type=\"datetime-local\" step=\"1\" aria-describedby=\"f-utc\"") +
       "<div><button type=\"submit\">Show state</button></div>\n</form>\n";
  return h;
}

Response AuditPage(App& app, Request& req) {
  const Principal& me = *req.principal;
  const AuditFilterText text = AuditFilterText::FromQuery(req);

  Page page;
  page.title = "Audit log";
  page.principal = &me;
  page.current = "audit";
  int status = 200;
  std::string h = "<h1>Audit log</h1>\n";

  auto query = ParseAuditFilters(app, text);
  if (!query.ok() && query.status().code() != Code::kInvalidArgument) {
    return UiErrorPage(req, query.status());
  }
  if (!query.ok()) {
    status = 400;
    h += NoticeHtml(NoticeKind::kError, query.status().message(), "filter-error");
  }
  h += FilterFormHtml(text);

  // State as of: the VM from the form, else from a vm- stream filter (prefilled, not asked).
  std::string state_vm = req.Query("state_vm"), state_at = req.Query("state_at");
  AsOf as_of = StateAsOfHtml(app, me, state_vm, state_at);
  if (as_of.status != 200 && status == 200) status = as_of.status;
  std::string prefill = state_vm;
  if (prefill.empty() && text.stream.rfind("vm-", 0) == 0) prefill = text.stream.substr(3);
  h += StateFormHtml(prefill, state_at, text) + as_of.html + "</section>\n";

  h += "<section aria-labelledby=\"entries-heading\">\n<h2 id=\"entries-heading\">Entries</h2>\n";
  if (query.ok()) {
    auto page = ReadableAuditEntries(app, me, *query);
    if (!page.ok()) return UiErrorPage(req, page.status());
    const std::vector<AuditEntry>* entries = &page->entries;
    auto names = LookUpNames(app, *entries);
    if (!names.ok()) return UiErrorPage(req, names.status());
    const bool more = page->more;
    const bool filtered = !text.actor.empty() || !text.stream.empty() || !text.type.empty() ||
                          !text.from.empty() || !text.to.empty();
    if (entries->empty()) {
      h += std::string("<p id=\"no-entries\">") +
           (filtered || !text.before.empty() ? "No entry you may read matches these filters."
                                             : "There is nothing you may read in the log yet.") +
           "</p>\n";
    } else {
      h += "<table class=\"list\" id=\"audit-entries\">\n<caption class=\"sr-only\">" +
           std::to_string(entries->size()) +
           " entries, newest first</caption>\n<thead><tr><th scope=\"col\">Time (UTC)</th>"
           "<th scope=\"col\">Actor</th><th scope=\"col\">Stream</th><th scope=\"col\">Event</th>"
           "<th scope=\"col\">Summary</th></tr></thead>\n<tbody>\n";
      std::map<std::string, std::string> memo;
      for (const AuditEntry& e : *entries) {
        h += "<tr data-position=\"" + std::to_string(e.position) + "\" data-type=\"" +
             HtmlEscape(e.type) + "\"><td>" + WhenHtml(e.recorded_at) + "</td><td>" +
             ActorHtml(e.actor, *names) + "</td><td>" +
             StreamHtml(app, me, e.stream_id, *names, memo) + "</td><td>" + HtmlEscape(e.type) +
             "</td><td class=\"summary\">" + HtmlEscape(e.summary) + "</td></tr>\n";
      }
      h += "</tbody>\n</table>\n";
    }
    std::string filters = FilterQuery(text);
    std::string nav;
    if (!text.before.empty()) {
      nav += "<a href=\"" + HtmlEscape("/audit" + (filters.empty() ? "" : "?" + filters)) +
             "\" id=\"newest\">Newest</a> ";
    }
    if (more) {
      nav += "<a href=\"" +
             HtmlEscape("/audit?" + filters + (filters.empty() ? "" : "&") +
                        "before=" + std::to_string(entries->back().position)) +
             "\" id=\"older\" rel=\"next\">Older</a>";
    }
    if (!nav.empty()) h += "<p class=\"pager\">" + nav + "</p>\n";
  }
  h += "</section>\n";
  page.main_html = std::move(h);
  return PageResponse(status, page);
}

}  // namespace

void AddAuditPages(Router& router, App& app) {
  router.Add(AppRoute("GET", "/audit", Access::SignedIn(),
                      "The audit log: the entries the user may read, filters, state as of a time",
                      AuditPage, app));
}

}  // namespace strato::http
