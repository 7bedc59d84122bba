// Test helpers for the hypervisor tests: a scratch directory and cloud-hypervisor-simulator
// child processes (fork/exec; stderr and stdout go to a log file that tests can read).
//
// Not thread-safe; use each object from one test thread. Destructors SIGKILL and reap what they
// started and remove what they created, so a failing test leaves nothing behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace strato::hypervisor_test {

// The simulator binary built next to the tests.
std::string SimulatorBinary();
// The folder holding cloud-hypervisor.yaml and ENDPOINTS.md.
std::string ConformanceDir();

// A fresh directory under $TMPDIR (or /tmp), removed with its contents by the destructor.
// Paths stay short: unix socket paths are limited to 107 bytes.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

class SimProcess {
 public:
  // Starts `argv` (argv[0] = program) with stdin from /dev/null and stdout+stderr appended to
  // `log_path`. With die_with_parent, the child gets SIGKILL when this thread exits.
  static Result<std::unique_ptr<SimProcess>> Spawn(const std::vector<std::string>& argv,
                                                   const std::string& log_path,
                                                   bool die_with_parent = true);
  ~SimProcess();
  SimProcess(const SimProcess&) = delete;
  SimProcess& operator=(const SimProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool Running();
  Status Signal(int signal);
  // The exit code, or 128 + signal; kDeadlineExceeded if still running at the timeout.
  Result<int> Wait(std::chrono::milliseconds timeout);
  std::string Log() const;

 private:
  SimProcess(pid_t pid, std::string log_path) : pid_(pid), log_path_(std::move(log_path)) {}
  bool Reap(bool block);

  pid_t pid_;
  std::string log_path_;
  bool reaped_ = false;
  int exit_code_ = -1;
};

// Starts the simulator serving `socket_path` (extra arguments appended) and waits until the
// socket accepts connections.
Result<std::unique_ptr<SimProcess>> StartSimulator(const std::string& socket_path,
                                                   const std::vector<std::string>& extra = {});

// Waits until something accepts connections on the unix socket.
Status WaitForSocket(const std::string& socket_path, std::chrono::milliseconds timeout);

// Reads a whole file ("" if missing).
std::string ReadFile(const std::string& path);

// Sends raw bytes on a fresh connection and returns everything received until the peer closes
// or `quiet` passes without data (for tests of the server's HTTP handling).
Result<std::string> RawExchange(const std::string& socket_path, const std::string& bytes,
                                std::chrono::milliseconds quiet = std::chrono::milliseconds(300));

}  // namespace strato::hypervisor_test
