// Queries: every read of a read model the web side makes (the JSON API, the pages, the VM list
// in memory, the audit trail's visibility), as one interface returning the structs of
// org_queries.h, vm_queries.h, host_queries.h and audit_queries.h. PgQueries (pg_queries.h)
// answers from PostgreSQL through a pool; handler tests give an in-memory fake, so a page or an
// API handler is tested without a database.
//
// Implementations are thread-safe: every method may be called from any thread at once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "projections/queries/audit_queries.h"
#include "projections/queries/host_queries.h"
#include "projections/queries/org_queries.h"
#include "projections/queries/vm_queries.h"

namespace strato::projections {

class Queries {
 public:
  virtual ~Queries() = default;

  // VMs (vm_queries.h).
  virtual Result<std::optional<VersionedVm>> Vm(const std::string& vm_id) const = 0;
  virtual Result<std::optional<std::string>> VmName(const std::string& vm_id) const = 0;
  virtual Result<VmListChanges> VmListChangesAfter(int64_t position) const = 0;

  // Hosts (host_queries.h): those among `ids` the read model has, by name then id.
  virtual Result<std::vector<HostRow>> Hosts(const std::vector<std::string>& ids) const = 0;

  // Organizations and users (org_queries.h).
  virtual Result<std::optional<OrgDetail>> Organization(const std::string& org_id) const = 0;
  virtual Result<std::vector<OrgListItem>> Organizations(const OrgListRequest& request) const = 0;
  virtual Result<std::optional<std::string>> OrganizationName(const std::string& org_id) const = 0;
  virtual Result<std::optional<std::string>> UserIdByUsername(
      const std::string& username) const = 0;

  // The audit trail (audit_queries.h).
  virtual Result<AuditEntriesPage> AuditEntries(const AuditReadable& readable,
                                                const AuditQuery& query) const = 0;
  virtual Result<std::optional<std::string>> StreamOrganization(
      const std::string& stream_id) const = 0;
  virtual Result<bool> EventTypeSeen(const std::string& type) const = 0;
  virtual Result<std::vector<AuditEntry>> StreamHistory(const std::string& stream_id) const = 0;
};

}  // namespace strato::projections
