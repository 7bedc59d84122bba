#include "http/app/visibility.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "core/clock.h"
#include "core/domain/audit_line.h"
#include "core/ids.h"
#include "events/log/event.h"
#include "http/app/ui_support.h"

namespace strato::http {

namespace {

// The audit trail is the log itself (schema/migrations/0010): the actor as
// strato_event_actor(metadata) gives it, the summary computed here from the data.
constexpr const char* kEntryColumns =
    "SELECT e.global_position, to_char(e.recorded_at AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), strato_event_actor(e.metadata), e.stream_id, e.type, "
    "e.data::text FROM events e ";

// At most this many readable streams are read one by one (FewStreamsSql), more from the
// log's end (ManyStreamsSql).
constexpr size_t kFewStreams = 1000;

// The filters as they apply to the events `t`: the actor, stream and type ($first to
// $first + 2; '' for any), each as an index of the log is keyed (events_actor, the unique
// (stream_id, stream_version), events_type), and the positions the entries lie between
// ($first + 3 < position < $first + 4: the cursor and the time filters).
std::string EntryFilters(const std::string& t, int first) {
  auto p = [first](int i) { return "$" + std::to_string(first + i); };
  return "(" + p(0) + " = '' OR strato_event_actor(" + t + ".metadata) = " + p(0) + ") AND (" +
         p(1) + " = '' OR " + t + ".stream_id = " + p(1) + ") AND (" + p(2) + " = '' OR " + t +
         ".type = " + p(2) + ") AND " + t + ".global_position > " + p(3) + "::bigint AND " + t +
         ".global_position < " + p(4) + "::bigint ";
}

// Many readable streams ($1), and the organizations whose VM streams are readable ($2): the
// log read from its end, row by row, until `limit` ($8) entries are found — quick when what the
// user may read is a fair part of the log.
std::string ManyStreamsSql() {
  return std::string(kEntryColumns) +
         "WHERE (e.stream_id = ANY($1::text[]) OR e.stream_id IN (SELECT m.stream_id FROM "
         "audit_stream_organizations m WHERE m.organization_id = ANY($2::text[]))) AND " +
         EntryFilters("e", 3) + "ORDER BY e.global_position DESC LIMIT $8";
}

// Few readable streams ($1, every one listed): each stream's newest entries through the
// log's (stream_id, stream_version) key, then the newest `limit` ($7) of those — quick
// however little of a long log the user may read.
std::string FewStreamsSql() {
  return std::string(kEntryColumns) +
         "WHERE e.global_position IN (SELECT x.p FROM (SELECT DISTINCT unnest($1::text[])) AS "
         "s(stream_id) CROSS JOIN LATERAL (SELECT f.global_position AS p FROM events f WHERE "
         "f.stream_id = s.stream_id AND " +
         EntryFilters("f", 2) +
         "ORDER BY f.stream_version DESC LIMIT $7) x ORDER BY x.p DESC LIMIT $7) "
         "ORDER BY e.global_position DESC";
}

// The category and id of "vm-<id>": {"vm", "<id>"}; an empty category when there is no '-'.
std::pair<std::string_view, std::string_view> SplitStream(std::string_view stream_id) {
  size_t dash = stream_id.find('-');
  if (dash == std::string_view::npos || dash + 1 >= stream_id.size()) return {"", ""};
  return {stream_id.substr(0, dash), stream_id.substr(dash + 1)};
}

bool AllDigits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

bool IsUuidText(std::string_view s) {
  return s.size() == 36 && Uuid::Parse(s).ok();
}

}  // namespace

std::string StreamOrganizations::Find(const App& app, std::string_view stream_id) {
  const TimePoint now = app.clock.Now();
  {
    std::shared_lock lock(mu_);
    auto it = known_.find(std::string(stream_id));
    if (it != known_.end()) return it->second;
    auto miss = missing_.find(std::string(stream_id));
    if (miss != missing_.end() && now - miss->second < kRetryMissAfter) return "";
  }
  std::string org;
  bool answered = false;
  if (auto db = app.db.Acquire(); db.ok()) {
    auto r =
        (*db)->Exec("SELECT organization_id FROM audit_stream_organizations WHERE stream_id = $1",
                    {std::string(stream_id)});
    if (r.ok()) {
      answered = true;
      if (r->rows() > 0) org = std::string(r->Get(0, 0));
    }
  }
  if (!answered) return "";  // not remembered: the next call asks again
  std::unique_lock lock(mu_);
  if (!org.empty()) {
    known_.emplace(std::string(stream_id), org);
    missing_.erase(std::string(stream_id));
  } else {
    if (missing_.size() >= kMaxMisses) missing_.clear();
    missing_[std::string(stream_id)] = now;
  }
  return org;
}

Result<AuditEntriesPage> ReadableAuditEntries(const App& app, const Principal& who,
                                              const AuditQuery& query) {
  if (query.limit < 1 || query.limit > kMaxAuditLimit) {
    return Status::InvalidArgument("limit must be between 1 and " + std::to_string(kMaxAuditLimit));
  }
  auto vms = UserEntities(app, who, "vm", "read");
  if (!vms.ok()) return vms.status();
  auto orgs = UserEntities(app, who, "organization", "view");
  if (!orgs.ok()) return orgs.status();
  auto hosts = UserEntities(app, who, "host", "read");
  if (!hosts.ok()) return hosts.status();

  events::PgArray streams, org_ids;
  for (const std::string& id : **vms) streams.Add("vm-" + id);
  for (const std::string& id : **orgs) {
    streams.Add("org-" + id);
    org_ids.Add(id);
  }
  for (const std::string& id : **hosts) streams.Add("host-" + id);
  streams.Add("user-" + who.user_id);

  auto db = app.db.Acquire();
  if (!db.ok()) return db.status();
  // The positions the entries lie between, exclusive: the cursor, and the time filters (from
  // is inclusive, to exclusive) as positions.
  int64_t after = 0;
  int64_t before =
      query.before_position > 0 ? query.before_position : std::numeric_limits<int64_t>::max();
  auto position_before = [&](const std::string& when) -> Result<int64_t> {
    auto p = (*db)->Exec("SELECT strato_log_position_before($1::timestamptz)", {when});
    if (!p.ok()) return p.status().WithContext("reading the audit log");
    return p->GetInt64(0, 0);
  };
  if (!query.from.empty()) {
    auto p = position_before(query.from);
    if (!p.ok()) return p.status();
    after = *p;
  }
  if (!query.to.empty()) {
    auto p = position_before(query.to);
    if (!p.ok()) return p.status();
    before = std::min(before, *p + 1);
  }
  AuditEntriesPage out;
  if (after + 1 >= before) return out;
  // The VM streams of the organizations `who` may view, when they are few.
  bool few = streams.size() <= kFewStreams;
  if (few && org_ids.size() > 0) {
    auto more = (*db)->Exec(
        "SELECT stream_id FROM audit_stream_organizations WHERE organization_id = ANY($1::text[]) "
        "LIMIT $2",
        {org_ids.Literal(), std::to_string(kFewStreams + 1 - streams.size())});
    if (!more.ok()) return more.status().WithContext("reading the audit log");
    few = streams.size() + static_cast<size_t>(more->rows()) <= kFewStreams;
    for (int i = 0; few && i < more->rows(); ++i) streams.Add(more->Get(i, 0));
  }
  const std::vector<std::string> filters = {
      query.actor,           query.stream_id,        query.type,
      std::to_string(after), std::to_string(before), std::to_string(query.limit + 1)};
  std::vector<std::string> params = {streams.Literal()};
  if (!few) params.push_back(org_ids.Literal());
  params.insert(params.end(), filters.begin(), filters.end());
  auto r = (*db)->Exec(few ? FewStreamsSql() : ManyStreamsSql(), params);
  if (!r.ok()) return r.status().WithContext("reading the audit log");
  out.more = r->rows() > query.limit;
  const int rows = std::min(r->rows(), query.limit);
  out.entries.reserve(static_cast<size_t>(rows));
  domain::JsonParser parser;
  for (int i = 0; i < rows; ++i) {
    AuditEntry e;
    e.position = r->GetInt64(i, 0);
    e.recorded_at = std::string(r->Get(i, 1));
    e.actor = std::string(r->Get(i, 2));
    e.stream_id = std::string(r->Get(i, 3));
    e.type = std::string(r->Get(i, 4));
    e.summary = domain::AuditSummary(e.type, parser.Parse(std::string(r->Get(i, 5))));
    out.entries.push_back(std::move(e));
  }
  return out;
}

bool MayReadStream(const App& app, const Principal& who, std::string_view stream_id) {
  auto [category, id] = SplitStream(stream_id);
  if (id.empty()) return false;
  if (category == "user") return !who.user_id.empty() && id == who.user_id;
  if (category == "org") return UserMay(app, who, "organization", id, "view");
  if (category == "host") return UserMay(app, who, "host", id, "read");
  if (category != "vm") return false;
  if (UserMay(app, who, "vm", id, "read")) return true;
  // Deleted (its tuples are gone) or only visible through its organization.
  if (app.stream_organizations == nullptr) return false;
  std::string org = app.stream_organizations->Find(app, stream_id);
  return !org.empty() && UserMay(app, who, "organization", org, "view");
}

const std::vector<std::string>& AuditEventTypes() {
  // schema/events.md, "Catalogue", in its order.
  static const std::vector<std::string> kTypes = {
      "OrganizationCreated",
      "OrganizationRenamed",
      "MemberAdded",
      "MemberRemoved",
      "OwnershipTransferred",
      "UserRegistered",
      "UsernameReserved",
      "UserDisplayNameChanged",
      "PasskeyAdded",
      "PasskeyReserved",
      "PasskeyRemoved",
      "UserSignedIn",
      "UserSignInFailed",
      "HostRegistered",
      "HostCapacityUpdated",
      "HostCordoned",
      "HostUncordoned",
      "HostUnreachable",
      "HostReachable",
      "VmCreated",
      "VmNameReserved",
      "VmNameReleased",
      "VmStartRequested",
      "VmStopRequested",
      "VmRestartRequested",
      "VmPauseRequested",
      "VmResumeRequested",
      "VmResized",
      "VmRenamed",
      "VmDeleteRequested",
      "VmScheduled",
      "VmPlacementFailed",
      "VmObserved",
  };
  return kTypes;
}

Result<std::string> ParseAuditTime(std::string_view text, std::string_view what) {
  std::string t(text);
  // datetime-local: "YYYY-MM-DDTHH:MM", optionally ":SS" and a fraction, no zone: UTC.
  const bool has_zone = t.size() > 10 && (t.back() == 'Z' || t.back() == 'z' ||
                                          t.find_first_of("+-", 11) != std::string::npos);
  if (!has_zone) {
    if (t.size() == 16) t += ":00";
    t += "Z";
  }
  auto when = ParseRfc3339(t, what);
  if (!when.ok() && when.status().message().find("outside the years") != std::string::npos) {
    return Status::InvalidArgument(std::string(what) + " \"" + std::string(text.substr(0, 64)) +
                                   "\" is outside the years 1970 to 2200");
  }
  if (!when.ok()) {
    return Status::InvalidArgument(std::string(what) + " \"" + std::string(text.substr(0, 64)) +
                                   "\" is not a time: give it as 2026-11-27T10:31 (UTC) or in RFC "
                                   "3339, e.g. 2026-11-27T10:31:00Z");
  }
  return FormatRfc3339(*when);
}

Result<AuditQuery> ParseAuditFilters(const App& app, const AuditFilterText& text) {
  AuditQuery q;
  if (!text.limit.empty()) {
    if (!AllDigits(text.limit) || text.limit.size() > 9 || std::stoll(text.limit) < 1 ||
        std::stoll(text.limit) > kMaxAuditLimit) {
      return Status::InvalidArgument("limit \"" + text.limit.substr(0, 64) +
                                     "\" is not a number from 1 to " +
                                     std::to_string(kMaxAuditLimit));
    }
    q.limit = static_cast<int>(std::stoll(text.limit));
  }
  if (!text.before.empty()) {
    if (!AllDigits(text.before) || text.before.size() > 18 || std::stoll(text.before) < 1) {
      return Status::InvalidArgument("before \"" + text.before.substr(0, 64) +
                                     "\" is not a position of the log (a whole number from 1)");
    }
    q.before_position = std::stoll(text.before);
  }
  if (!text.stream.empty()) {
    if (!events::ValidateStreamId(text.stream).ok() || SplitStream(text.stream).second.empty()) {
      return Status::InvalidArgument("stream \"" + text.stream.substr(0, 64) +
                                     "\" is not a stream id such as vm-<id> or org-<id>");
    }
    q.stream_id = text.stream;
  }
  if (!text.from.empty()) {
    auto from = ParseAuditTime(text.from, "from");
    if (!from.ok()) return from.status();
    q.from = *from;
  }
  if (!text.to.empty()) {
    auto to = ParseAuditTime(text.to, "to");
    if (!to.ok()) return to.status();
    q.to = *to;
  }
  if (!text.type.empty() || !text.actor.empty()) {
    auto db = app.db.Acquire();
    if (!db.ok()) return db.status();
    if (!text.type.empty()) {
      const auto& known = AuditEventTypes();
      bool ok = events::ValidateEventType(text.type).ok();
      if (ok && std::find(known.begin(), known.end(), text.type) == known.end()) {
        auto r = (*db)->Exec("SELECT 1 FROM events WHERE type = $1 LIMIT 1", {text.type});
        if (!r.ok()) return r.status().WithContext("reading the audit log");
        ok = r->rows() > 0;
      }
      if (!ok) {
        return Status::InvalidArgument("type \"" + text.type.substr(0, 64) +
                                       "\" is not an event type (such as VmCreated)");
      }
      q.type = text.type;
    }
    if (!text.actor.empty()) {
      auto r = (*db)->Exec("SELECT user_id FROM users WHERE username = $1", {text.actor});
      if (!r.ok()) return r.status().WithContext("reading users");
      auto [category, id] = SplitStream(text.actor);
      if (r->rows() > 0) {
        q.actor = "user-" + std::string(r->Get(0, 0));
      } else if (text.actor == "system" ||
                 ((category == "user" || category == "host") && IsUuidText(id))) {
        q.actor = text.actor;
      } else {
        return Status::InvalidArgument("actor: there is no user named \"" +
                                       text.actor.substr(0, 64) + "\"");
      }
    }
  }
  return q;
}

AuditFilterText AuditFilterText::FromQuery(const Request& req) {
  AuditFilterText t;
  t.actor = req.Query("actor");
  t.stream = req.Query("stream");
  t.type = req.Query("type");
  t.from = req.Query("from");
  t.to = req.Query("to");
  t.before = req.Query("before");
  t.limit = req.Query("limit");
  return t;
}

}  // namespace strato::http
