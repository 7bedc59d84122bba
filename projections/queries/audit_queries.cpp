#include "projections/queries/audit_queries.h"

#include <algorithm>
#include <limits>

#include "core/domain/audit_line.h"

namespace strato::projections {

namespace {

// One row of (position, recorded_at, actor, stream_id, type, data) as an entry with its sentence.
AuditEntry AuditEntryAt(const events::PgResult& r, int i, domain::JsonParser& parser) {
  AuditEntry e;
  e.position = r.GetInt64(i, 0);
  e.recorded_at = std::string(r.Get(i, 1));
  e.actor = std::string(r.Get(i, 2));
  e.stream_id = std::string(r.Get(i, 3));
  e.type = std::string(r.Get(i, 4));
  e.summary = domain::AuditSummary(e.type, parser.Parse(std::string(r.Get(i, 5))));
  return e;
}

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

}  // namespace

Result<AuditEntriesPage> ReadAuditEntries(events::PgConnection& db, const AuditReadable& readable,
                                          const AuditQuery& query) {
  if (query.limit < 1 || query.limit > kMaxAuditLimit) {
    return Status::InvalidArgument("limit must be between 1 and " + std::to_string(kMaxAuditLimit));
  }
  events::PgArray streams, org_ids;
  for (const std::string& s : readable.streams) streams.Add(s);
  for (const std::string& id : readable.organization_ids) org_ids.Add(id);
  // The positions the entries lie between, exclusive: the cursor, and the time filters (from
  // is inclusive, to exclusive) as positions.
  int64_t after = 0;
  int64_t before =
      query.before_position > 0 ? query.before_position : std::numeric_limits<int64_t>::max();
  auto position_before = [&](const std::string& when) -> Result<int64_t> {
    auto p = db.Exec("SELECT strato_log_position_before($1::timestamptz)", {when});
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
  // The VM streams of the organizations the reader may view, when they are few.
  bool few = streams.size() <= kFewStreams;
  if (few && org_ids.size() > 0) {
    auto more = db.Exec(
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
  auto r = db.Exec(few ? FewStreamsSql() : ManyStreamsSql(), params);
  if (!r.ok()) return r.status().WithContext("reading the audit log");
  out.more = r->rows() > query.limit;
  const int rows = std::min(r->rows(), query.limit);
  out.entries.reserve(static_cast<size_t>(rows));
  domain::JsonParser parser;
  for (int i = 0; i < rows; ++i) {
    out.entries.push_back(AuditEntryAt(*r, i, parser));
  }
  return out;
}

Result<std::optional<std::string>> ReadStreamOrganization(events::PgConnection& db,
                                                          const std::string& stream_id) {
  auto r = db.Exec("SELECT organization_id FROM audit_stream_organizations WHERE stream_id = $1",
                   {stream_id});
  if (!r.ok()) return r.status().WithContext("reading the organization of " + stream_id);
  if (r->rows() == 0) return std::optional<std::string>();
  return std::optional<std::string>(std::string(r->Get(0, 0)));
}

Result<bool> ReadEventTypeSeen(events::PgConnection& db, const std::string& type) {
  auto r = db.Exec("SELECT 1 FROM events WHERE type = $1 LIMIT 1", {type});
  if (!r.ok()) return r.status().WithContext("reading the audit log");
  return r->rows() > 0;
}

Result<std::vector<AuditEntry>> ReadStreamHistory(events::PgConnection& db,
                                                  const std::string& stream_id, HistoryOrder order,
                                                  int limit) {
  std::string sql =
      std::string(kEntryColumns) + "WHERE e.stream_id = $1 ORDER BY e.global_position";
  if (order == HistoryOrder::kNewestFirst) sql += " DESC";
  std::vector<std::string> params = {stream_id};
  if (limit > 0) {
    sql += " LIMIT $2";
    params.push_back(std::to_string(limit));
  }
  auto r = db.Exec(sql, params);
  if (!r.ok()) return r.status().WithContext("reading the history of " + stream_id);
  std::vector<AuditEntry> out;
  out.reserve(static_cast<size_t>(r->rows()));
  domain::JsonParser parser;
  for (int i = 0; i < r->rows(); ++i) {
    out.push_back(AuditEntryAt(*r, i, parser));
  }
  return out;
}

}  // namespace strato::projections
