#include "test/hostd/stack.h"

#include <doctest/doctest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "core/ids.h"
#include "hostd/hypervisor/ch_driver.h"

namespace strato::test {

std::string HostdBinary() {
  return STRATO_BINARY_DIR "/strato-hostd";
}
std::string SimulatorBinary() {
  return STRATO_BINARY_DIR "/cloud-hypervisor-simulator";
}

Stack::Stack(std::map<std::string, std::string> serve_env) : commands_(db_.store()) {
  REQUIRE(nats_.Start().ok());
  auto dir = TempDir::Make("hostd-stack-");
  REQUIRE_MESSAGE(dir.ok(), dir.status().ToString());
  dir_ = std::move(*dir);
  std::map<std::string, std::string> env = {
      {"DATABASE_URL", db_.url()},
      {"NATS_URL", nats_.url()},
      {"STRATO_ENV", "development"},
      {"STRATO_HTTP_ADDR", "127.0.0.1:" + std::to_string(FreePort())}};
  for (auto& [k, v] : serve_env) env[k] = v;
  auto serve = ChildProcess::Spawn(
      {{STRATO_BINARY_DIR "/strato", "serve"}, env, dir_->path() + "/serve.log"});
  REQUIRE_MESSAGE(serve.ok(), serve.status().ToString());
  serve_ = std::move(*serve);
  org_id_ = Uuid::NewV4().ToString();
  user_id_ = Uuid::NewV4().ToString();
}

Stack::~Stack() {
  for (auto& [id, h] : hostds_) {
    if (h && h->Running()) {
      (void)h->Kill(SIGTERM);
      (void)h->Wait(std::chrono::seconds(10));
    }
  }
  for (auto& [id, h] : hostds_) KillVmms(StateDir(id));
  hostds_.clear();
  if (serve_ && serve_->Running()) {
    (void)serve_->Kill(SIGTERM);
    (void)serve_->Wait(std::chrono::seconds(20));
  }
}

ChildProcess& Stack::StartHostd(const std::string& host_id,
                                std::map<std::string, std::string> extra_env) {
  std::map<std::string, std::string> env = {{"NATS_URL", nats_.url()},
                                            {"STRATO_HOST_ID", host_id},
                                            {"STRATO_HOST_NAME", host_id},
                                            {"STRATO_STATE_DIR", StateDir(host_id)},
                                            {"STRATO_CH_BINARY", SimulatorBinary()},
                                            {"STRATO_VM_KERNEL", "/boot/vmlinuz-strato-test"},
                                            {"STRATO_HOST_CPUS", "64"},
                                            {"STRATO_HOST_MEMORY_MB", "262144"},
                                            {"STRATO_HOST_DISK_GB", "4000"},
                                            {"STRATO_HEARTBEAT_INTERVAL_MS", "500"},
                                            {"STRATO_RESYNC_INTERVAL_MS", "5000"}};
  for (auto& [k, v] : extra_env) env[k] = v;
  auto child = ChildProcess::Spawn({{HostdBinary()}, env, root() + "/hostd-" + host_id + ".log"});
  REQUIRE_MESSAGE(child.ok(), child.status().ToString());
  hostds_[host_id] = std::move(*child);
  return *hostds_[host_id];
}

ChildProcess* Stack::hostd(const std::string& host_id) {
  auto it = hostds_.find(host_id);
  return it == hostds_.end() ? nullptr : it->second.get();
}

void Stack::DropHostd(const std::string& host_id) {
  hostds_[host_id].reset();
}

std::string Stack::CreateVm(const std::string& name, bool start) {
  std::string id = Uuid::NewV7().ToString();
  domain::CreateVm c;
  c.vm_id = id;
  c.org_id = org_id_;
  c.owner_id = user_id_;
  c.name = name;
  c.image = "debian-12";
  c.cpu_count = 1;
  c.memory_mb = 256;
  c.disk_gb = 1;
  c.start = start;
  Status s = Command(id, c);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return id;
}

Status Stack::Command(const std::string& vm_id, const domain::VmCommand& command) {
  events::CommandContext ctx;
  ctx.actor = "user-" + user_id_;
  auto out = commands_.Vm(ctx, vm_id, command);
  return out.ok() ? Status::Ok() : out.status();
}

domain::VmState Stack::Vm(const std::string& vm_id) {
  auto vm = commands_.LoadVm(vm_id);
  REQUIRE_MESSAGE(vm.ok(), vm.status().ToString());
  return *vm;
}

domain::HostState Stack::Host(const std::string& host_id) {
  auto history = events::ReadWholeStream(db_.store(), domain::HostStreamId(host_id));
  REQUIRE_MESSAGE(history.ok(), history.status().ToString());
  domain::HostState s;
  for (const auto& e : *history) {
    Status st = domain::Evolve(s, domain::DomainEvent{e.type, e.data});
    REQUIRE_MESSAGE(st.ok(), st.ToString());
  }
  return s;
}

std::vector<std::string> Stack::History(const std::string& vm_id) {
  auto history = events::ReadWholeStream(db_.store(), domain::VmStreamId(vm_id));
  REQUIRE_MESSAGE(history.ok(), history.status().ToString());
  std::vector<std::string> out;
  for (const auto& e : *history) {
    if (e.type == "VmObserved") {
      auto p = e.data.find("\"state\": \"");
      out.push_back("VmObserved:" +
                    (p == std::string::npos
                         ? std::string("?")
                         : e.data.substr(p + 10, e.data.find('"', p + 10) - (p + 10))));
    } else {
      out.push_back(e.type);
    }
  }
  return out;
}

bool Stack::WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::map<std::string, std::vector<pid_t>> VmmProcesses(const std::string& state_dir) {
  std::map<std::string, std::vector<pid_t>> out;
  // Cloud Hypervisor: "--api-socket path=<vms>/<vm>.sock"; QEMU: "-qmp unix:<vms>/<vm>.sock,...".
  const std::string prefixes[] = {"path=" + state_dir + "/vms/", "unix:" + state_dir + "/vms/"};
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string cmd = ss.str();
    // Zombies have an empty command line: they are gone as far as a VM is concerned.
    // The serial log's "path=<vms>/<vm>/serial.log" shares the prefix: take the ".sock" one.
    for (const std::string& prefix : prefixes) {
      for (size_t p = cmd.find(prefix); p != std::string::npos; p = cmd.find(prefix, p + 1)) {
        std::string rest = cmd.substr(p + prefix.size());
        rest = rest.substr(0, rest.find('\0'));
        rest = rest.substr(0, rest.find(','));
        if (rest.size() > 5 && rest.substr(rest.size() - 5) == ".sock" &&
            rest.find('/') == std::string::npos) {
          out[rest.substr(0, rest.size() - 5)].push_back(static_cast<pid_t>(std::stoi(name)));
        }
      }
    }
  }
  return out;
}

int TcpSocketsOf(pid_t pid) {
  std::set<std::string> tcp;  // socket inodes of TCP connections
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string f;
      for (int i = 0; i < 10 && fields >> f; ++i) {
      }
      tcp.insert(f);  // the 10th field is the inode
    }
  }
  int n = 0;
  std::error_code ec;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string target = std::filesystem::read_symlink(entry.path(), ec).string();
    if (target.rfind("socket:[", 0) != 0) continue;
    if (tcp.count(target.substr(8, target.size() - 9))) ++n;
  }
  return n;
}

std::string VmmState(const std::string& state_dir, const std::string& vm_id) {
  hostd::CloudHypervisorOptions o;
  o.binary = SimulatorBinary();
  o.connect_timeout = std::chrono::milliseconds(500);
  o.call_timeout = std::chrono::milliseconds(2000);
  hostd::CloudHypervisorDriver driver(o);
  auto info = driver.Info(state_dir + "/vms/" + vm_id + ".sock");
  return info.ok() ? info->state : "";
}

void KillVmms(const std::string& state_dir) {
  for (auto& [vm, pids] : VmmProcesses(state_dir)) {
    for (pid_t p : pids) kill(p, SIGKILL);
  }
}

}  // namespace strato::test
