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

// Appends `v` as compact JSON.
void AppendJson(std::string& out, const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  out.append(buf.GetString(), buf.GetSize());
}

// A string shown bare when it is one plain word (ids, names, states), else as JSON.
bool IsPlain(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
           c == ':' || c == '/' || c == '@';
  });
}

// At most `max` characters (UTF-8 code points) of `s`, and whether it was cut.
std::string_view Shorten(std::string_view s, size_t max, bool* cut) {
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;  // continuation byte
    if (chars++ == max) {
      *cut = true;
      return s.substr(0, i);
    }
  }
  *cut = false;
  return s;
}

// Appends a value as a summary shows it: strings shortened ("…" appended when cut), bare when
// plain, else quoted as JSON; numbers and booleans as JSON.
void AppendValue(std::string& out, const rapidjson::Value& v) {
  if (!v.IsString()) {
    if (v.IsInt64()) {
      out += std::to_string(v.GetInt64());
    } else {
      AppendJson(out, v);
    }
    return;
  }
  bool cut = false;
  std::string_view shown =
      Shorten(std::string_view(v.GetString(), v.GetStringLength()), kMaxSummaryValueChars, &cut);
  if (!cut && IsPlain(shown)) {
    out += shown;
    return;
  }
  std::string s(shown);
  if (cut) s += "\u2026";  // never plain: quoted
  AppendJson(out, rapidjson::Value(rapidjson::StringRef(s.data(), s.size())));
}

bool IsShown(const rapidjson::Value& v) {
  return v.IsString() || v.IsNumber() || v.IsBool();
}

const rapidjson::Value* Member(const rapidjson::Value& object, std::string_view key) {
  auto it = object.FindMember(rapidjson::Value(
      rapidjson::StringRef(key.data(), static_cast<rapidjson::SizeType>(key.size()))));
  return it == object.MemberEnd() ? nullptr : &it->value;
}

}  // namespace

bool IsSecretField(std::string_view field_name) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  for (std::string_view word : kSecretWords) {
    auto hit = std::search(field_name.begin(), field_name.end(), word.begin(), word.end(),
                           [&](char a, char b) { return lower(a) == b; });
    if (hit != field_name.end()) return true;
  }
  return false;
}

std::string AuditSummary(std::string_view type, const rapidjson::Value& data) {
  std::string out(type);
  if (!data.IsObject()) return out;
  std::string_view chosen[kMaxSummaryFields];
  size_t count = 0;
  auto show = [&](std::string_view key, const rapidjson::Value& v) {
    if (count >= kMaxSummaryFields || !IsShown(v) || IsSecretField(key)) return;
    if (std::find(chosen, chosen + count, key) != chosen + count) return;
    chosen[count++] = key;
    out += ' ';
    out += key;
    out += '=';
    AppendValue(out, v);
  };
  for (std::string_view field : kSalientFields) {
    if (const rapidjson::Value* v = Member(data, field)) show(field, *v);
  }
  for (auto it = data.MemberBegin(); it != data.MemberEnd() && count < kMaxSummaryFields; ++it) {
    show(std::string_view(it->name.GetString(), it->name.GetStringLength()), it->value);
  }
  return out;
}

std::string AuditSummary(const events::RecordedEvent& e) {
  rapidjson::Document doc;
  doc.Parse(e.data.c_str(), e.data.size());
  if (doc.HasParseError()) doc.SetNull();
  return AuditSummary(e.type, doc);
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

std::string AuditStreamOrganization(const events::RecordedEvent& e, const rapidjson::Value& data) {
  if (e.type == "OrganizationCreated" && e.stream_id.rfind("org-", 0) == 0) {
    return e.stream_id.substr(4);
  }
  if (e.type != "VmCreated" || e.stream_id.rfind("vm-", 0) != 0 || !data.IsObject()) return "";
  const rapidjson::Value* org = Member(data, "org_id");
  if (org == nullptr || !org->IsString()) return "";
  return std::string(org->GetString(), org->GetStringLength());
}

std::string AuditStreamOrganization(const events::RecordedEvent& e) {
  if (e.type != "VmCreated") return AuditStreamOrganization(e, rapidjson::Value());
  rapidjson::Document doc;
  doc.Parse(e.data.c_str(), e.data.size());
  if (doc.HasParseError()) doc.SetNull();
  return AuditStreamOrganization(e, doc);
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
    "COPY audit_entries (position, recorded_at, actor, stream_id, type, summary) FROM STDIN "
    "(FORMAT binary)";

// Every event is one row, final as soon as it is read. In COPY's binary format: a million of
// them is a good part of a rebuild's work for PostgreSQL, and binary rows need no parsing.
class AuditBulk final : public BulkFold {
 public:
  Status Add(const FoldEvent& f) override {
    const events::RecordedEvent& e = f.event;
    rows_.Add(e.position)
        .AddTime(e.recorded_at)
        .Add(f.actor.empty() ? std::string_view("system") : f.actor)
        .Add(e.stream_id)
        .Add(e.type)
        .Add(AuditSummary(e.type, f.data))
        .EndRow();
    if (std::string org = AuditStreamOrganization(e, f.data); !org.empty()) {
      if (org_streams_.insert(e.stream_id).second) {  // the first wins, as ON CONFLICT does
        org_rows_.Add(e.stream_id).Add(org).EndRow();
      }
    }
    return Status::Ok();
  }
  std::vector<CopyChunk> TakeFinal() override {
    if (rows_.rows() == 0) return {};
    return {{kCopyEntriesSql, rows_.Take()}};
  }
  Status Write(events::PgConnection& tx) override {
    if (rows_.rows() > 0) {
      STRATO_RETURN_IF_ERROR(tx.CopyIn(kCopyEntriesSql, rows_.Take()).WithContext("audit entries"));
    }
    return tx
        .CopyIn("COPY audit_stream_organizations (stream_id, organization_id) FROM STDIN",
                org_rows_.data())
        .WithContext("audit stream organizations");
  }

 private:
  events::PgCopyBinary rows_;
  events::PgCopyText org_rows_;
  std::unordered_set<std::string> org_streams_;
};

}  // namespace

std::unique_ptr<BulkFold> AuditProjection::StartBulk() const {
  return std::make_unique<AuditBulk>();
}

}  // namespace strato::projections
