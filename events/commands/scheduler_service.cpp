#include "events/commands/scheduler_service.h"

#include <thread>

#include "core/domain/scheduler.h"
#include "core/log.h"

namespace strato::events {

SchedulerService::SchedulerService(EventStore& store, AppendWaiter* waiter,
                                   DomainCommands& commands)
    : store_(store), waiter_(waiter), commands_(commands) {}

Status SchedulerService::Fold() {
  for (;;) {
    auto batch = store_.ReadAll(position_, 2000);
    if (!batch.ok()) return batch.status();
    for (const auto& e : *batch) {
      std::string_view category = e.Category();
      std::string id = e.stream_id.substr(category.size() + 1);
      domain::DomainEvent de{e.type, e.data};
      Status s;
      if (category == "vm") {
        s = domain::Evolve(vms_[id], de);
      } else if (category == "host") {
        s = domain::Evolve(hosts_[id], de);
      }
      if (!s.ok()) return s.WithContext("scheduler folding position " + std::to_string(e.position));
      position_ = e.position;
    }
    if (batch->size() < 2000) return Status::Ok();
  }
}

Result<int> SchedulerService::Step() {
  STRATO_RETURN_IF_ERROR(Fold());
  std::map<std::string, domain::Resources> allocated;
  for (const auto& [id, vm] : vms_) {
    if (!vm.exists || vm.host_id.empty() || vm.desired == domain::VmDesiredState::kDeleted)
      continue;
    auto& a = allocated[vm.host_id];
    a.cpu_count += vm.resources.cpu_count;
    a.memory_mb += vm.resources.memory_mb;
    a.disk_gb += vm.resources.disk_gb;
  }
  std::vector<domain::HostView> views;
  for (const auto& [id, h] : hosts_) {
    if (!h.exists) continue;
    views.push_back({id, h.name, h.reachable, h.cordoned, h.capacity, allocated[id],
                     h.cpu_allocation_ratio, h.memory_allocation_ratio});
  }
  int placed = 0;
  CommandContext system;
  system.actor = "system";
  for (auto& [id, vm] : vms_) {
    if (!vm.exists || !vm.host_id.empty() || vm.desired == domain::VmDesiredState::kDeleted) {
      continue;
    }
    auto host = domain::PlaceVm(vm.resources, views);
    if (host.ok()) {
      auto out = commands_.Vm(system, id, domain::ScheduleVm{*host});
      if (!out.ok()) {
        log::Warn("scheduling a VM failed", {{"vm_id", id}, {"error", out.status().message()}});
        continue;
      }
      ++placed;
      vm.host_id = *host;  // count it before the event folds back, so one pass never overfills
      for (auto& v : views) {
        if (v.id != *host) continue;
        v.allocated.cpu_count += vm.resources.cpu_count;
        v.allocated.memory_mb += vm.resources.memory_mb;
        v.allocated.disk_gb += vm.resources.disk_gb;
      }
      log::Info("VM placed", {{"vm_id", id}, {"host_id", *host}});
    } else if (vm.placement_failure != host.status().message()) {
      auto out =
          commands_.Vm(system, id, domain::ReportVmPlacementFailure{host.status().message()});
      if (!out.ok()) {
        log::Warn("recording a placement failure failed",
                  {{"vm_id", id}, {"error", out.status().message()}});
      }
    }
  }
  return placed;
}

Status SchedulerService::Run(const std::atomic<bool>& stop) {
  bool warned = false;
  while (!stop) {
    auto placed = Step();
    if (!placed.ok()) {
      if (!warned)
        log::Warn("scheduler cannot read the log; retrying",
                  {{"error", placed.status().message()}});
      warned = true;
    } else {
      warned = false;
    }
    if (waiter_ != nullptr) {
      (void)waiter_->Wait(position_, std::chrono::milliseconds(1000));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  return Status::Ok();
}

}  // namespace strato::events
