// Reads for the operator's gauges (/metrics): the log's end, each projection's checkpoint, hosts
// by state and VMs by observed and desired state, as one struct. Parameterized statements on the
// caller's session; no state. Safe from any thread with its own session.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "events/pg/pg.h"

namespace strato::projections {

struct ProjectionCheckpoint {
  std::string name;
  int64_t position = 0;
  bool stopped = false;  // stopped on an event it could not apply
};

struct StateCount {
  std::string state;    // hosts: "cordoned", "reachable", "unreachable"
  std::string desired;  // VMs only
  int64_t count = 0;
};

struct StatusSnapshot {
  int64_t log_end = 0;
  std::vector<ProjectionCheckpoint> checkpoints;  // by name
  std::vector<StateCount> hosts;                  // every host state, zero counts included
  std::vector<StateCount> vms;                    // (observed, desired) pairs that exist
};

Result<StatusSnapshot> ReadStatusSnapshot(events::PgConnection& db);

}  // namespace strato::projections
