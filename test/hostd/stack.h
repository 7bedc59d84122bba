// A whole Strato stack for hostd's integration tests: a scratch PostgreSQL database, a
// throwaway nats-server, a real `strato serve` and real strato-hostd processes driving the
// Cloud Hypervisor simulator. Commands go in through DomainCommands on the test's store (as the
// HTTP API would); state is read back from the log. One test thread owns a Stack; its
// destructor stops the processes and kills any VMM left under its state folders.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/domain/host.h"
#include "core/domain/vm.h"
#include "events/commands/domain_commands.h"
#include "test/support/process.h"
#include "test/support/test_env.h"

namespace strato::test {

class Stack {
 public:
  explicit Stack(std::map<std::string, std::string> serve_env = {});
  ~Stack();

  TestDatabase& db() { return db_; }
  NatsServerProcess& nats() { return nats_; }
  events::DomainCommands& commands() { return commands_; }
  const std::string& root() const { return dir_->path(); }

  // Starts strato-hostd for `host_id` with its state folder <root>/<host_id> (kept across
  // restarts of the same host).
  ChildProcess& StartHostd(const std::string& host_id,
                           std::map<std::string, std::string> extra_env = {});
  ChildProcess* hostd(const std::string& host_id);
  void DropHostd(const std::string& host_id);  // forget (after it was killed)
  std::string StateDir(const std::string& host_id) const { return root() + "/" + host_id; }

  // A new VM (created running unless start = false); returns its id.
  std::string CreateVm(const std::string& name, bool start = true);
  Status Command(const std::string& vm_id, const domain::VmCommand& command);
  domain::VmState Vm(const std::string& vm_id);
  domain::HostState Host(const std::string& host_id);
  // The VM's event types, in order.
  std::vector<std::string> History(const std::string& vm_id);

  // Polls `done` every 50 ms until it holds or `timeout` passes; returns whether it held.
  static bool WaitUntil(const std::function<bool()>& done,
                        std::chrono::milliseconds timeout = std::chrono::seconds(30));

  std::string serve_log() const { return serve_->log_path(); }

 private:
  TestDatabase db_;
  NatsServerProcess nats_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ChildProcess> serve_;
  events::DomainCommands commands_;
  std::map<std::string, std::unique_ptr<ChildProcess>> hostds_;
  std::string org_id_;
  std::string user_id_;
};

// VMM processes whose command line names a socket under `state_dir`: vm id -> pids.
std::map<std::string, std::vector<pid_t>> VmmProcesses(const std::string& state_dir);
// How many TCP sockets process `pid` holds (a VMM should hold none: not hostd's NATS socket).
int TcpSocketsOf(pid_t pid);
// What the VM's VMM under `state_dir` says on vm.info ("Created" for a prepared VMM, "Running",
// "NotCreated", ...); empty when no VMM answers on its socket.
std::string VmmState(const std::string& state_dir, const std::string& vm_id);
// Sends SIGKILL to every VMM under `state_dir`.
void KillVmms(const std::string& state_dir);

std::string HostdBinary();
std::string SimulatorBinary();

}  // namespace strato::test
