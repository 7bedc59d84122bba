#include "projections/audit_projection.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <unordered_set>

#include "core/clock.h"

namespace strato::projections {

namespace {

constexpr std::string_view kSecretWords[] = {"secret", "token",     "password",
                                             "key",    "challenge", "signature"};

constexpr const char* kInsertSql =
    "INSERT INTO audit_entries (position, recorded_at, actor, stream_id, type, summary) "
    "SELECT p, 'epoch'::timestamptz + t * interval '1 microsecond', a, s, ty, su "
    "FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[]) "
    "AS u(p, t, a, s, ty, su)";

constexpr const char* kInsertOrgsSql =
    "INSERT INTO audit_stream_organizations (stream_id, organization_id) "
    "SELECT s, o FROM unnest($1::text[], $2::text[]) AS u(s, o) "
    "ON CONFLICT (stream_id) DO NOTHING";

std::string Json(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

// A string shown bare when it is one plain word (ids, names, states), else as JSON.
bool IsPlain(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
           c == ':' || c == '/' || c == '@';
  });
}

// At most `max` characters (UTF-8 code points), "…" appended when cut.
std::string Shorten(std::string_view s, size_t max) {
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;  // continuation byte
    if (chars++ == max) return std::string(s.substr(0, i)) + "\u2026";
  }
  return std::string(s);
}

std::string ShowValue(const rapidjson::Value& v) {
  if (v.IsString()) {
    std::string s =
        Shorten(std::string_view(v.GetString(), v.GetStringLength()), kMaxSummaryValueChars);
    if (IsPlain(s)) return s;
    rapidjson::Value copy(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
    return Json(copy);
  }
  return Json(v);  // numbers and booleans
}

bool IsShown(const rapidjson::Value& v) {
  return v.IsString() || v.IsNumber() || v.IsBool();
}

}  // namespace

bool IsSecretField(std::string_view field_name) {
  std::string lower(field_name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view word : kSecretWords) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

std::string AuditSummary(const events::RecordedEvent& e) {
  std::string out = e.type;
  rapidjson::Document doc;
  doc.Parse(e.data.c_str(), e.data.size());
  if (doc.HasParseError() || !doc.IsObject()) return out;

  std::vector<std::string_view> chosen;
  auto show = [&](std::string_view key, const rapidjson::Value& v) {
    if (chosen.size() >= kMaxSummaryFields || !IsShown(v) || IsSecretField(key)) return;
    if (std::find(chosen.begin(), chosen.end(), key) != chosen.end()) return;
    chosen.push_back(key);
    out += ' ';
    out += key;
    out += '=';
    out += ShowValue(v);
  };
  for (std::string_view field : kSalientFields) {
    auto it = doc.FindMember(rapidjson::Value(
        rapidjson::StringRef(field.data(), static_cast<rapidjson::SizeType>(field.size()))));
    if (it != doc.MemberEnd()) show(field, it->value);
  }
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    show(std::string_view(it->name.GetString(), it->name.GetStringLength()), it->value);
  }
  return out;
}

std::string AuditActor(const events::RecordedEvent& e) {
  rapidjson::Document doc;
  doc.Parse(e.metadata.c_str(), e.metadata.size());
  if (!doc.HasParseError() && doc.IsObject()) {
    auto it = doc.FindMember("actor");
    if (it != doc.MemberEnd() && it->value.IsString() && it->value.GetStringLength() > 0) {
      return std::string(it->value.GetString(), it->value.GetStringLength());
    }
  }
  return "system";
}

std::string AuditStreamOrganization(const events::RecordedEvent& e) {
  if (e.type == "OrganizationCreated" && e.stream_id.rfind("org-", 0) == 0) {
    return e.stream_id.substr(4);
  }
  if (e.type != "VmCreated" || e.stream_id.rfind("vm-", 0) != 0) return "";
  rapidjson::Document doc;
  doc.Parse(e.data.c_str(), e.data.size());
  if (doc.HasParseError() || !doc.IsObject()) return "";
  auto it = doc.FindMember("org_id");
  if (it == doc.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

Status AuditProjection::Apply(events::PgConnection& tx, const events::RecordedEvent& e) {
  return ApplyBatch(tx, std::span<const events::RecordedEvent>(&e, 1));
}

Status AuditProjection::ApplyBatch(events::PgConnection& tx,
                                   std::span<const events::RecordedEvent> es) {
  if (es.empty()) return Status::Ok();
  events::PgArray positions, times, actors, streams, types, summaries;
  events::PgArray org_streams, orgs;
  for (const events::RecordedEvent& e : es) {
    if (std::string org = AuditStreamOrganization(e); !org.empty()) {
      org_streams.Add(e.stream_id);
      orgs.Add(org);
    }
    positions.Add(e.position);
    times.Add(UnixMicros(e.recorded_at));
    actors.Add(AuditActor(e));
    streams.Add(e.stream_id);
    types.Add(e.type);
    summaries.Add(AuditSummary(e));
  }
  auto r = tx.ExecPrepared("audit_insert", kInsertSql,
                           {positions.Literal(), times.Literal(), actors.Literal(),
                            streams.Literal(), types.Literal(), summaries.Literal()});
  if (!r.ok()) return r.status().WithContext("audit entries");
  if (org_streams.size() > 0) {
    auto o = tx.ExecPrepared("audit_orgs_insert", kInsertOrgsSql,
                             {org_streams.Literal(), orgs.Literal()});
    if (!o.ok()) return o.status().WithContext("audit stream organizations");
  }
  return Status::Ok();
}

}  // namespace strato::projections

namespace strato::projections {

namespace {

constexpr const char* kCopyEntriesSql =
    "COPY audit_entries (position, recorded_at, actor, stream_id, type, summary) FROM STDIN";

// Every event is one row, final as soon as it is read.
class AuditBulk final : public BulkFold {
 public:
  Status Add(const events::RecordedEvent& e) override {
    rows_.Add(e.position)
        .Add(FormatRfc3339(e.recorded_at))
        .Add(AuditActor(e))
        .Add(e.stream_id)
        .Add(e.type)
        .Add(AuditSummary(e))
        .EndRow();
    if (std::string org = AuditStreamOrganization(e); !org.empty()) {
      if (org_streams_.insert(e.stream_id).second) {  // the first wins, as ON CONFLICT does
        org_rows_.Add(e.stream_id).Add(org).EndRow();
      }
    }
    return Status::Ok();
  }
  std::vector<CopyChunk> TakeFinal() override {
    if (rows_.rows() == 0) return {};
    std::vector<CopyChunk> out{{kCopyEntriesSql, rows_.data()}};
    rows_ = events::PgCopyText();
    return out;
  }
  Status Write(events::PgConnection& tx) override {
    STRATO_RETURN_IF_ERROR(tx.CopyIn(kCopyEntriesSql, rows_.data()).WithContext("audit entries"));
    return tx
        .CopyIn("COPY audit_stream_organizations (stream_id, organization_id) FROM STDIN",
                org_rows_.data())
        .WithContext("audit stream organizations");
  }

 private:
  events::PgCopyText rows_;
  events::PgCopyText org_rows_;
  std::unordered_set<std::string> org_streams_;
};

}  // namespace

std::unique_ptr<BulkFold> AuditProjection::StartBulk() const {
  return std::make_unique<AuditBulk>();
}

}  // namespace strato::projections
