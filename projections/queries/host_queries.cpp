#include "projections/queries/host_queries.h"

namespace strato::projections {

namespace {

constexpr const char* kTime = "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'";

}  // namespace

Result<std::vector<HostRow>> ReadHosts(events::PgConnection& db,
                                       const std::vector<std::string>& ids) {
  std::vector<HostRow> out;
  if (ids.empty()) return out;
  events::PgArray array;
  for (const std::string& id : ids) array.Add(id);
  auto r = db.Exec(
      std::string("SELECT h.host_id, h.name, h.address, h.hypervisor_kind, h.hypervisor_version, "
                  "h.cordon_reason, h.unreachable_reason, to_char(h.registered_at AT TIME ZONE "
                  "'UTC', ") +
          kTime + "), to_char(h.updated_at AT TIME ZONE 'UTC', " + kTime +
          "), h.cpu_count, h.memory_mb, h.disk_gb, h.allocated_cpu_count, "
          "h.allocated_memory_mb, h.allocated_disk_gb, h.cordoned, h.reachable, (SELECT count(*) "
          "FROM host_allocations a WHERE a.host_id = h.host_id), h.last_position, h.accelerator, "
          "h.cpu_allocation_ratio, h.memory_allocation_ratio FROM hosts h "
          "WHERE h.host_id = ANY($1::text[]) ORDER BY h.name, h.host_id",
      {array.Literal()});
  if (!r.ok()) return r.status().WithContext("reading hosts");
  for (int i = 0; i < r->rows(); ++i) {
    HostRow h;
    std::string* text[] = {&h.id,
                           &h.name,
                           &h.address,
                           &h.hypervisor_kind,
                           &h.hypervisor_version,
                           &h.cordon_reason,
                           &h.unreachable_reason,
                           &h.registered_at,
                           &h.updated_at};
    for (int c = 0; c < 9; ++c) *text[c] = std::string(r->Get(i, c));
    h.capacity = {r->GetInt64(i, 9), r->GetInt64(i, 10), r->GetInt64(i, 11)};
    h.allocated = {r->GetInt64(i, 12), r->GetInt64(i, 13), r->GetInt64(i, 14)};
    h.cordoned = r->Get(i, 15) == "t";
    h.reachable = r->Get(i, 16) == "t";
    h.vm_count = r->GetInt64(i, 17);
    h.position = r->GetInt64(i, 18);
    h.accelerator = std::string(r->Get(i, 19));
    h.cpu_allocation_ratio = r->GetInt64(i, 20);
    h.memory_allocation_ratio = r->GetInt64(i, 21);
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace strato::projections
