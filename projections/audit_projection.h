// AuditProjection: the audit trail as a read model, table audit_entries
// (schema/migrations/0002): one row per event of the log, whatever its type, with who did it
// and a one-line summary a person can read.
//
//   position, recorded_at, stream_id, type: copied from the event;
//   actor:   metadata.actor, or "system" when it is absent or empty;
//   summary: the type, then up to kMaxSummaryFields of the event's scalar data fields as
//            key=value: first the salient ones in the order of kSalientFields, then the others
//            in the order jsonb keeps them. Strings that are not plain words are quoted as
//            JSON, and long ones shortened. Objects, arrays and nulls are left out.
//
// It also keeps, in audit_stream_organizations (schema/migrations/0006), the organization each
// stream belongs to for good: vm-<id> from VmCreated's org_id, org-<id> from
// OrganizationCreated. Deleting a VM removes its relationship tuples but not this row, so the
// VM's history stays readable to its organization (http/visibility.h). First row wins.
//
// It never shows secrets: a data field whose name contains "secret", "token", "password",
// "key", "challenge" or "signature" (in any case) is skipped, salient or not.
//
// Stateless and cheap: a batch is one INSERT. Use from one thread at a time (the runner's).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "projections/projection.h"

namespace strato::projections {

inline constexpr size_t kMaxSummaryFields = 4;
inline constexpr size_t kMaxSummaryValueChars = 60;  // longer strings end with "…"

// The fields a summary shows first, when present (the rest follow in jsonb's order).
inline constexpr std::string_view kSalientFields[] = {
    "name",    "username", "display_name", "state",   "desired_state", "observed_state",
    "host_id", "vm_id",    "org_id",       "user_id", "role",          "reason",
};

// True for a data field whose name says it holds a secret.
bool IsSecretField(std::string_view field_name);

// The audit line of an event: "VmCreated name=web-1 state=running host_id=4c2a...". The
// second form takes the event's data parsed already.
std::string AuditSummary(const events::RecordedEvent& e);
std::string AuditSummary(std::string_view type, const rapidjson::Value& data);
// metadata.actor, or "system".
std::string AuditActor(const events::RecordedEvent& e);
// The organization `e`'s stream belongs to when `e` says so (VmCreated: data.org_id;
// OrganizationCreated: the stream's id), else "". The second form takes e.data parsed.
std::string AuditStreamOrganization(const events::RecordedEvent& e);
std::string AuditStreamOrganization(const events::RecordedEvent& e, const rapidjson::Value& data);

class AuditProjection final : public Projection {
 public:
  static constexpr const char* kName = "audit";

  const std::string& name() const override { return name_; }
  std::vector<std::string> tables() const override {
    return {"audit_entries", "audit_stream_organizations"};
  }
  Status Apply(events::PgConnection& tx, const events::RecordedEvent& e) override;
  Status ApplyBatch(events::PgConnection& tx, std::span<const events::RecordedEvent> es) override;
  std::unique_ptr<BulkFold> StartBulk() const override;

 private:
  const std::string name_ = kName;
};

}  // namespace strato::projections
