#include "core/domain/scheduler.h"

#include <algorithm>
#include <tuple>

#include "core/domain/host.h"

namespace strato::domain {
namespace {

Resources Schedulable(const HostView& h) {
  return SchedulableCapacity(h.capacity, h.cpu_allocation_ratio, h.memory_allocation_ratio);
}

Resources Free(const HostView& h) {
  const Resources total = Schedulable(h);
  return {std::max<int64_t>(0, total.cpu_count - h.allocated.cpu_count),
          std::max<int64_t>(0, total.memory_mb - h.allocated.memory_mb),
          std::max<int64_t>(0, total.disk_gb - h.allocated.disk_gb)};
}

bool Fits(const Resources& need, const Resources& free) {
  return need.cpu_count <= free.cpu_count && need.memory_mb <= free.memory_mb &&
         need.disk_gb <= free.disk_gb;
}

// Compares a/b with c/d exactly (b and d > 0): -1, 0 or 1. Values stay far below 2^63.
int CompareFractions(int64_t a, int64_t b, int64_t c, int64_t d) {
  __int128 l = static_cast<__int128>(a) * d, r = static_cast<__int128>(c) * b;
  return l < r ? -1 : l > r ? 1 : 0;
}

std::string Describe(const Resources& r) {
  return std::to_string(r.cpu_count) + (r.cpu_count == 1 ? " CPU, " : " CPUs, ") +
         std::to_string(r.memory_mb) + " MiB and " + std::to_string(r.disk_gb) + " GiB";
}

std::string NameOf(const HostView& h) {
  return h.name.empty() ? h.id : h.name;
}

std::string Count(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

Result<HostId> PlaceVm(const VmSpec& vm, const std::vector<HostView>& hosts) {
  if (hosts.empty()) {
    return Status::FailedPrecondition("no host is registered to run VMs on");
  }
  const HostView* best = nullptr;
  Resources best_after;
  const HostView* largest = nullptr;  // the eligible host with the most free memory
  size_t cordoned = 0, unreachable = 0;
  for (const HostView& h : hosts) {
    if (!h.reachable) {
      ++unreachable;
      continue;
    }
    if (h.cordoned) {
      ++cordoned;
      continue;
    }
    Resources free = Free(h);
    if (largest == nullptr) {
      largest = &h;
    } else {
      Resources lf = Free(*largest);
      if (std::tie(free.memory_mb, free.cpu_count, free.disk_gb) >
              std::tie(lf.memory_mb, lf.cpu_count, lf.disk_gb) ||
          (free == lf && h.id < largest->id)) {
        largest = &h;
      }
    }
    const Resources total = Schedulable(h);
    if (!Fits(vm, free) || total.memory_mb <= 0 || total.cpu_count <= 0) continue;
    Resources after{free.cpu_count - vm.cpu_count, free.memory_mb - vm.memory_mb,
                    free.disk_gb - vm.disk_gb};
    bool better = best == nullptr;
    if (!better) {
      const Resources best_total = Schedulable(*best);
      int mem = CompareFractions(after.memory_mb, total.memory_mb, best_after.memory_mb,
                                 best_total.memory_mb);
      int cpu = CompareFractions(after.cpu_count, total.cpu_count, best_after.cpu_count,
                                 best_total.cpu_count);
      better = mem > 0 || (mem == 0 && (cpu > 0 || (cpu == 0 && h.id < best->id)));
    }
    if (better) {
      best = &h;
      best_after = after;
    }
  }
  if (best != nullptr) return best->id;

  if (largest == nullptr) {
    std::string why = "no host can take VMs: ";
    if (cordoned > 0 && unreachable > 0) {
      why += Count(cordoned, "host is", "hosts are") + " cordoned and " +
             Count(unreachable, "is", "are") + " unreachable";
    } else if (cordoned > 0) {
      why += cordoned == 1 ? "the only host is cordoned"
                           : "all " + Count(cordoned, "", "hosts") + " are cordoned";
    } else {
      why += unreachable == 1 ? "the only host is unreachable"
                              : "all " + Count(unreachable, "", "hosts") + " are unreachable";
    }
    return Status::FailedPrecondition(why);
  }
  return Status::FailedPrecondition("no host has room for " + Describe(vm) +
                                    ": the largest free is " + NameOf(*largest) + " with " +
                                    Describe(Free(*largest)));
}

}  // namespace strato::domain
