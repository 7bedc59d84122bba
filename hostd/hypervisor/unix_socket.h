// Blocking unix-socket plumbing shared by the drivers' clients (HTTP for Cloud Hypervisor, QMP
// for QEMU): a descriptor that closes itself, waiting with a deadline, connecting with a
// deadline and sentences that say what was wrong. Plain functions; any thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/status.h"

namespace strato::hostd {

using SocketClock = std::chrono::steady_clock;

// A file descriptor closed when it goes out of scope.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset();

 private:
  int fd_ = -1;
};

// Milliseconds until `deadline` (0 once it has passed), for poll().
int MillisLeft(SocketClock::time_point deadline);

// Waits until `fd` is ready for `events` (POLLIN, POLLOUT) or the deadline passes. False on
// timeout; true when ready or when the descriptor has an error the next call will report.
bool WaitFor(int fd, short events, SocketClock::time_point deadline);

// A non-blocking stream socket connected to `socket_path` before `deadline`. Errors are
// kUnavailable with a sentence that names `what` ("API socket", "QMP socket") and the path: nothing
// there, nobody listening, timed out. kInvalidArgument when the path is too long.
Result<UniqueFd> ConnectUnix(const std::string& socket_path, std::string_view what,
                             SocketClock::time_point deadline);

}  // namespace strato::hostd
