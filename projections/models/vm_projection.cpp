#include "projections/models/vm_projection.h"

#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

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

namespace strato::projections {

namespace {

class VmBulk final : public BulkFold {
 public:
  Status Add(const FoldEvent& fe) override {
    const events::RecordedEvent& e = fe.event;
    if (e.Category() != "vm") return Status::Ok();
    domain::EventFields f(e.type, fe.data);
    // The stream's entity id ("vm-<id>"), looked up without a copy.
    const std::string_view id = std::string_view(e.stream_id).substr(3);
    // The row an update changes (nullptr: none, the update changes nothing).
    auto row = [&]() -> Vm* {
      auto it = vms_.find(id);
      return it == vms_.end() ? nullptr : &it->second;
    };
    auto touch = [&](Vm* v) {
      v->updated_at = e.recorded_at;
      v->last_position = e.position;
    };
    if (e.type == "VmCreated") {
      Vm v;
      std::string vm_id = f.Str("vm_id");
      v.org_id = Intern(f.Str("org_id"));
      v.owner_id = Intern(f.Str("owner_id"));
      v.name = f.Str("name");
      v.description = Intern(f.Str("description"));
      v.image = Intern(f.Str("image"));
      v.cpu_count = f.Int("cpu_count");
      v.memory_mb = f.Int("memory_mb");
      v.disk_gb = f.Int("disk_gb");
      v.desired = f.Str("desired");
      v.generation = f.Int("generation");
      STRATO_RETURN_IF_ERROR(f.status());
      v.created_at = v.updated_at = e.recorded_at;
      v.last_position = e.position;
      if (!vms_.emplace(vm_id, std::move(v)).second) {
        return Status::Conflict("vms: a duplicate VM at position " + std::to_string(e.position));
      }
    } else if (std::string_view d = DesiredAfter(e.type); !d.empty()) {
      int64_t generation = f.Int("generation");
      STRATO_RETURN_IF_ERROR(f.status());
      if (Vm* v = row()) {
        v->desired = std::string(d);
        v->generation = generation;
        touch(v);
      }
    } else if (e.type == "VmResized") {
      int64_t cpu = f.Int("cpu_count"), mem = f.Int("memory_mb"), disk = f.Int("disk_gb"),
              generation = f.Int("generation");
      STRATO_RETURN_IF_ERROR(f.status());
      if (Vm* v = row()) {
        v->cpu_count = cpu;
        v->memory_mb = mem;
        v->disk_gb = disk;
        v->generation = generation;
        touch(v);
      }
    } else if (e.type == "VmRenamed") {
      std::string name = f.Str("name");
      STRATO_RETURN_IF_ERROR(f.status());
      if (Vm* v = row()) {
        v->name = name;
        touch(v);
      }
    } else if (e.type == "VmScheduled") {
      std::string host = f.Str("host_id");
      STRATO_RETURN_IF_ERROR(f.status());
      if (Vm* v = row()) {
        v->host_id = host;
        v->placement_failure.reset();
        if (v->observed == "pending") v->observed = "scheduled";
        touch(v);
      }
    } else if (e.type == "VmPlacementFailed") {
      std::string reason = f.Str("reason");
      STRATO_RETURN_IF_ERROR(f.status());
      if (Vm* v = row()) {
        v->placement_failure = reason;
        touch(v);
      }
    } else if (e.type == "VmObserved") {
      std::string state = f.Str("state");
      int64_t generation = f.Int("generation");
      std::optional<std::string> error = f.OptStr("error");
      STRATO_RETURN_IF_ERROR(f.status());
      if (Vm* v = row()) {
        v->observed = state;
        v->observed_generation = generation;
        v->observed_error = error;
        touch(v);
      }
    }
    return f.status();
  }

  // In COPY's binary format: a row per VM, and binary fields need no parsing.
  Status Write(events::PgConnection& tx) override {
    events::PgCopyBinary rows;
    auto opt = [&rows](const std::optional<std::string>& s) {
      if (s) {
        rows.Add(*s);
      } else {
        rows.AddNull();
      }
    };
    for (const auto& [id, v] : vms_) {
      rows.Add(id)
          .Add(v.org_id)
          .Add(v.owner_id)
          .Add(v.name)
          .Add(v.description)
          .Add(v.image)
          .Add(v.cpu_count)
          .Add(v.memory_mb)
          .Add(v.disk_gb)
          .Add(v.desired)
          .Add(v.generation);
      opt(v.host_id);
      opt(v.placement_failure);
      rows.Add(v.observed).Add(v.observed_generation);
      opt(v.observed_error);
      rows.AddTime(v.created_at)
          .AddTime(v.updated_at)
          .Add(v.last_position)
          .AddBool(v.desired == "deleted")
          .EndRow();
    }
    return tx
        .CopyIn(
            "COPY vms (vm_id, org_id, owner_id, name, description, image, cpu_count, "
            "memory_mb, disk_gb, desired, generation, host_id, placement_failure, observed, "
            "observed_generation, observed_error, created_at, updated_at, last_position, "
            "deleted) FROM STDIN (FORMAT binary)",
            rows.Take())
        .WithContext("vms");
  }

 private:
  // Values many VMs share (organizations, owners, images, descriptions) are kept once.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::string_view Intern(const std::string& s) { return *interned_.insert(s).first; }

  struct Vm {
    std::string_view org_id, owner_id;  // in interned_
    std::string name;
    std::string_view description, image;  // in interned_
    int64_t cpu_count = 0, memory_mb = 0, disk_gb = 0;
    std::string desired;
    int64_t generation = 0;
    std::optional<std::string> host_id, placement_failure;
    std::string observed = "pending";
    int64_t observed_generation = 0;
    std::optional<std::string> observed_error;
    TimePoint created_at, updated_at;  // formatted once, when written
    int64_t last_position = 0;
  };
  std::unordered_set<std::string, Hash, std::equal_to<>> interned_;
  std::unordered_map<std::string, Vm, Hash, std::equal_to<>> vms_;
};

}  // namespace

std::unique_ptr<BulkFold> VmProjection::StartBulk() const {
  return std::make_unique<VmBulk>();
}

}  // namespace strato::projections
