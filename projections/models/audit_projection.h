// AuditProjection: what the audit trail needs folded. The trail itself is the log
// (http/app/visibility.h reads who did what from `events`, through indexes kept as events are
// appended, schema/migrations/0010; core/domain/audit_line.h writes each event's summary); what
// a fold decides is which organization each stream belongs to for good, in
// audit_stream_organizations (schema/migrations/0006): vm-<id> from VmCreated's org_id, org-<id>
// from OrganizationCreated. Deleting a VM removes its relationship tuples but not this row, so
// the VM's history stays readable to its organization. First row wins.
//
// Stateless and cheap: a batch is at most one INSERT. Use from one thread at a time (the
// runner's).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "projections/runner/projection.h"

namespace strato::projections {

// The organization `e`'s stream belongs to when `e` says so (VmCreated: data.org_id;
// OrganizationCreated: the stream's id), else "". The second form takes e.data parsed.
std::string AuditStreamOrganization(const events::RecordedEvent& e);
std::string AuditStreamOrganization(const events::RecordedEvent& e, const rapidjson::Value& data);

class AuditProjection final : public Projection {
 public:
  static constexpr const char* kName = "audit";

  const std::string& name() const override { return name_; }
  std::vector<std::string> tables() const override { return {"audit_stream_organizations"}; }
  Status Apply(events::PgConnection& tx, const events::RecordedEvent& e) override;
  Status ApplyBatch(events::PgConnection& tx, std::span<const events::RecordedEvent> es) override;
  std::unique_ptr<BulkFold> StartBulk() const override;

 private:
  const std::string name_ = kName;
};

}  // namespace strato::projections
