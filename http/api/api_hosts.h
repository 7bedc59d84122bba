// The JSON API for hosts, for platform operators and admins:
//
//   GET  /api/v1/hosts                 the hosts the user may read (host#read lookup; an empty
//                                      list for everyone else)
//   GET  /api/v1/hosts/{id}            host:{id}#read
//   POST /api/v1/hosts/{id}/cordon     host:{id}#manage; body {"reason": "..."} (optional,
//                                      at most 500 characters): the host takes no new VMs
//   POST /api/v1/hosts/{id}/uncordon   host:{id}#manage; body empty or {}
//
// A host is {"id", "name", "address", "hypervisor": {"kind", "version"}, "capacity":
// {"cpu_count"|"memory_mb"|"disk_gb": {"total", "allocated", "free"}}, "reachable",
// "unreachable_reason", "cordoned", "cordon_reason", "vm_count", "may_manage",
// "registered_at", "updated_at", "position"}. Commands answer with the host as it is after them
// (read-your-writes). Errors are JsonError's shape.
//
// Also here, for the hosts page and the dashboard: ReadHosts, the hosts read model rows for a
// set of ids. Handlers run on the server's threads; the App is borrowed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/domain/domain_event.h"
#include "http/app/app.h"
#include "http/server/router.h"

namespace strato::http {

void AddHostApiRoutes(Router& router, App& app);

struct HostRow {
  std::string id, name, address, hypervisor_kind, hypervisor_version, cordon_reason,
      unreachable_reason, registered_at, updated_at;  // times in RFC 3339, UTC
  domain::Resources capacity, allocated;
  bool cordoned = false, reachable = true;
  int64_t vm_count = 0;  // VMs placed on the host and not deleted
  int64_t position = 0;  // the last event folded into the row
};

// The hosts among `ids` that the hosts read model has, by name.
Result<std::vector<HostRow>> ReadHosts(const App& app, const std::vector<std::string>& ids);

// What is free of `total` once `allocated` is taken (never below 0).
inline int64_t FreeOf(int64_t total, int64_t allocated) {
  return total > allocated ? total - allocated : 0;
}

}  // namespace strato::http
