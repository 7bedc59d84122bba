#include "projections/host_projection.h"

#include <string_view>

#include "core/clock.h"
#include "core/domain/domain_event.h"

namespace strato::projections {

namespace {

// For a desired-state request: the desired state it sets and its action ("" when not one).
struct Request {
  std::string_view desired;
  std::string_view action;
};
Request RequestOf(std::string_view type) {
  if (type == "VmStartRequested") return {"running", "start"};
  if (type == "VmStopRequested") return {"stopped", "stop"};
  if (type == "VmRestartRequested") return {"running", "restart"};
  if (type == "VmPauseRequested") return {"paused", "pause"};
  if (type == "VmResumeRequested") return {"running", "resume"};
  return {};
}

// A host registering again keeps its cordon, reachability and allocation; a new one starts
// from what is already allocated to it.
constexpr const char* kRegisterSql =
    "INSERT INTO hosts (host_id, name, address, cpu_count, memory_mb, disk_gb, "
    "allocated_cpu_count, allocated_memory_mb, allocated_disk_gb, hypervisor_kind, "
    "hypervisor_version, registered_at, updated_at, last_position) "
    "SELECT $1, $2, $3, $4, $5, $6, coalesce(sum(a.cpu_count), 0), "
    "coalesce(sum(a.memory_mb), 0), coalesce(sum(a.disk_gb), 0), $7, $8, $9::timestamptz, "
    "$9::timestamptz, $10 FROM host_allocations a WHERE a.host_id = $1 "
    "ON CONFLICT (host_id) DO UPDATE SET name = EXCLUDED.name, address = EXCLUDED.address, "
    "cpu_count = EXCLUDED.cpu_count, memory_mb = EXCLUDED.memory_mb, "
    "disk_gb = EXCLUDED.disk_gb, hypervisor_kind = EXCLUDED.hypervisor_kind, "
    "hypervisor_version = EXCLUDED.hypervisor_version, updated_at = EXCLUDED.updated_at, "
    "last_position = EXCLUDED.last_position";

constexpr const char* kCapacitySql =
    "UPDATE hosts SET cpu_count = $2, memory_mb = $3, disk_gb = $4, updated_at = $5::timestamptz, "
    "last_position = $6 WHERE host_id = $1";

constexpr const char* kCordonSql =
    "UPDATE hosts SET cordoned = $2, cordon_reason = $3, updated_at = $4::timestamptz, "
    "last_position = $5 WHERE host_id = $1";

constexpr const char* kReachableSql =
    "UPDATE hosts SET reachable = $2, unreachable_reason = $3, updated_at = $4::timestamptz, "
    "last_position = $5 WHERE host_id = $1";

constexpr const char* kVmCreateSql =
    "INSERT INTO host_desired_vms (vm_id, org_id, name, image, cpu_count, memory_mb, disk_gb, "
    "desired, generation, last_action, position) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'create', $10)";

constexpr const char* kVmRequestSql =
    "UPDATE host_desired_vms SET desired = $2, generation = $3, last_action = $4, force = $5, "
    "position = $6 WHERE vm_id = $1";

constexpr const char* kVmRenameSql =
    "UPDATE host_desired_vms SET name = $2, position = $3 WHERE vm_id = $1";

// Places the VM and allocates its resources on the host (unless it is deleted).
constexpr const char* kVmScheduleSql =
    "WITH vm AS (UPDATE host_desired_vms SET host_id = $2, position = $3 WHERE vm_id = $1 "
    "  RETURNING vm_id, desired, cpu_count, memory_mb, disk_gb), "
    "a AS (INSERT INTO host_allocations (vm_id, host_id, cpu_count, memory_mb, disk_gb) "
    "  SELECT vm_id, $2, cpu_count, memory_mb, disk_gb FROM vm WHERE desired <> 'deleted' "
    "  ON CONFLICT (vm_id) DO NOTHING RETURNING host_id, cpu_count, memory_mb, disk_gb) "
    "UPDATE hosts h SET allocated_cpu_count = h.allocated_cpu_count + a.cpu_count, "
    "allocated_memory_mb = h.allocated_memory_mb + a.memory_mb, "
    "allocated_disk_gb = h.allocated_disk_gb + a.disk_gb, updated_at = $4::timestamptz, "
    "last_position = $3 FROM a WHERE h.host_id = a.host_id";

// The new spec, and the host's allocation changed by the difference (every part of the WITH
// sees the rows as they were before the statement).
constexpr const char* kVmResizeSql =
    "WITH vm AS (UPDATE host_desired_vms SET cpu_count = $2, memory_mb = $3, disk_gb = $4, "
    "  generation = $5, last_action = 'resize', force = false, position = $6 WHERE vm_id = $1), "
    "old AS (SELECT host_id, cpu_count, memory_mb, disk_gb FROM host_allocations "
    "  WHERE vm_id = $1), "
    "a AS (UPDATE host_allocations SET cpu_count = $2, memory_mb = $3, disk_gb = $4 "
    "  WHERE vm_id = $1) "
    "UPDATE hosts h SET allocated_cpu_count = h.allocated_cpu_count + $2::bigint - old.cpu_count, "
    "allocated_memory_mb = h.allocated_memory_mb + $3::bigint - old.memory_mb, "
    "allocated_disk_gb = h.allocated_disk_gb + $4::bigint - old.disk_gb, "
    "updated_at = $7::timestamptz, last_position = $6 FROM old WHERE h.host_id = old.host_id";

// desired = 'deleted' for its host to act on, and its resources freed.
constexpr const char* kVmDeleteSql =
    "WITH vm AS (UPDATE host_desired_vms SET desired = 'deleted', generation = $2, "
    "  last_action = 'delete', force = false, position = $3 WHERE vm_id = $1), "
    "a AS (DELETE FROM host_allocations WHERE vm_id = $1 "
    "  RETURNING host_id, cpu_count, memory_mb, disk_gb) "
    "UPDATE hosts h SET allocated_cpu_count = h.allocated_cpu_count - a.cpu_count, "
    "allocated_memory_mb = h.allocated_memory_mb - a.memory_mb, "
    "allocated_disk_gb = h.allocated_disk_gb - a.disk_gb, updated_at = $4::timestamptz, "
    "last_position = $3 FROM a WHERE h.host_id = a.host_id";

}  // namespace

Status HostProjection::Plan(const events::RecordedEvent& e,
                            std::vector<events::PgStatement>& out) const {
  const std::string_view category = e.Category();
  if (category != "host" && category != "vm") return Status::Ok();
  domain::DomainEvent de{e.type, e.data};
  domain::EventFields f(de);
  const std::string id = StreamEntityId(e);
  const std::string at = FormatRfc3339(e.recorded_at);
  const std::string pos = std::to_string(e.position);
  auto add = [&](const char* suffix, const char* sql, std::vector<std::string> params) {
    out.push_back({name_ + "_" + suffix, sql, std::move(params)});
  };
  auto n = [](int64_t v) { return std::to_string(v); };
  auto reason = [&] { return f.OptStr("reason").value_or(""); };

  if (e.type == "HostRegistered") {
    add("register", kRegisterSql,
        {f.Str("host_id"), f.Str("name"), f.Str("address"), n(f.Int("cpu_count")),
         n(f.Int("memory_mb")), n(f.Int("disk_gb")), f.Str("hypervisor_kind"),
         f.Str("hypervisor_version"), at, pos});
  } else if (e.type == "HostCapacityUpdated") {
    add("capacity", kCapacitySql,
        {id, n(f.Int("cpu_count")), n(f.Int("memory_mb")), n(f.Int("disk_gb")), at, pos});
  } else if (e.type == "HostCordoned") {
    add("cordon", kCordonSql, {id, "true", reason(), at, pos});
  } else if (e.type == "HostUncordoned") {
    add("cordon", kCordonSql, {id, "false", "", at, pos});
  } else if (e.type == "HostUnreachable") {
    add("reachable", kReachableSql, {id, "false", reason(), at, pos});
  } else if (e.type == "HostReachable") {
    add("reachable", kReachableSql, {id, "true", "", at, pos});
  } else if (category != "vm") {
    // another host event: nothing to fold
  } else if (e.type == "VmCreated") {
    add("vm_create", kVmCreateSql,
        {f.Str("vm_id"), f.Str("org_id"), f.Str("name"), f.Str("image"), n(f.Int("cpu_count")),
         n(f.Int("memory_mb")), n(f.Int("disk_gb")), f.Str("desired"), n(f.Int("generation")),
         pos});
  } else if (Request r = RequestOf(e.type); !r.desired.empty()) {
    bool force = e.type == "VmStopRequested" && f.Bool("force");
    add("vm_request", kVmRequestSql,
        {id, std::string(r.desired), n(f.Int("generation")), std::string(r.action),
         force ? "true" : "false", pos});
  } else if (e.type == "VmDeleteRequested") {
    add("vm_delete", kVmDeleteSql, {id, n(f.Int("generation")), pos, at});
  } else if (e.type == "VmResized") {
    add("vm_resize", kVmResizeSql,
        {id, n(f.Int("cpu_count")), n(f.Int("memory_mb")), n(f.Int("disk_gb")),
         n(f.Int("generation")), pos, at});
  } else if (e.type == "VmRenamed") {
    add("vm_rename", kVmRenameSql, {id, f.Str("name"), pos});
  } else if (e.type == "VmScheduled") {
    add("vm_schedule", kVmScheduleSql, {id, f.Str("host_id"), pos, at});
  }
  return f.status();
}

}  // namespace strato::projections
