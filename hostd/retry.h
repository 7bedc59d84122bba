// Back-off and the one retry helper of hostd.
//
// Backoff: the wait after a number of failures in a row (doubling from a first wait up to a
// cap). The supervisor uses it for a VM's failed steps and its VMM's crashes.
//
// RetryingRequest: a request to the control plane that is retried (register, the full desired
// fetch, the partial fetch queue, following the host's events, the report flush): at most one
// in flight, and after a failure none again before its back-off has passed. Loop thread only;
// time comes from the caller (hostd/clock.h), so tests drive it.
#pragma once

#include <chrono>

#include "hostd/clock.h"

namespace strato::hostd {

// `first` for one failure (or none), doubling for each further one, never more than `cap`.
std::chrono::milliseconds Backoff(int failures, std::chrono::milliseconds first,
                                  std::chrono::milliseconds cap);

class RetryingRequest {
 public:
  // After `failures` failures in a row the next attempt waits Backoff(failures, first, cap);
  // first == cap is a fixed wait, 0 retries at the next chance.
  RetryingRequest(std::chrono::milliseconds first, std::chrono::milliseconds cap)
      : first_(first), cap_(cap) {}

  bool in_flight() const { return in_flight_; }
  int failures() const { return failures_; }  // in a row; 0 after a success
  SteadyTime next_attempt() const { return next_attempt_; }

  // May a request start: none in flight and the back-off (or a RetryAfter) has passed.
  bool Due(SteadyTime now) const { return !in_flight_ && now >= next_attempt_; }
  // A request is now in flight.
  void Start() { in_flight_ = true; }
  // It came back and did what it was for: the failures are forgotten.
  void Succeeded() {
    in_flight_ = false;
    failures_ = 0;
  }
  // It came back failed: one more failure; the next attempt waits Backoff(). The wait.
  std::chrono::milliseconds Failed(SteadyTime now) {
    in_flight_ = false;
    ++failures_;
    const std::chrono::milliseconds wait = Backoff();
    next_attempt_ = now + wait;
    return wait;
  }
  // Some of it must be asked again (not a failure): not before `delay` from now.
  void RetryAfter(SteadyTime now, std::chrono::milliseconds delay) { next_attempt_ = now + delay; }
  // The wait after the failures counted so far.
  std::chrono::milliseconds Backoff() const { return hostd::Backoff(failures_, first_, cap_); }

 private:
  std::chrono::milliseconds first_, cap_;
  bool in_flight_ = false;
  int failures_ = 0;
  SteadyTime next_attempt_{};
};

}  // namespace strato::hostd
