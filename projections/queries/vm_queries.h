// Reads of the vms read model (with the names of organizations and hosts), as structs that the
// JSON API and the pages both render. Each function takes a session from the caller's pool and
// runs parameterized statements on it; none keeps state. Safe from any thread with its own
// session. The Queries interface (queries.h) offers the same reads over a pool.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "events/pg/pg.h"

namespace strato::projections {

// One row of the vms read model.
struct VmRecord {
  std::string id, org_id, owner_id, name, description, image;
  int64_t cpu_count = 0, memory_mb = 0, disk_gb = 0;
  std::string desired;
  int64_t generation = 0;
  std::string host_id;            // "" until scheduled
  std::string placement_failure;  // "" unless it could not be placed
  std::string observed;
  int64_t observed_generation = 0;
  std::string observed_error;
  std::string created_at, updated_at;  // RFC 3339, UTC, microseconds
  int64_t position = 0;                // the last event folded into the row
  bool deleted = false;
};

// A VM with the version of its stream the row shows (for ETag / If-Match): the last event of
// that stream the vms projection had folded when the row was read (one snapshot).
struct VersionedVm {
  VmRecord vm;
  int64_t version = 0;
};

// The SELECT list (columns of vms, no alias) that VmRecordAt decodes, from column `first` on.
std::string VmRecordColumns();
VmRecord VmRecordAt(const events::PgResult& r, int row, int first = 0);

// One VM (deleted ones too); nullopt when the read model has no row with that id.
Result<std::optional<VersionedVm>> ReadVm(events::PgConnection& db, const std::string& vm_id);

// A VM's name; nullopt when there is no row.
Result<std::optional<std::string>> ReadVmName(events::PgConnection& db, const std::string& vm_id);

struct HostLabel {
  std::string name;
  bool reachable = true;
};

// What changed in the vms, organizations and hosts read models after a position (rows whose
// last_position is beyond it; -1: every row): what the web process's VM list (VmDirectory)
// refreshes itself from.
struct VmListChanges {
  std::vector<VmRecord> vms;  // deleted ones too (so a copy can drop them)
  std::vector<std::pair<std::string, std::string>> org_names;  // id, name
  std::vector<std::pair<std::string, HostLabel>> hosts;        // id, label
};
Result<VmListChanges> ReadVmListChanges(events::PgConnection& db, int64_t after_position);

}  // namespace strato::projections
