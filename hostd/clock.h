// Steady time for hostd, injectable so tests drive it. core/clock.h's Clock is wall-clock time
// (heartbeats, a graceful stop's deadline kept on disk); the daemon's back-offs, retry times and
// the age of a VMM process are steady time, read from a SteadyClock. Both clocks are handed to
// the daemon (DaemonClocks in daemon.h): the supervisor and the control link read no other
// time. (A reconcile step's blocking wait for a new VMM's API, on a worker thread with real
// sleeps, reads steady_clock itself.) SystemSteadyClock and ManualSteadyClock (an atomic, for
// tests) are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace strato::hostd {

using SteadyTime = std::chrono::steady_clock::time_point;

class SteadyClock {
 public:
  virtual ~SteadyClock() = default;
  virtual SteadyTime Now() const = 0;
};

class SystemSteadyClock final : public SteadyClock {
 public:
  SteadyTime Now() const override { return std::chrono::steady_clock::now(); }
  static const SystemSteadyClock& Instance() {
    static const SystemSteadyClock clock;
    return clock;
  }
};

// Starts at the steady clock's epoch plus `start`; moves only when told.
class ManualSteadyClock final : public SteadyClock {
 public:
  explicit ManualSteadyClock(std::chrono::nanoseconds start = std::chrono::hours(1))
      : now_ns_(start.count()) {}
  SteadyTime Now() const override {
    return SteadyTime(
        std::chrono::duration_cast<SteadyTime::duration>(std::chrono::nanoseconds(now_ns_.load())));
  }
  void Advance(std::chrono::nanoseconds d) { now_ns_ += d.count(); }

 private:
  std::atomic<int64_t> now_ns_;
};

}  // namespace strato::hostd
