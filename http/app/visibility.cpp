#include "http/app/visibility.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "core/clock.h"
#include "core/ids.h"
#include "core/parse.h"
#include "events/log/event.h"
#include "http/app/app.h"
#include "http/app/permissions.h"

namespace strato::http {

namespace {

// The category and id of "vm-<id>": {"vm", "<id>"}; an empty category when there is no '-'.
std::pair<std::string_view, std::string_view> SplitStream(std::string_view stream_id) {
  size_t dash = stream_id.find('-');
  if (dash == std::string_view::npos || dash + 1 >= stream_id.size()) return {"", ""};
  return {stream_id.substr(0, dash), stream_id.substr(dash + 1)};
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
  auto found = app.queries->StreamOrganization(std::string(stream_id));
  const bool answered = found.ok();
  const std::string org = answered ? found->value_or("") : "";
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

  projections::AuditReadable readable;
  readable.streams.reserve((*vms)->size() + (*orgs)->size() + (*hosts)->size() + 1);
  for (const std::string& id : **vms) readable.streams.push_back("vm-" + id);
  for (const std::string& id : **orgs) readable.streams.push_back("org-" + id);
  for (const std::string& id : **hosts) readable.streams.push_back("host-" + id);
  readable.streams.push_back("user-" + who.user_id);
  readable.organization_ids = **orgs;
  return app.queries->AuditEntries(readable, query);
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
    const std::optional<int64_t> limit =
        text.limit.size() <= 9 ? ParseInt(text.limit, 1, kMaxAuditLimit) : std::nullopt;
    if (!limit) {
      return Status::InvalidArgument("limit \"" + text.limit.substr(0, 64) +
                                     "\" is not a number from 1 to " +
                                     std::to_string(kMaxAuditLimit));
    }
    q.limit = static_cast<int>(*limit);
  }
  if (!text.before.empty()) {
    const std::optional<int64_t> before =
        text.before.size() <= 18 ? ParseInt(text.before, 1) : std::nullopt;
    if (!before) {
      return Status::InvalidArgument("before \"" + text.before.substr(0, 64) +
                                     "\" is not a position of the log (a whole number from 1)");
    }
    q.before_position = *before;
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
    if (!text.type.empty()) {
      const auto& known = AuditEventTypes();
      bool ok = events::ValidateEventType(text.type).ok();
      if (ok && std::find(known.begin(), known.end(), text.type) == known.end()) {
        auto seen = app.queries->EventTypeSeen(text.type);
        if (!seen.ok()) return seen.status();
        ok = *seen;
      }
      if (!ok) {
        return Status::InvalidArgument("type \"" + text.type.substr(0, 64) +
                                       "\" is not an event type (such as VmCreated)");
      }
      q.type = text.type;
    }
    if (!text.actor.empty()) {
      auto user = app.queries->UserIdByUsername(text.actor);
      if (!user.ok()) return user.status();
      auto [category, id] = SplitStream(text.actor);
      if (*user) {
        q.actor = "user-" + **user;
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
