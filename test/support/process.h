// Child processes for integration tests: a generic ChildProcess (spawn, signal, wait, reap) and
// NatsServerProcess, a throwaway nats-server with JetStream on a free loopback port.
//
// Neither class is thread-safe: use each from one thread at a time. Destructors kill and reap
// what they started, so a failing test leaves no process behind; children also die with the
// thread that spawned them (PR_SET_PDEATHSIG), so a crashed test run leaves none either.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace strato::test {

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
int FreePort();

// Waits until something accepts TCP connections on 127.0.0.1:port.
Status WaitForPort(int port, std::chrono::milliseconds timeout);

// A directory for test files: $STRATO_TEST_TMPDIR, else $TMPDIR, else /tmp.
std::string TestTempRoot();
// Creates a fresh directory under TestTempRoot() named <prefix>XXXXXX.
Result<std::string> MakeTempDir(const std::string& prefix);

// A fresh directory under TestTempRoot(), removed with its contents by the destructor unless
// STRATO_KEEP_TMPDIR=1 (as for ./ops/test), so that logs of a failed run can be read.
class TempDir {
 public:
  static Result<std::unique_ptr<TempDir>> Make(const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

struct ChildOptions {
  std::vector<std::string> argv;           // argv[0] is the program path
  std::map<std::string, std::string> env;  // added to this process's environment (overriding)
  std::string log_path;                    // stdout and stderr, appended; empty: /dev/null
};

class ChildProcess {
 public:
  static Result<std::unique_ptr<ChildProcess>> Spawn(const ChildOptions& options);
  ~ChildProcess();  // SIGKILL if still running, then reap
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool Running();
  Status Kill(int signal);
  // The exit code, or 128 + signal number when a signal ended it; kDeadlineExceeded if it is
  // still running at the timeout.
  Result<int> Wait(std::chrono::milliseconds timeout);
  const std::string& log_path() const { return log_path_; }

 private:
  ChildProcess(pid_t pid, std::string log_path) : pid_(pid), log_path_(std::move(log_path)) {}
  bool Reap(bool block);

  pid_t pid_;
  std::string log_path_;
  bool reaped_ = false;
  int exit_code_ = -1;
};

// nats-server -js -a 127.0.0.1 -p <port> -sd <store dir>; the binary is
// $STRATO_NATS_SERVER_BIN, else nats-server from /usr/bin, /usr/sbin (Debian) or $PATH. The
// port is chosen at the first Start and kept, like the store directory, across
// Stop/Start/Restart, so clients can reconnect.
class NatsServerProcess {
 public:
  // Empty store_dir: <TempDir>/store, with the server's log beside it as <TempDir>/nats.log;
  // the TempDir goes with this object. Otherwise the log is <store_dir>.log and both stay.
  explicit NatsServerProcess(std::string store_dir = "");
  ~NatsServerProcess();
  NatsServerProcess(const NatsServerProcess&) = delete;
  NatsServerProcess& operator=(const NatsServerProcess&) = delete;

  // Starts the server and waits (up to 20 s) until it accepts connections.
  Status Start();
  // SIGTERM, then waits up to 10 s (SIGKILL after that).
  Status Stop();
  // SIGKILL: a crash.
  Status Kill();
  Status Restart();
  bool Running();

  std::string url() const;  // nats://127.0.0.1:<port>
  int port() const { return port_; }
  const std::string& store_dir() const { return store_dir_; }
  const std::string& log_path() const { return log_path_; }

 private:
  Status StartOnce();

  std::string store_dir_;
  std::unique_ptr<TempDir> own_dir_;
  std::string log_path_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> child_;
};

}  // namespace strato::test
