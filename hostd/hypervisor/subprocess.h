// Running a short-lived helper program (qemu-system-x86_64 --version, genisoimage) without a
// shell: argv goes to posix_spawnp as is, so no argument is ever interpreted. Blocking; any
// thread.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/status.h"

namespace strato::hostd {

struct CommandOutput {
  int exit_status = -1;    // the exit status; -1 when killed by a signal
  std::string output;      // stdout and stderr together, at most kMaxCommandOutput bytes
  bool timed_out = false;  // it ran longer than the timeout and was killed
};

constexpr size_t kMaxCommandOutput = 64 * 1024;

// Runs argv[0] (searched on PATH when it has no '/'), stdin from /dev/null, with every other
// descriptor closed, and waits for it. kUnavailable when it cannot be started. One that runs
// longer than `timeout` is killed (SIGKILL) and its output returned with `timed_out` set.
Result<CommandOutput> RunCommand(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout);

}  // namespace strato::hostd
