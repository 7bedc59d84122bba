#include "projections/models/audit_projection.h"

#include <rapidjson/document.h>

#include <unordered_set>

namespace strato::projections {

namespace {

constexpr const char* kInsertOrgsSql =
    "INSERT INTO audit_stream_organizations (stream_id, organization_id) "
    "SELECT s, o FROM unnest($1::text[], $2::text[]) AS u(s, o) "
    "ON CONFLICT (stream_id) DO NOTHING";

const rapidjson::Value* Member(const rapidjson::Value& object, std::string_view key) {
  auto it = object.FindMember(rapidjson::Value(
      rapidjson::StringRef(key.data(), static_cast<rapidjson::SizeType>(key.size()))));
  return it == object.MemberEnd() ? nullptr : &it->value;
}

}  // namespace

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
  events::PgArray org_streams, orgs;
  for (const events::RecordedEvent& e : es) {
    if (std::string org = AuditStreamOrganization(e); !org.empty()) {
      org_streams.Add(e.stream_id);
      orgs.Add(org);
    }
  }
  if (org_streams.size() == 0) return Status::Ok();
  auto o =
      tx.ExecPrepared("audit_orgs_insert", kInsertOrgsSql, {org_streams.Literal(), orgs.Literal()});
  return o.ok() ? Status::Ok() : o.status().WithContext("audit stream organizations");
}

namespace {

// A stream's organization is final as soon as its first event says it; the rows are written
// once the log is read (the table is small: a row per VM and organization).
class AuditBulk final : public BulkFold {
 public:
  Status Add(const FoldEvent& f) override {
    const events::RecordedEvent& e = f.event;
    if (std::string org = AuditStreamOrganization(e, f.data); !org.empty()) {
      if (org_streams_.insert(e.stream_id).second) {  // the first wins, as ON CONFLICT does
        org_rows_.Add(e.stream_id).Add(org).EndRow();
      }
    }
    return Status::Ok();
  }
  Status Write(events::PgConnection& tx) override {
    return tx
        .CopyIn("COPY audit_stream_organizations (stream_id, organization_id) FROM STDIN",
                org_rows_.data())
        .WithContext("audit stream organizations");
  }

 private:
  events::PgCopyText org_rows_;
  std::unordered_set<std::string> org_streams_;
};

}  // namespace

std::unique_ptr<BulkFold> AuditProjection::StartBulk() const {
  return std::make_unique<AuditBulk>();
}

}  // namespace strato::projections
