#include "projections/queries/vm_queries.h"

#include "core/domain/vm.h"

namespace strato::projections {

namespace {

constexpr const char* kTime = "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'";

}  // namespace

std::string VmRecordColumns() {
  return std::string(
             "vm_id, org_id, owner_id, name, description, image, cpu_count, memory_mb, "
             "disk_gb, desired, generation, coalesce(host_id, ''), coalesce(placement_failure, "
             "''), observed, observed_generation, coalesce(observed_error, ''), to_char(created_at "
             "AT TIME ZONE 'UTC', ") +
         kTime + "), to_char(updated_at AT TIME ZONE 'UTC', " + kTime + "), last_position, deleted";
}

VmRecord VmRecordAt(const events::PgResult& r, int row, int first) {
  auto text = [&](int col) { return std::string(r.Get(row, first + col)); };
  auto number = [&](int col) { return r.GetInt64(row, first + col); };
  VmRecord v;
  v.id = text(0);
  v.org_id = text(1);
  v.owner_id = text(2);
  v.name = text(3);
  v.description = text(4);
  v.image = text(5);
  v.cpu_count = number(6);
  v.memory_mb = number(7);
  v.disk_gb = number(8);
  v.desired = text(9);
  v.generation = number(10);
  v.host_id = text(11);
  v.placement_failure = text(12);
  v.observed = text(13);
  v.observed_generation = number(14);
  v.observed_error = text(15);
  v.created_at = text(16);
  v.updated_at = text(17);
  v.position = number(18);
  v.deleted = r.Get(row, first + 19) == "t";
  return v;
}

Result<std::optional<VersionedVm>> ReadVm(events::PgConnection& db, const std::string& vm_id) {
  // The stream version a read model shows is the last event of that stream at or before the
  // projection's checkpoint. Rows and checkpoint commit together and are read by one statement
  // (one snapshot), so the version is exactly the one the row was folded from.
  auto r = db.Exec("SELECT " + VmRecordColumns() +
                       ", (SELECT coalesce(max(e.stream_version), 0) FROM events e WHERE "
                       "e.stream_id = $2 AND e.global_position <= coalesce((SELECT c.position "
                       "FROM projection_checkpoints c WHERE c.name = 'vms'), 0)) FROM vms WHERE "
                       "vm_id = $1",
                   {vm_id, domain::VmStreamId(vm_id)});
  if (!r.ok()) return r.status().WithContext("reading VM " + vm_id);
  if (r->rows() == 0) return std::optional<VersionedVm>();
  return std::optional<VersionedVm>(VersionedVm{VmRecordAt(*r, 0), r->GetInt64(0, 20)});
}

Result<std::optional<std::string>> ReadVmName(events::PgConnection& db, const std::string& vm_id) {
  auto r = db.Exec("SELECT name FROM vms WHERE vm_id = $1", {vm_id});
  if (!r.ok()) return r.status().WithContext("reading VM " + vm_id);
  if (r->rows() == 0) return std::optional<std::string>();
  return std::optional<std::string>(std::string(r->Get(0, 0)));
}

Result<VmListChanges> ReadVmListChanges(events::PgConnection& db, int64_t after_position) {
  const std::string since = std::to_string(after_position);
  auto vms = db.Exec("SELECT " + VmRecordColumns() + " FROM vms WHERE last_position > $1", {since});
  if (!vms.ok()) return vms.status().WithContext("reading the VM list");
  auto orgs = db.Exec("SELECT org_id, name FROM organizations WHERE last_position > $1", {since});
  if (!orgs.ok()) return orgs.status().WithContext("reading organization names");
  auto hosts =
      db.Exec("SELECT host_id, name, reachable FROM hosts WHERE last_position > $1", {since});
  if (!hosts.ok()) return hosts.status().WithContext("reading host names");
  VmListChanges out;
  out.vms.reserve(static_cast<size_t>(vms->rows()));
  for (int i = 0; i < vms->rows(); ++i) out.vms.push_back(VmRecordAt(*vms, i));
  for (int i = 0; i < orgs->rows(); ++i) {
    out.org_names.emplace_back(std::string(orgs->Get(i, 0)), std::string(orgs->Get(i, 1)));
  }
  for (int i = 0; i < hosts->rows(); ++i) {
    out.hosts.emplace_back(std::string(hosts->Get(i, 0)),
                           HostLabel{std::string(hosts->Get(i, 1)), hosts->Get(i, 2) == "t"});
  }
  return out;
}

}  // namespace strato::projections
