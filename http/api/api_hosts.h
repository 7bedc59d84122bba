// The JSON API for hosts, for platform operators and admins:
//
//   GET  /api/v1/hosts                 the hosts the user may read (host#read lookup; an empty
//                                      list for everyone else)
//   GET  /api/v1/hosts/{id}            host:{id}#read
//   POST /api/v1/hosts/{id}/cordon     host:{id}#manage; body {"reason": "..."} (optional,
//                                      at most 500 characters): the host takes no new VMs
//   POST /api/v1/hosts/{id}/uncordon   host:{id}#manage; body empty or {}
//
// A host is {"id", "name", "address", "hypervisor": {"kind", "version", "accelerator"},
// "capacity": {"cpu_count"|"memory_mb"|"disk_gb": {"physical", "allocation_ratio", "total",
// "allocated", "free"}}, "reachable",
// "unreachable_reason", "cordoned", "cordon_reason", "vm_count", "may_manage",
// "registered_at", "updated_at", "position"}. total = physical x allocation_ratio (N:1, the
// host's setting; disk 1:1) is what the scheduler may place; free = total - allocated, never
// below 0 (an allocation made before a ratio was lowered may exceed it). Commands answer with the
// host as it is after them (read-your-writes). Errors are JsonError's shape.
//
// Also here, for the hosts page and the dashboard: ReadHosts, the hosts read model rows for a
// set of ids (through App::queries). Handlers run on the server's threads; the App is borrowed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "http/app/app.h"
#include "http/server/router.h"
#include "projections/queries/host_queries.h"

namespace strato::http {

void AddHostApiRoutes(Router& router, App& app);

// A host as the hosts read model has it (projections/queries/host_queries.h).
using projections::FreeOf;
using projections::HostRow;

// The hosts among `ids` that the hosts read model has, by name (App::queries).
Result<std::vector<HostRow>> ReadHosts(const App& app, const std::vector<std::string>& ids);

}  // namespace strato::http
