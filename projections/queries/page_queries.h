// Reads that only the HTML pages make (http/pages/), as structs: a VM with the names of its
// organization, owner and host; the names the audit log's entries and a VM's history refer to.
// (Users and passkeys: user_queries.h; a VM's history: ReadStreamHistory in audit_queries.h,
// the API's query.) Reads the API shares with the pages are in org_queries.h, vm_queries.h,
// host_queries.h and audit_queries.h.
//
// Each function takes a session from the caller's pool and runs parameterized statements on it;
// none keeps state. Safe from any thread with its own session.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "events/pg/pg.h"

namespace strato::projections {

// A VM's row with the names the page shows beside the ids ("" when the read model has none).
struct VmDetail {
  std::string id, org_id, org_name, owner_id, owner, name, description, image, desired, host_id,
      host_name, placement_failure, observed, observed_error, created_at, updated_at;  // RFC 3339
  int64_t cpu = 0, memory = 0, disk = 0, generation = 0, observed_generation = 0;
  bool host_reachable = true, deleted = false;
};

// One VM (deleted ones too); nullopt when the vms read model has no row with that id.
Result<std::optional<VmDetail>> ReadVmDetail(events::PgConnection& db, const std::string& vm_id);

// The names of users, hosts, VMs and organizations by bare id, keyed "user-<id>", "host-<id>",
// "vm-<id>", "org-<id>" (as the log's actors and streams name them); which of the VMs are
// deleted.
struct EntityNames {
  std::map<std::string, std::string> name;
  std::set<std::string> deleted;
};
struct EntityIdSets {
  std::set<std::string> users, hosts, vms, orgs;
};
Result<EntityNames> ReadEntityNames(events::PgConnection& db, const EntityIdSets& ids);

}  // namespace strato::projections
