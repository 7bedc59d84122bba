#include "http/pages/page_audit.h"

#include <rapidjson/document.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/ids.h"
#include "events/log/as_of.h"
#include "http/app/permissions.h"
#include "http/app/visibility.h"
#include "http/pages/ui_html.h"
#include "projections/queries/page_queries.h"

namespace strato::http {

namespace {

// The view of {{> _time}} to the second: "2026-11-27T10:31:02.123456Z" is shown
// "2026-11-27 10:31:02 UTC".
View WhenView(const std::string& rfc3339) {
  std::string shown = rfc3339;
  if (shown.size() >= 19 && shown[10] == 'T') {
    shown = shown.substr(0, 10) + " " + shown.substr(11, 8) + " UTC";
  }
  View v = ViewObject();
  v.set("datetime", rfc3339);
  Put(v, "shown", std::move(shown));
  return v;
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

// The actor's part of an entry's view: a user by username (with the actor id as its title),
// a host by name, anyone else as the log names them.
void SetActorView(const std::string& actor, const Names& names, View& row) {
  auto [category, id] = Split(actor);
  auto it = names.name.find(actor);
  row.set("actor", actor);
  const bool user = actor != "system" && category == "user" && it != names.name.end();
  row.set("actor_user", user ? Text(it->second) : Flag(false));
  std::string text = actor;
  if (category == "host" && actor != "system") {
    text = "host " + (it != names.name.end() ? it->second : id);
  }
  row.set("actor_text", text);
}

// The stream as words ("VM web-1"), linked to its page when the user may open it now.
struct StreamLabel {
  std::string label, href;  // "" when the stream has no words or no page
};

StreamLabel LabelStream(App& app, const Principal& me, const std::string& stream,
                        const Names& names, std::map<std::string, StreamLabel>& memo) {
  auto found = memo.find(stream);
  if (found != memo.end()) return found->second;
  auto [category, id] = Split(stream);
  auto it = names.name.find(stream);
  StreamLabel out;
  if (category == "vm") {
    out.label = "VM " + (it != names.name.end() ? it->second : id);
    if (names.deleted.count(stream)) out.label += " (deleted)";
    if (UserMay(app, me, "vm", id, "read")) out.href = "/vms/" + UrlEncode(id);
  } else if (category == "org") {
    out.label = "organization " + (it != names.name.end() ? it->second : id);
    if (UserMay(app, me, "organization", id, "view")) out.href = "/orgs/" + UrlEncode(id);
  } else if (category == "host") {
    out.label = "host " + (it != names.name.end() ? it->second : id);
  } else if (category == "user") {
    out.label = "user " + (it != names.name.end() ? it->second : id);
  }
  memo.emplace(stream, out);
  return out;
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

// The filter form's part of the view: what was typed, the event types to choose from.
void SetFilterFormView(const AuditFilterText& t, View& v) {
  v.set("actor", t.actor);
  v.set("stream", t.stream);
  View options = ViewList();
  Append(options, OptionView("", "any type", t.type.empty()));
  bool listed = t.type.empty();
  for (const std::string& type : AuditEventTypes()) {
    Append(options, OptionView(type, type, t.type == type));
    listed = listed || t.type == type;
  }
  if (!listed) Append(options, OptionView(t.type, t.type, true));
  Put(v, "type_options", std::move(options));
  Put(v, "from_value", LocalValue(t.from));
  Put(v, "to_value", LocalValue(t.to));
}

struct AsOf {
  int status = 200;
  View error = Flag(false);  // the sentence's notice, when it cannot be shown
  View state = Flag(false);  // the state, when it can
};

// "State as of": the VM's state at the moment, when the user may read its history.
AsOf StateAsOfView(App& app, const Principal& me, std::string vm, const std::string& at) {
  AsOf out;
  if (vm.empty() && at.empty()) return out;
  if (vm.rfind("vm-", 0) == 0) vm = vm.substr(3);
  auto fail = [&out](int status, const std::string& sentence) {
    out.status = status;
    out.error = NoticeView(NoticeKind::kError, sentence, "state-error");
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
  View state = ViewObject();
  Put(state, "position", Number(*position));
  Put(state, "vm", std::move(vm));
  Put(state, "when", WhenView(*when));
  auto exists = d.FindMember("exists");
  const bool existed = exists != d.MemberEnd() && exists->value.IsBool() && exists->value.GetBool();
  Put(state, "exists", Flag(existed));
  state.set("name", str("name"));
  View facts = ViewList();
  auto fact = [&facts](const char* label, const char* id, const std::string& value) {
    View f = ViewObject();
    Put(f, "label", Text(label));
    Put(f, "id", Text(id));
    Put(f, "value", Maybe(value));
    Append(facts, std::move(f));
  };
  if (existed) {
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
  }
  Put(state, "facts", std::move(facts));
  out.state = std::move(state);
  return out;
}

// The state form's part of the view: the VM and time asked for, and the list's filters as
// hidden fields (so the page keeps showing the same entries).
void SetStateFormView(const std::string& vm, const std::string& at, const AuditFilterText& t,
                      View& v) {
  View hidden = ViewList();
  for (const auto& [name, value] :
       std::vector<std::pair<const char*, const std::string*>>{{"actor", &t.actor},
                                                               {"stream", &t.stream},
                                                               {"type", &t.type},
                                                               {"from", &t.from},
                                                               {"to", &t.to}}) {
    if (value->empty()) continue;
    View field = ViewObject();
    Put(field, "name", Text(name));
    field.set("value", *value);
    Append(hidden, std::move(field));
  }
  Put(v, "hidden", std::move(hidden));
  Put(v, "state_vm", std::move(vm));
  Put(v, "state_at", LocalValue(at));
}

// The entries' part of the view: the table, or a sentence when none match, and the links to
// the newest and the older entries.
Status SetEntriesView(App& app, const Principal& me, const AuditFilterText& text,
                      const AuditQuery& query, View& v) {
  auto page = ReadableAuditEntries(app, me, query);
  if (!page.ok()) return page.status();
  const std::vector<AuditEntry>& entries = page->entries;
  auto names = LookUpNames(app, entries);
  if (!names.ok()) return names.status();
  const bool filtered = !text.actor.empty() || !text.stream.empty() || !text.type.empty() ||
                        !text.from.empty() || !text.to.empty();
  v.set("no_entries", entries.empty() ? Text(filtered || !text.before.empty()
                                                 ? "No entry you may read matches these filters."
                                                 : "There is nothing you may read in the log yet.")
                                      : Flag(false));
  Put(v, "has_entries", Flag(!entries.empty()));
  Put(v, "count", Number(static_cast<int64_t>(entries.size())));
  View rows = ViewList();
  std::map<std::string, StreamLabel> memo;
  for (const AuditEntry& e : entries) {
    View row = ViewObject();
    Put(row, "position", Number(e.position));
    row.set("type", e.type);
    Put(row, "when", WhenView(e.recorded_at));
    SetActorView(e.actor, *names, row);
    StreamLabel stream = LabelStream(app, me, e.stream_id, *names, memo);
    Put(row, "stream_label", Maybe(stream.label));
    Put(row, "stream_href", Maybe(stream.href));
    row.set("stream_id", e.stream_id);
    row.set("summary", e.summary);
    Append(rows, std::move(row));
  }
  Put(v, "entries", std::move(rows));
  const std::string filters = FilterQuery(text);
  std::string newest, older;
  if (!text.before.empty()) newest = "/audit" + (filters.empty() ? "" : "?" + filters);
  if (page->more) {
    older = "/audit?" + filters + (filters.empty() ? "" : "&") +
            "before=" + std::to_string(entries.back().position);
  }
  Put(v, "pager", Flag(!newest.empty() || !older.empty()));
  Put(v, "newest_href", Maybe(newest));
  Put(v, "older_href", Maybe(older));
  return Status::Ok();
}

Response AuditPage(App& app, Request& req) {
  const Principal& me = *req.principal;
  // Parse: the filters as typed, and the state asked for.
  const AuditFilterText text = AuditFilterText::FromQuery(req);
  auto query = ParseAuditFilters(app, text);
  if (!query.ok() && query.status().code() != Code::kInvalidArgument) {
    return UiErrorPage(req, query.status());
  }
  int status = query.ok() ? 200 : 400;
  const std::string state_vm = req.Query("state_vm"), state_at = req.Query("state_at");

  View v = PageView(&me);
  v.set("filter_error",
        query.ok() ? Flag(false)
                   : NoticeView(NoticeKind::kError, query.status().message(), "filter-error"));
  SetFilterFormView(text, v);
  // State as of: the VM from the form, else from a vm- stream filter (prefilled, not asked).
  AsOf as_of = StateAsOfView(app, me, state_vm, state_at);
  if (as_of.status != 200 && status == 200) status = as_of.status;
  std::string prefill = state_vm;
  if (prefill.empty() && text.stream.rfind("vm-", 0) == 0) prefill = text.stream.substr(3);
  SetStateFormView(prefill, state_at, text, v);
  v.set("state_error", as_of.error);
  v.set("as_of", as_of.state);
  // The entries, when the filters make sense.
  Put(v, "no_entries", Flag(false));
  Put(v, "has_entries", Flag(false));
  Put(v, "pager", Flag(false));
  if (query.ok()) {
    Status read = SetEntriesView(app, me, text, *query, v);
    if (!read.ok()) return UiErrorPage(req, read);
  }
  return TemplatePage(status, {"Audit log", &me, "audit", {}, ""}, "audit", v);
}

}  // namespace

void AddAuditPages(Router& router, App& app) {
  router.Add(AppRoute("GET", "/audit", Access::SignedIn(),
                      "The audit log: the entries the user may read, filters, state as of a time",
                      AuditPage, app));
}

}  // namespace strato::http
