// SchedulerService: places new VMs on hosts. It folds the log into the hosts (capacity,
// cordon, reachability) and the VMs (spec, placement, desired state) it needs, and for every VM
// not yet placed and not deleted asks domain::PlaceVm, recording the answer as a ScheduleVm
// command (VmScheduled) or, when no host has room, ReportVmPlacementFailure (VmPlacementFailed
// with the reason; an unchanged reason appends nothing). Pending VMs are looked at again
// whenever the log moves, so a VM is placed when capacity appears (a host registers or is
// uncordoned, a VM is deleted).
//
// Runs in one instance at a time (the leader). Run and Step are for one thread; the store,
// waiter and commands are borrowed and must outlive the service.
#pragma once

#include <atomic>
#include <map>
#include <string>

#include "core/domain/host.h"
#include "core/domain/vm.h"
#include "events/commands/domain_commands.h"

namespace strato::events {

class SchedulerService {
 public:
  SchedulerService(EventStore& store, AppendWaiter* waiter, DomainCommands& commands);

  // Folds new events and places what is pending; returns how many VMs it placed.
  Result<int> Step();
  // Steps until `stop`, waiting for appends in between.
  Status Run(const std::atomic<bool>& stop);

 private:
  Status Fold();

  EventStore& store_;
  AppendWaiter* waiter_;
  DomainCommands& commands_;
  int64_t position_ = 0;
  std::map<std::string, domain::HostState> hosts_;  // host id -> state
  std::map<std::string, domain::VmState> vms_;      // vm id -> state
};

}  // namespace strato::events
