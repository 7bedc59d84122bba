#include "projections/models/host_projection.h"

#include <optional>
#include <string_view>
#include <unordered_map>

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
    "hypervisor_version, accelerator, cpu_allocation_ratio, memory_allocation_ratio, "
    "registered_at, updated_at, last_position) "
    "SELECT $1, $2, $3, $4, $5, $6, coalesce(sum(a.cpu_count), 0), "
    "coalesce(sum(a.memory_mb), 0), coalesce(sum(a.disk_gb), 0), $7, $8, $11, $12, $13, "
    "$9::timestamptz, $9::timestamptz, $10 FROM host_allocations a WHERE a.host_id = $1 "
    "ON CONFLICT (host_id) DO UPDATE SET name = EXCLUDED.name, address = EXCLUDED.address, "
    "cpu_count = EXCLUDED.cpu_count, memory_mb = EXCLUDED.memory_mb, "
    "disk_gb = EXCLUDED.disk_gb, hypervisor_kind = EXCLUDED.hypervisor_kind, "
    "hypervisor_version = EXCLUDED.hypervisor_version, accelerator = EXCLUDED.accelerator, "
    "cpu_allocation_ratio = EXCLUDED.cpu_allocation_ratio, "
    "memory_allocation_ratio = EXCLUDED.memory_allocation_ratio, "
    "updated_at = EXCLUDED.updated_at, last_position = EXCLUDED.last_position";

// HostRegistered's later fields, as older events mean them: no accelerator said, 1:1.
struct RegisteredExtras {
  std::string accelerator;
  int64_t cpu_ratio = 1, memory_ratio = 1;
};
RegisteredExtras ExtrasOf(domain::EventFields& f) {
  return {f.OptStr("accelerator").value_or(""), f.OptInt("cpu_allocation_ratio").value_or(1),
          f.OptInt("memory_allocation_ratio").value_or(1)};
}

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
    RegisteredExtras x = ExtrasOf(f);
    add("register", kRegisterSql,
        {f.Str("host_id"), f.Str("name"), f.Str("address"), n(f.Int("cpu_count")),
         n(f.Int("memory_mb")), n(f.Int("disk_gb")), f.Str("hypervisor_kind"),
         f.Str("hypervisor_version"), at, pos, x.accelerator, n(x.cpu_ratio), n(x.memory_ratio)});
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

namespace strato::projections {

namespace {

class HostBulk final : public BulkFold {
 public:
  // Host events change the hosts' rows; VM events the desired VMs and the allocations (and
  // through them the hosts' allocated_* columns). One member function per event type.
  Status Add(const FoldEvent& fe) override {
    const events::RecordedEvent& e = fe.event;
    const std::string_view category = e.Category();
    if (category != "host" && category != "vm") return Status::Ok();
    domain::EventFields f(e.type, fe.data);
    const std::string id = StreamEntityId(e);
    if (e.type == "HostRegistered") return HostRegistered(e, f);
    if (e.type == "HostCapacityUpdated") return HostCapacityUpdated(e, f, id);
    if (e.type == "HostCordoned") return SetHostFlag(e, f, id, /*cordon=*/true, true);
    if (e.type == "HostUncordoned") return SetHostFlag(e, f, id, /*cordon=*/true, false);
    if (e.type == "HostUnreachable") return SetHostFlag(e, f, id, /*cordon=*/false, false);
    if (e.type == "HostReachable") return SetHostFlag(e, f, id, /*cordon=*/false, true);
    if (category != "vm") return f.status();  // another host event: nothing to fold
    if (e.type == "VmCreated") return VmCreated(e, f);
    if (Request r = RequestOf(e.type); !r.desired.empty()) return VmRequested(e, f, id, r);
    if (e.type == "VmDeleteRequested") return VmDeleteRequested(e, f, id);
    if (e.type == "VmResized") return VmResized(e, f, id);
    if (e.type == "VmRenamed") return VmRenamed(e, f, id);
    if (e.type == "VmScheduled") return VmScheduled(e, f, id);
    return f.status();
  }

  Status Write(events::PgConnection& tx) override {
    events::PgCopyText hosts, allocations;
    events::PgCopyBinary desired;  // a row per VM: COPY's binary format needs no parsing
    for (const auto& [id, h] : hosts_) {
      hosts.Add(id)
          .Add(h.name)
          .Add(h.address)
          .Add(h.cpu)
          .Add(h.mem)
          .Add(h.disk)
          .Add(h.alloc_cpu)
          .Add(h.alloc_mem)
          .Add(h.alloc_disk)
          .AddBool(h.cordoned)
          .Add(h.cordon_reason)
          .AddBool(h.reachable)
          .Add(h.unreachable_reason)
          .Add(h.hv_kind)
          .Add(h.hv_version)
          .Add(h.accelerator)
          .Add(h.cpu_ratio)
          .Add(h.memory_ratio)
          .Add(h.registered_at)
          .Add(h.updated_at)
          .Add(h.last_position)
          .EndRow();
    }
    for (const auto& [vm, a] : allocations_) {
      allocations.Add(vm).Add(a.host_id).Add(a.cpu).Add(a.mem).Add(a.disk).EndRow();
    }
    for (const auto& [vm, d] : desired_) {
      desired.Add(vm);
      if (d.host_id) {
        desired.Add(*d.host_id);
      } else {
        desired.AddNull();
      }
      desired.Add(d.org_id)
          .Add(d.name)
          .Add(d.image)
          .Add(d.cpu)
          .Add(d.mem)
          .Add(d.disk)
          .Add(d.desired)
          .Add(d.generation)
          .Add(d.last_action)
          .AddBool(d.force)
          .Add(d.position)
          .EndRow();
    }
    STRATO_RETURN_IF_ERROR(
        tx.CopyIn("COPY hosts (host_id, name, address, cpu_count, memory_mb, disk_gb, "
                  "allocated_cpu_count, allocated_memory_mb, allocated_disk_gb, cordoned, "
                  "cordon_reason, reachable, unreachable_reason, hypervisor_kind, "
                  "hypervisor_version, accelerator, cpu_allocation_ratio, "
                  "memory_allocation_ratio, registered_at, updated_at, last_position) FROM "
                  "STDIN",
                  hosts.data())
            .WithContext("hosts"));
    STRATO_RETURN_IF_ERROR(tx.CopyIn("COPY host_allocations (vm_id, host_id, cpu_count, "
                                     "memory_mb, disk_gb) FROM STDIN",
                                     allocations.data())
                               .WithContext("host allocations"));
    return tx
        .CopyIn(
            "COPY host_desired_vms (vm_id, host_id, org_id, name, image, cpu_count, "
            "memory_mb, disk_gb, desired, generation, last_action, force, position) FROM "
            "STDIN (FORMAT binary)",
            desired.Take())
        .WithContext("host desired VMs");
  }

 private:
  using Event = events::RecordedEvent;
  struct Host {
    std::string name, address;
    int64_t cpu = 0, mem = 0, disk = 0, alloc_cpu = 0, alloc_mem = 0, alloc_disk = 0;
    bool cordoned = false;
    std::string cordon_reason;
    bool reachable = true;
    std::string unreachable_reason, hv_kind, hv_version, accelerator, registered_at, updated_at;
    int64_t cpu_ratio = 1, memory_ratio = 1;
    int64_t last_position = 0;
  };
  struct Allocation {
    std::string host_id;
    int64_t cpu = 0, mem = 0, disk = 0;
  };
  struct Desired {
    std::optional<std::string> host_id;
    std::string org_id, name, image;
    int64_t cpu = 0, mem = 0, disk = 0;
    std::string desired;
    int64_t generation = 0;
    std::string last_action;
    bool force = false;
    int64_t position = 0;
  };

  Host* FindHost(const std::string& host_id) {
    auto it = hosts_.find(host_id);
    return it == hosts_.end() ? nullptr : &it->second;
  }
  Desired* FindDesired(const std::string& vm_id) {
    auto it = desired_.find(vm_id);
    return it == desired_.end() ? nullptr : &it->second;
  }
  // hosts.allocated_* changed by (cpu, mem, disk), when the host has a row.
  void Allocate(const Event& e, const std::string& host_id, int64_t cpu, int64_t mem,
                int64_t disk) {
    if (Host* x = FindHost(host_id)) {
      x->alloc_cpu += cpu;
      x->alloc_mem += mem;
      x->alloc_disk += disk;
      x->updated_at = FormatRfc3339(e.recorded_at);
      x->last_position = e.position;
    }
  }

  // A new host (its allocations counted from the VMs already placed on it), or a known one
  // registering again with new facts.
  Status HostRegistered(const Event& e, domain::EventFields& f) {
    Host h;
    std::string host_id = f.Str("host_id");
    h.name = f.Str("name");
    h.address = f.Str("address");
    h.cpu = f.Int("cpu_count");
    h.mem = f.Int("memory_mb");
    h.disk = f.Int("disk_gb");
    h.hv_kind = f.Str("hypervisor_kind");
    h.hv_version = f.Str("hypervisor_version");
    RegisteredExtras extras = ExtrasOf(f);
    h.accelerator = extras.accelerator;
    h.cpu_ratio = extras.cpu_ratio;
    h.memory_ratio = extras.memory_ratio;
    STRATO_RETURN_IF_ERROR(f.status());
    h.registered_at = h.updated_at = FormatRfc3339(e.recorded_at);
    h.last_position = e.position;
    if (Host* x = FindHost(host_id)) {
      x->name = h.name;
      x->address = h.address;
      x->cpu = h.cpu;
      x->mem = h.mem;
      x->disk = h.disk;
      x->hv_kind = h.hv_kind;
      x->hv_version = h.hv_version;
      x->accelerator = h.accelerator;
      x->cpu_ratio = h.cpu_ratio;
      x->memory_ratio = h.memory_ratio;
      x->updated_at = h.updated_at;
      x->last_position = h.last_position;
    } else {
      for (const auto& [vm, a] : allocations_) {
        if (a.host_id != host_id) continue;
        h.alloc_cpu += a.cpu;
        h.alloc_mem += a.mem;
        h.alloc_disk += a.disk;
      }
      hosts_.emplace(host_id, std::move(h));
    }
    return f.status();
  }

  Status HostCapacityUpdated(const Event& e, domain::EventFields& f, const std::string& id) {
    int64_t cpu = f.Int("cpu_count"), mem = f.Int("memory_mb"), disk = f.Int("disk_gb");
    STRATO_RETURN_IF_ERROR(f.status());
    if (Host* x = FindHost(id)) {
      x->cpu = cpu;
      x->mem = mem;
      x->disk = disk;
      x->updated_at = FormatRfc3339(e.recorded_at);
      x->last_position = e.position;
    }
    return f.status();
  }

  // Cordoned/uncordoned (`cordon`) or reachable/unreachable: the flag becomes `value`, with the
  // event's reason when the flag is set to what needs one (cordoned, unreachable).
  Status SetHostFlag(const Event& e, domain::EventFields& f, const std::string& id, bool cordon,
                     bool value) {
    std::string reason = value == cordon ? f.OptStr("reason").value_or("") : "";
    STRATO_RETURN_IF_ERROR(f.status());
    if (Host* x = FindHost(id)) {
      (cordon ? x->cordoned : x->reachable) = value;
      (cordon ? x->cordon_reason : x->unreachable_reason) = reason;
      x->updated_at = FormatRfc3339(e.recorded_at);
      x->last_position = e.position;
    }
    return f.status();
  }

  Status VmCreated(const Event& e, domain::EventFields& f) {
    Desired d;
    std::string vm_id = f.Str("vm_id");
    d.org_id = f.Str("org_id");
    d.name = f.Str("name");
    d.image = f.Str("image");
    d.cpu = f.Int("cpu_count");
    d.mem = f.Int("memory_mb");
    d.disk = f.Int("disk_gb");
    d.desired = f.Str("desired");
    d.generation = f.Int("generation");
    STRATO_RETURN_IF_ERROR(f.status());
    d.last_action = "create";
    d.position = e.position;
    if (!desired_.emplace(vm_id, std::move(d)).second) {
      return Status::Conflict("hosts: a duplicate VM at position " + std::to_string(e.position));
    }
    return f.status();
  }

  // Start, stop, reboot and the like (RequestOf): the desired state and the last action.
  Status VmRequested(const Event& e, domain::EventFields& f, const std::string& id, Request r) {
    bool force = e.type == "VmStopRequested" && f.Bool("force");
    int64_t generation = f.Int("generation");
    STRATO_RETURN_IF_ERROR(f.status());
    if (Desired* d = FindDesired(id)) {
      d->desired = std::string(r.desired);
      d->generation = generation;
      d->last_action = std::string(r.action);
      d->force = force;
      d->position = e.position;
    }
    return f.status();
  }

  // Deleted: desired "deleted", and its allocation given back to its host.
  Status VmDeleteRequested(const Event& e, domain::EventFields& f, const std::string& id) {
    int64_t generation = f.Int("generation");
    STRATO_RETURN_IF_ERROR(f.status());
    if (Desired* d = FindDesired(id)) {
      d->desired = "deleted";
      d->generation = generation;
      d->last_action = "delete";
      d->force = false;
      d->position = e.position;
    }
    auto a = allocations_.find(id);
    if (a != allocations_.end()) {
      Allocation old = a->second;
      allocations_.erase(a);
      Allocate(e, old.host_id, -old.cpu, -old.mem, -old.disk);
    }
    return f.status();
  }

  // Resized: the desired size, and its host's allocation by the difference.
  Status VmResized(const Event& e, domain::EventFields& f, const std::string& id) {
    int64_t cpu = f.Int("cpu_count"), mem = f.Int("memory_mb"), disk = f.Int("disk_gb"),
            generation = f.Int("generation");
    STRATO_RETURN_IF_ERROR(f.status());
    if (Desired* d = FindDesired(id)) {
      d->cpu = cpu;
      d->mem = mem;
      d->disk = disk;
      d->generation = generation;
      d->last_action = "resize";
      d->force = false;
      d->position = e.position;
    }
    auto a = allocations_.find(id);
    if (a != allocations_.end()) {
      Allocation old = a->second;
      a->second.cpu = cpu;
      a->second.mem = mem;
      a->second.disk = disk;
      Allocate(e, old.host_id, cpu - old.cpu, mem - old.mem, disk - old.disk);
    }
    return f.status();
  }

  Status VmRenamed(const Event& e, domain::EventFields& f, const std::string& id) {
    std::string name = f.Str("name");
    STRATO_RETURN_IF_ERROR(f.status());
    if (Desired* d = FindDesired(id)) {
      d->name = name;
      d->position = e.position;
    }
    return f.status();
  }

  // Placed on a host: the desired VM's host, and (unless deleted or already placed) an
  // allocation on it.
  Status VmScheduled(const Event& e, domain::EventFields& f, const std::string& id) {
    std::string host_id = f.Str("host_id");
    STRATO_RETURN_IF_ERROR(f.status());
    if (Desired* d = FindDesired(id)) {
      d->host_id = host_id;
      d->position = e.position;
      if (d->desired != "deleted" && !allocations_.count(id)) {
        allocations_.emplace(id, Allocation{host_id, d->cpu, d->mem, d->disk});
        Allocate(e, host_id, d->cpu, d->mem, d->disk);
      }
    }
    return f.status();
  }

  std::unordered_map<std::string, Host> hosts_;
  std::unordered_map<std::string, Allocation> allocations_;
  std::unordered_map<std::string, Desired> desired_;
};

}  // namespace

std::unique_ptr<BulkFold> HostProjection::StartBulk() const {
  return std::make_unique<HostBulk>();
}

}  // namespace strato::projections
