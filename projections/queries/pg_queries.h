// PgQueries: the Queries (queries.h) answered from PostgreSQL, each call on a session of the
// borrowed pool (which must outlive it). Thread-safe as the pool is.
#pragma once

#include "events/pg/pg_pool.h"
#include "projections/queries/queries.h"

namespace strato::projections {

class PgQueries final : public Queries {
 public:
  explicit PgQueries(events::PgPool& pool) : pool_(pool) {}

  Result<std::optional<VersionedVm>> Vm(const std::string& vm_id) const override;
  Result<std::optional<std::string>> VmName(const std::string& vm_id) const override;
  Result<VmListChanges> VmListChangesAfter(int64_t position) const override;
  Result<std::vector<HostRow>> Hosts(const std::vector<std::string>& ids) const override;
  Result<std::optional<OrgDetail>> Organization(const std::string& org_id) const override;
  Result<std::vector<OrgListItem>> Organizations(const OrgListRequest& request) const override;
  Result<std::optional<std::string>> OrganizationName(const std::string& org_id) const override;
  Result<std::optional<std::string>> UserIdByUsername(const std::string& username) const override;
  Result<AuditEntriesPage> AuditEntries(const AuditReadable& readable,
                                        const AuditQuery& query) const override;
  Result<std::optional<std::string>> StreamOrganization(
      const std::string& stream_id) const override;
  Result<bool> EventTypeSeen(const std::string& type) const override;
  Result<std::vector<AuditEntry>> StreamHistory(const std::string& stream_id) const override;

 private:
  // `read` on a session of the pool.
  template <typename T, typename F>
  Result<T> With(F&& read) const {
    auto db = pool_.Acquire();
    if (!db.ok()) return db.status();
    return read(**db);
  }

  events::PgPool& pool_;
};

}  // namespace strato::projections
