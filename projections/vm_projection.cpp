#include "projections/vm_projection.h"

#include <string_view>

#include "core/clock.h"
#include "core/domain/domain_event.h"

namespace strato::projections {

namespace {

std::string Time(const events::RecordedEvent& e) {
  return FormatRfc3339(e.recorded_at);
}

// The desired state each request sets ("" for events that are not requests).
std::string_view DesiredAfter(std::string_view type) {
  if (type == "VmStartRequested" || type == "VmRestartRequested" || type == "VmResumeRequested") {
    return "running";
  }
  if (type == "VmStopRequested") return "stopped";
  if (type == "VmPauseRequested") return "paused";
  if (type == "VmDeleteRequested") return "deleted";
  return "";
}

constexpr const char* kCreateSql =
    "INSERT INTO vms (vm_id, org_id, owner_id, name, description, image, cpu_count, memory_mb, "
    "disk_gb, desired, generation, observed, observed_generation, created_at, updated_at, "
    "last_position, deleted) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', 0, $12::timestamptz, "
    "$12::timestamptz, $13, $10 = 'deleted')";

constexpr const char* kDesiredSql =
    "UPDATE vms SET desired = $2, generation = $3, deleted = ($2 = 'deleted'), "
    "updated_at = $4::timestamptz, last_position = $5 WHERE vm_id = $1";

constexpr const char* kResizeSql =
    "UPDATE vms SET cpu_count = $2, memory_mb = $3, disk_gb = $4, generation = $5, "
    "updated_at = $6::timestamptz, last_position = $7 WHERE vm_id = $1";

constexpr const char* kRenameSql =
    "UPDATE vms SET name = $2, updated_at = $3::timestamptz, last_position = $4 WHERE vm_id = $1";

constexpr const char* kScheduleSql =
    "UPDATE vms SET host_id = $2, placement_failure = NULL, "
    "observed = CASE WHEN observed = 'pending' THEN 'scheduled' ELSE observed END, "
    "updated_at = $3::timestamptz, last_position = $4 WHERE vm_id = $1";

constexpr const char* kPlacementFailedSql =
    "UPDATE vms SET placement_failure = $2, updated_at = $3::timestamptz, last_position = $4 WHERE "
    "vm_id = $1";

// $5: whether the report carries an error ($4), since parameters cannot be NULL.
constexpr const char* kObservedSql =
    "UPDATE vms SET observed = $2, observed_generation = $3, "
    "observed_error = CASE WHEN $5::boolean THEN $4 ELSE NULL END, "
    "updated_at = $6::timestamptz, last_position = $7 WHERE vm_id = $1";

}  // namespace

Status VmProjection::Plan(const events::RecordedEvent& e,
                          std::vector<events::PgStatement>& out) const {
  if (e.Category() != "vm") return Status::Ok();
  domain::DomainEvent de{e.type, e.data};
  domain::EventFields f(de);
  const std::string id = StreamEntityId(e);
  const std::string at = Time(e);
  const std::string pos = std::to_string(e.position);
  auto add = [&](const char* suffix, const char* sql, std::vector<std::string> params) {
    out.push_back({name_ + "_" + suffix, sql, std::move(params)});
  };
  auto n = [](int64_t v) { return std::to_string(v); };

  if (e.type == "VmCreated") {
    add("create", kCreateSql,
        {f.Str("vm_id"), f.Str("org_id"), f.Str("owner_id"), f.Str("name"), f.Str("description"),
         f.Str("image"), n(f.Int("cpu_count")), n(f.Int("memory_mb")), n(f.Int("disk_gb")),
         f.Str("desired"), n(f.Int("generation")), at, pos});
  } else if (std::string_view d = DesiredAfter(e.type); !d.empty()) {
    add("desired", kDesiredSql, {id, std::string(d), n(f.Int("generation")), at, pos});
  } else if (e.type == "VmResized") {
    add("resize", kResizeSql,
        {id, n(f.Int("cpu_count")), n(f.Int("memory_mb")), n(f.Int("disk_gb")),
         n(f.Int("generation")), at, pos});
  } else if (e.type == "VmRenamed") {
    add("rename", kRenameSql, {id, f.Str("name"), at, pos});
  } else if (e.type == "VmScheduled") {
    add("schedule", kScheduleSql, {id, f.Str("host_id"), at, pos});
  } else if (e.type == "VmPlacementFailed") {
    add("placement_failed", kPlacementFailedSql, {id, f.Str("reason"), at, pos});
  } else if (e.type == "VmObserved") {
    std::optional<std::string> error = f.OptStr("error");
    add("observed", kObservedSql,
        {id, f.Str("state"), n(f.Int("generation")), error.value_or(""), error ? "true" : "false",
         at, pos});
  }
  return f.status();
}

}  // namespace strato::projections
