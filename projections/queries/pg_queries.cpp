#include "projections/queries/pg_queries.h"

namespace strato::projections {

using events::PgConnection;

Result<std::optional<VersionedVm>> PgQueries::Vm(const std::string& vm_id) const {
  return With<std::optional<VersionedVm>>([&](PgConnection& db) { return ReadVm(db, vm_id); });
}

Result<std::optional<std::string>> PgQueries::VmName(const std::string& vm_id) const {
  return With<std::optional<std::string>>([&](PgConnection& db) { return ReadVmName(db, vm_id); });
}

Result<VmListChanges> PgQueries::VmListChangesAfter(int64_t position) const {
  return With<VmListChanges>([&](PgConnection& db) { return ReadVmListChanges(db, position); });
}

Result<std::vector<HostRow>> PgQueries::Hosts(const std::vector<std::string>& ids) const {
  if (ids.empty()) return std::vector<HostRow>();
  return With<std::vector<HostRow>>([&](PgConnection& db) { return ReadHosts(db, ids); });
}

Result<std::optional<OrgDetail>> PgQueries::Organization(const std::string& org_id) const {
  return With<std::optional<OrgDetail>>(
      [&](PgConnection& db) { return ReadOrganization(db, org_id); });
}

Result<std::vector<OrgListItem>> PgQueries::Organizations(const OrgListRequest& request) const {
  return With<std::vector<OrgListItem>>(
      [&](PgConnection& db) { return ReadOrganizations(db, request); });
}

Result<std::optional<std::string>> PgQueries::OrganizationName(const std::string& org_id) const {
  return With<std::optional<std::string>>(
      [&](PgConnection& db) { return ReadOrganizationName(db, org_id); });
}

Result<std::optional<std::string>> PgQueries::UserIdByUsername(const std::string& username) const {
  return With<std::optional<std::string>>(
      [&](PgConnection& db) { return FindUserIdByUsername(db, username); });
}

Result<AuditEntriesPage> PgQueries::AuditEntries(const AuditReadable& readable,
                                                 const AuditQuery& query) const {
  return With<AuditEntriesPage>(
      [&](PgConnection& db) { return ReadAuditEntries(db, readable, query); });
}

Result<std::optional<std::string>> PgQueries::StreamOrganization(
    const std::string& stream_id) const {
  return With<std::optional<std::string>>(
      [&](PgConnection& db) { return ReadStreamOrganization(db, stream_id); });
}

Result<bool> PgQueries::EventTypeSeen(const std::string& type) const {
  return With<bool>([&](PgConnection& db) { return ReadEventTypeSeen(db, type); });
}

Result<std::vector<AuditEntry>> PgQueries::StreamHistory(const std::string& stream_id) const {
  return With<std::vector<AuditEntry>>(
      [&](PgConnection& db) { return ReadStreamHistory(db, stream_id); });
}

}  // namespace strato::projections
