#include "projections/queries/status_queries.h"

namespace strato::projections {

Result<StatusSnapshot> ReadStatusSnapshot(events::PgConnection& db) {
  StatusSnapshot s;
  auto end = db.Exec("SELECT coalesce(max(global_position), 0) FROM events");
  if (!end.ok()) return end.status().WithContext("reading the log's end");
  s.log_end = end->GetInt64(0, 0);

  auto cps =
      db.Exec("SELECT name, position, error IS NOT NULL FROM projection_checkpoints ORDER BY name");
  if (!cps.ok()) return cps.status().WithContext("reading projection checkpoints");
  for (int i = 0; i < cps->rows(); ++i) {
    s.checkpoints.push_back(
        {std::string(cps->Get(i, 0)), cps->GetInt64(i, 1), cps->Get(i, 2) == "t"});
  }

  auto hosts = db.Exec(
      "SELECT s, count(h.host_id) FROM (VALUES ('reachable'), ('unreachable'), ('cordoned')) "
      "AS v(s) LEFT JOIN hosts h ON (v.s = 'reachable' AND h.reachable AND NOT h.cordoned) OR "
      "(v.s = 'unreachable' AND NOT h.reachable) OR (v.s = 'cordoned' AND h.reachable AND "
      "h.cordoned) GROUP BY s ORDER BY s");
  if (!hosts.ok()) return hosts.status().WithContext("counting hosts by state");
  for (int i = 0; i < hosts->rows(); ++i) {
    s.hosts.push_back({std::string(hosts->Get(i, 0)), "", hosts->GetInt64(i, 1)});
  }

  auto vms = db.Exec(
      "SELECT observed, desired, count(*) FROM vms WHERE NOT deleted GROUP BY observed, desired "
      "ORDER BY 1, 2");
  if (!vms.ok()) return vms.status().WithContext("counting VMs by state");
  for (int i = 0; i < vms->rows(); ++i) {
    s.vms.push_back(
        {std::string(vms->Get(i, 0)), std::string(vms->Get(i, 1)), vms->GetInt64(i, 2)});
  }
  return s;
}

}  // namespace strato::projections
