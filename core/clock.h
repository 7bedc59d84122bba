// Clock: where time comes from, injectable so tests control it. SystemClock is thread-safe;
// ManualClock is for single-threaded tests unless the caller synchronises.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace strato {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
  static const SystemClock& Instance();
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : now_us_(ToMicros(start)) {}
  TimePoint Now() const override { return FromMicros(now_us_.load()); }
  void Advance(std::chrono::microseconds d) { now_us_ += d.count(); }

 private:
  static int64_t ToMicros(TimePoint t);
  static TimePoint FromMicros(int64_t us);
  std::atomic<int64_t> now_us_;
};

int64_t UnixMicros(TimePoint t);
TimePoint FromUnixMicros(int64_t us);
// RFC 3339 in UTC with microseconds: 2026-11-27T07:16:54.123456Z
std::string FormatRfc3339(TimePoint t);
// Parses RFC 3339 ("2026-11-27T07:16:54Z", fractions up to microseconds, "Z" or an offset
// such as "+01:00"); `what` names the value in the error sentence.
Result<TimePoint> ParseRfc3339(std::string_view text, std::string_view what);

}  // namespace strato
