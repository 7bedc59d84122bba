#include "projections/queries/page_queries.h"

namespace strato::projections {

namespace {

constexpr const char* kTime = "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'";

std::string UtcText(const char* column) {
  return std::string("to_char(") + column + " AT TIME ZONE 'UTC', " + kTime + ")";
}

}  // namespace

Result<std::optional<VmDetail>> ReadVmDetail(events::PgConnection& db, const std::string& id) {
  auto r = db.Exec(
      "SELECT v.vm_id, v.org_id, coalesce(o.name, ''), v.owner_id, coalesce(u.username, ''), "
      "v.name, v.description, v.image, v.desired, coalesce(v.host_id, ''), coalesce(h.name, ''), "
      "coalesce(v.placement_failure, ''), v.observed, coalesce(v.observed_error, ''), " +
          UtcText("v.created_at") + ", " + UtcText("v.updated_at") +
          ", v.cpu_count, v.memory_mb, v.disk_gb, v.generation, v.observed_generation, "
          "coalesce(h.reachable, true), v.deleted FROM vms v LEFT JOIN organizations o ON "
          "o.org_id = v.org_id COLLATE \"default\" LEFT JOIN users u ON u.user_id = v.owner_id "
          "COLLATE \"default\" LEFT JOIN hosts h ON h.host_id = v.host_id COLLATE \"default\" "
          "WHERE v.vm_id = $1",
      {id});
  if (!r.ok()) return r.status().WithContext("reading the VM");
  if (r->rows() == 0) return std::optional<VmDetail>();
  VmDetail v;
  std::string* text[] = {&v.id,       &v.org_id,         &v.org_name,    &v.owner_id,
                         &v.owner,    &v.name,           &v.description, &v.image,
                         &v.desired,  &v.host_id,        &v.host_name,   &v.placement_failure,
                         &v.observed, &v.observed_error, &v.created_at,  &v.updated_at};
  for (int c = 0; c < 16; ++c) *text[c] = std::string(r->Get(0, c));
  v.cpu = r->GetInt64(0, 16);
  v.memory = r->GetInt64(0, 17);
  v.disk = r->GetInt64(0, 18);
  v.generation = r->GetInt64(0, 19);
  v.observed_generation = r->GetInt64(0, 20);
  v.host_reachable = r->Get(0, 21) == "t";
  v.deleted = r->Get(0, 22) == "t";
  return std::optional<VmDetail>(std::move(v));
}

Result<EntityNames> ReadEntityNames(events::PgConnection& db, const EntityIdSets& ids) {
  auto array = [](const std::set<std::string>& s) {
    events::PgArray a;
    for (const std::string& id : s) a.Add(id);
    return a.Literal();
  };
  auto r = db.Exec(
      "SELECT 'user-' || user_id, username, false FROM users WHERE user_id = ANY($1::text[]) "
      "UNION ALL SELECT 'host-' || host_id, name, false FROM hosts WHERE host_id = "
      "ANY($2::text[]) UNION ALL SELECT 'vm-' || vm_id, name, deleted FROM vms WHERE vm_id = "
      "ANY($3::text[]) UNION ALL SELECT 'org-' || org_id, name, false FROM organizations WHERE "
      "org_id = ANY($4::text[])",
      {array(ids.users), array(ids.hosts), array(ids.vms), array(ids.orgs)});
  if (!r.ok()) return r.status().WithContext("reading names for the audit log");
  EntityNames out;
  for (int i = 0; i < r->rows(); ++i) {
    out.name[std::string(r->Get(i, 0))] = std::string(r->Get(i, 1));
    if (r->Get(i, 2) == "t") out.deleted.insert(std::string(r->Get(i, 0)));
  }
  return out;
}

}  // namespace strato::projections
