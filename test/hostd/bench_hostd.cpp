// bench_hostd: hostd's reaction times, with the real control plane (a `strato serve` child on a
// scratch database and a throwaway nats-server) and N hosts run as N daemons in this process
// (hostd/daemon.h, one libuv loop each) driving Cloud Hypervisor simulator processes.
//
//   boot     From a start command's return to hostd calling vm.boot: p50/p99/max over VMS VMs
//            on HOSTS hosts (default 500 on 10). VMs are created stopped, placed and reported
//            stopped first; then every VM is started at RATE starts/s. Baseline in the same run:
//            the start command's own round trip (the append), with the ratio.
//   restart  Convergence after a full restart of every hostd: VMS VMs (default 2000) running on
//            HOSTS hosts (default 20); every daemon is stopped (SIGTERM, VMs keep running), a
//            quarter of the VMs are stopped meanwhile, and the daemons start again. Prints the
//            seconds until every VM reports its desired state again (adopted ones checked
//            through vm.info, stopped ones reported stopped).
//
//   DATABASE_URL=postgresql://... bench_hostd boot [VMS] [HOSTS] [RATE]
//   DATABASE_URL=postgresql://... bench_hostd restart [VMS] [HOSTS]
//
// Not a test: nothing here passes or fails. Every VMM it started is killed at the end.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/ids.h"
#include "core/log.h"
#include "events/domain_commands.h"
#include "events/pg_event_store.h"
#include "hostd/config.h"
#include "hostd/daemon.h"
#include "hostd/hypervisor/ch_driver.h"
#include "test/support/process.h"
#include "test/support/scratch_db.h"

using namespace strato;
using Steady = std::chrono::steady_clock;

namespace {

[[noreturn]] void Die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "bench_hostd: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

std::string VmOfSocket(const std::string& socket) {
  size_t slash = socket.rfind('/');
  std::string name = socket.substr(slash + 1);
  return name.substr(0, name.size() - 5);
}

// The Cloud Hypervisor driver, noting when hostd calls vm.boot and vm.info for each VM.
class TimingHypervisor final : public hostd::CloudHypervisorDriver {
 public:
  using CloudHypervisorDriver::CloudHypervisorDriver;
  Status Boot(const std::string& socket) override {
    auto now = Steady::now();
    {
      std::lock_guard<std::mutex> lock(mu_);
      boots_[VmOfSocket(socket)] = now;
    }
    return CloudHypervisorDriver::Boot(socket);
  }
  Status Ping(const std::string& socket) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      pings_.emplace(VmOfSocket(socket), Steady::now());
    }
    return CloudHypervisorDriver::Ping(socket);
  }
  std::map<std::string, Steady::time_point> pings() {
    std::lock_guard<std::mutex> lock(mu_);
    return pings_;
  }
  Result<hostd::VmInfo> Info(const std::string& socket) override {
    auto r = CloudHypervisorDriver::Info(socket);
    std::lock_guard<std::mutex> lock(mu_);
    infos_.emplace(VmOfSocket(socket), Steady::now());
    return r;
  }
  std::map<std::string, Steady::time_point> boots() {
    std::lock_guard<std::mutex> lock(mu_);
    return boots_;
  }
  std::map<std::string, Steady::time_point> infos() {
    std::lock_guard<std::mutex> lock(mu_);
    return infos_;
  }
  void ClearInfos() {
    std::lock_guard<std::mutex> lock(mu_);
    infos_.clear();
  }

 private:
  std::mutex mu_;
  std::map<std::string, Steady::time_point> boots_;
  std::map<std::string, Steady::time_point> infos_;  // the first after ClearInfos
  std::map<std::string, Steady::time_point> pings_;  // the first
};

struct Bench {
  std::string admin;
  std::string db_url;
  std::unique_ptr<test::TempDir> dir;
  std::unique_ptr<test::NatsServerProcess> nats;
  std::unique_ptr<test::ChildProcess> serve;
  std::unique_ptr<events::PgEventStore> store;
  std::unique_ptr<events::DomainCommands> commands;
  std::unique_ptr<TimingHypervisor> hv;
  std::vector<std::thread> daemons;
  int hosts = 0;
  std::string org = Uuid::NewV4().ToString();
  std::string user = Uuid::NewV4().ToString();

  void Start(int host_count) {
    hosts = host_count;
    auto url = test::CreateScratchDatabase(admin, "strato_bench_");
    if (!url.ok()) Die("creating a database", url.status());
    db_url = *url;
    auto d = test::TempDir::Make("bench-hostd-");
    if (!d.ok()) Die("making a folder", d.status());
    dir = std::move(*d);
    nats = std::make_unique<test::NatsServerProcess>();
    Status s = nats->Start();
    if (!s.ok()) Die("starting nats-server", s);
    auto child = test::ChildProcess::Spawn(
        {{STRATO_BINARY_DIR "/strato", "serve"},
         {{"DATABASE_URL", db_url},
          {"NATS_URL", nats->url()},
          {"STRATO_ENV", "development"},
          {"STRATO_HTTP_ADDR", "127.0.0.1:" + std::to_string(test::FreePort())}},
         dir->path() + "/serve.log"});
    if (!child.ok()) Die("starting strato serve", child.status());
    serve = std::move(*child);
    auto st = events::PgEventStore::Open(db_url);
    if (!st.ok()) Die("opening the store", st.status());
    store = std::move(*st);
    commands = std::make_unique<events::DomainCommands>(*store);
    hostd::CloudHypervisorOptions o;
    o.binary = STRATO_BINARY_DIR "/cloud-hypervisor-simulator";
    hv = std::make_unique<TimingHypervisor>(o);
  }

  std::string HostId(int i) const { return "bench-host-" + std::to_string(i); }

  void StartDaemons() {
    for (int i = 0; i < hosts; ++i) {
      hostd::HostdConfig c;
      c.nats_url = nats->url();
      c.host_id = HostId(i);
      c.host_name = c.host_id;
      c.address = c.host_id;
      c.state_dir = dir->path() + "/" + c.host_id;
      c.ch_binary = STRATO_BINARY_DIR "/cloud-hypervisor-simulator";
      c.kernel_path = "/boot/vmlinuz-bench";
      c.cpu_count = 4096;
      c.memory_mb = 64LL * 1024 * 1024;
      c.disk_gb = 1024 * 1024;
      std::filesystem::create_directories(c.vms_dir());
      daemons.emplace_back([this, c] {
        Status s = hostd::RunDaemon(c, *hv);
        if (!s.ok()) Die("running a daemon", s);
      });
    }
  }

  // SIGTERM to this process stops every daemon's loop (each has a uv_signal handler).
  void StopDaemons() {
    kill(getpid(), SIGTERM);
    for (auto& t : daemons) t.join();
    daemons.clear();
  }

  events::CommandContext Ctx() {
    events::CommandContext ctx;
    ctx.actor = "user-" + user;
    return ctx;
  }

  std::string Create(int i, bool start) {
    std::string id = Uuid::NewV7().ToString();
    domain::CreateVm c;
    c.vm_id = id;
    c.org_id = org;
    c.owner_id = user;
    c.name = "bench-" + std::to_string(i);
    c.image = "debian-12";
    c.memory_mb = 128;
    c.disk_gb = 1;
    c.start = start;
    auto out = commands->Vm(Ctx(), id, c);
    if (!out.ok()) Die("creating a VM", out.status());
    return id;
  }

  // Waits until every VM reports `want` at its current generation.
  double WaitObserved(const std::vector<std::string>& vms, domain::VmObservedState want,
                      int timeout_s) {
    auto start = Steady::now();
    auto conn = events::PgConnection::Connect(db_url);
    if (!conn.ok()) Die("connecting", conn.status());
    for (;;) {
      auto r = (*conn)->Exec(
          "SELECT count(*) FROM vms WHERE observed = $1 AND observed_generation = generation",
          {std::string(domain::VmObservedStateName(want))});
      if (r.ok() && r->GetInt64(0, 0) >= static_cast<int64_t>(vms.size())) break;
      if (Steady::now() - start > std::chrono::seconds(timeout_s)) {
        std::fprintf(stderr, "bench_hostd: VMs did not all become %s within %d s\n",
                     std::string(domain::VmObservedStateName(want)).c_str(), timeout_s);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return std::chrono::duration<double>(Steady::now() - start).count();
  }

  void Cleanup() {
    for (int i = 0; i < hosts; ++i) {
      std::string state = dir->path() + "/" + HostId(i) + "/vms";
      std::error_code ec;
      for (const auto& e : std::filesystem::directory_iterator(state, ec)) {
        std::string pid_file = e.path().string() + "/vmm.pid";
        FILE* f = std::fopen(pid_file.c_str(), "r");
        if (f == nullptr) continue;
        int pid = 0;
        if (std::fscanf(f, "%d", &pid) == 1 && pid > 0) kill(pid, SIGKILL);
        std::fclose(f);
      }
    }
    serve.reset();
    nats.reset();
    commands.reset();
    store.reset();
    test::DropDatabaseUnlessKept(admin, db_url);
  }
};

int Boot(Bench& b, int vms, int hosts, double rate) {
  b.Start(hosts);
  b.StartDaemons();
  std::vector<std::string> ids;
  for (int i = 0; i < vms; ++i) ids.push_back(b.Create(i, /*start=*/false));
  b.WaitObserved(ids, domain::VmObservedState::kStopped, 300);
  std::vector<double> latency_ms, command_ms;
  std::map<std::string, Steady::time_point> returned;
  auto gap = std::chrono::duration<double>(1.0 / rate);
  auto next = Steady::now();
  for (const auto& id : ids) {
    std::this_thread::sleep_until(next);
    next += std::chrono::duration_cast<Steady::duration>(gap);
    auto t0 = Steady::now();
    auto out = b.commands->Vm(b.Ctx(), id, domain::StartVm{});
    auto t1 = Steady::now();
    if (!out.ok()) Die("starting a VM", out.status());
    returned[id] = t1;
    command_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  b.WaitObserved(ids, domain::VmObservedState::kRunning, 300);
  auto boots = b.hv->boots();
  auto pings = b.hv->pings();
  std::vector<double> to_ping_ms, ping_to_boot_ms;
  for (const auto& [id, t] : returned) {
    auto it = boots.find(id);
    if (it == boots.end()) continue;
    latency_ms.push_back(std::chrono::duration<double, std::milli>(it->second - t).count());
    auto p = pings.find(id);
    if (p == pings.end()) continue;
    to_ping_ms.push_back(std::chrono::duration<double, std::milli>(p->second - t).count());
    ping_to_boot_ms.push_back(
        std::chrono::duration<double, std::milli>(it->second - p->second).count());
  }
  std::printf(
      "start command return -> vm.boot (%d VMs on %d hosts, %.0f starts/s): p50 %.1f ms, "
      "p99 %.1f ms, max %.1f ms (%zu boots seen)\n",
      vms, hosts, rate, Percentile(latency_ms, 0.5), Percentile(latency_ms, 0.99),
      Percentile(latency_ms, 1.0), latency_ms.size());
  std::printf(
      "  of which command return -> VMM spawned and first vm.ping: p50 %.1f ms, p99 %.1f ms\n",
      Percentile(to_ping_ms, 0.5), Percentile(to_ping_ms, 0.99));
  std::printf(
      "  of which first vm.ping -> vm.boot (API up, vm.info, vm.create): p50 %.1f ms, "
      "p99 %.1f ms\n",
      Percentile(ping_to_boot_ms, 0.5), Percentile(ping_to_boot_ms, 0.99));
  std::printf("start command round trip (baseline): p50 %.1f ms, p99 %.1f ms\n",
              Percentile(command_ms, 0.5), Percentile(command_ms, 0.99));
  double base = Percentile(command_ms, 0.99);
  std::printf("ratio: %.2f (strato/raw, p99 command return -> vm.boot / p99 command round trip)\n",
              base > 0 ? Percentile(latency_ms, 0.99) / base : 0);
  std::fflush(stdout);
  b.StopDaemons();
  b.Cleanup();
  return 0;
}

int Restart(Bench& b, int vms, int hosts) {
  b.Start(hosts);
  b.StartDaemons();
  std::vector<std::string> ids;
  auto t0 = Steady::now();
  for (int i = 0; i < vms; ++i) ids.push_back(b.Create(i, /*start=*/true));
  double first = b.WaitObserved(ids, domain::VmObservedState::kRunning, 600);
  std::printf("initial convergence: %d VMs running on %d hosts %.1f s after the first create\n",
              vms, hosts, std::chrono::duration<double>(Steady::now() - t0).count());
  (void)first;
  b.StopDaemons();
  // While every hostd is down: stop a quarter of the VMs.
  std::vector<std::string> stopped, running;
  for (size_t i = 0; i < ids.size(); ++i) (i % 4 == 0 ? stopped : running).push_back(ids[i]);
  for (const auto& id : stopped) {
    auto out = b.commands->Vm(b.Ctx(), id, domain::StopVm{});
    if (!out.ok()) Die("stopping a VM", out.status());
  }
  b.hv->ClearInfos();
  auto restart = Steady::now();
  b.StartDaemons();
  // Stopped ones must report stopped; running ones must have been checked (vm.info) again.
  b.WaitObserved(stopped, domain::VmObservedState::kStopped, 600);
  for (;;) {
    auto infos = b.hv->infos();
    size_t seen = 0;
    for (const auto& id : running) seen += infos.count(id);
    if (seen >= running.size()) break;
    if (Steady::now() - restart > std::chrono::seconds(600)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  double secs = std::chrono::duration<double>(Steady::now() - restart).count();
  std::printf("convergence after restarting all %d hostd (%d VMs, %zu stopped meanwhile): %.2f s\n",
              hosts, vms, stopped.size(), secs);
  std::fflush(stdout);
  b.StopDaemons();
  b.Cleanup();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  log::SetMinLevel(log::Level::kWarn);
  setenv("UV_THREADPOOL_SIZE", "64", 1);
  Bench b;
  const char* admin = std::getenv("DATABASE_URL");
  if (admin == nullptr || *admin == '\0') {
    std::fprintf(stderr, "bench_hostd: DATABASE_URL is not set (./ops/bench sets it)\n");
    return 2;
  }
  b.admin = admin;
  std::string mode = argc > 1 ? argv[1] : "boot";
  if (mode == "boot") {
    int vms = argc > 2 ? std::atoi(argv[2]) : 500;
    int hosts = argc > 3 ? std::atoi(argv[3]) : 10;
    double rate = argc > 4 ? std::atof(argv[4]) : 100;
    return Boot(b, std::max(vms, 1), std::max(hosts, 1), rate > 0 ? rate : 100);
  }
  if (mode == "restart") {
    int vms = argc > 2 ? std::atoi(argv[2]) : 2000;
    int hosts = argc > 3 ? std::atoi(argv[3]) : 20;
    return Restart(b, std::max(vms, 1), std::max(hosts, 1));
  }
  std::fprintf(stderr, "usage: bench_hostd boot [VMS] [HOSTS] [RATE] | restart [VMS] [HOSTS]\n");
  return 2;
}
