// bench_hostd: hostd's reaction times, with the real control plane (a `strato serve` child on a
// scratch database and a throwaway nats-server) and N hosts run as N daemons in this process
// (hostd/daemon.h, one libuv loop each) driving Cloud Hypervisor simulator processes.
//
//   boot     From a start command's return to hostd calling vm.boot: p50/p99/max over VMS VMs
//            on HOSTS hosts (default 500 on 10). VMs are created stopped, placed, reported
//            stopped and prepared (hostd spawns a VMM and creates the VM, not booted) first;
//            then every VM is started at RATE starts/s. The time is split into
//            phases: the relay putting VmStartRequested on the bus (seen by a subscription of
//            the bench's own), hostd's first call to the VMM, the VMM's API answering (when
//            hostd had to spawn it), vm.boot; and the calls made per start before vm.boot.
//            Baseline in the same run: the start command's own round trip (the append), with
//            the ratio.
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
#include "events/bus/nats_bus.h"
#include "events/commands/domain_commands.h"
#include "events/pg/pg_event_store.h"
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

// The Cloud Hypervisor driver, noting for each VM when hostd called what (and when a
// vmm.ping first succeeded), to split the start -> vm.boot time into phases.
class TimingHypervisor final : public hostd::CloudHypervisorDriver {
 public:
  using CloudHypervisorDriver::CloudHypervisorDriver;

  struct Call {
    std::string what;  // "vm.ping", "vm.info", "vm.create", "vm.boot", ...
    Steady::time_point at, done;
    bool ok = false;
  };

  Status Ping(const std::string& socket) override {
    return Timed(socket, "vmm.ping", [&] { return CloudHypervisorDriver::Ping(socket); });
  }
  Status Create(const std::string& socket, const hostd::VmSpec& spec) override {
    return Timed(socket, "vm.create", [&] { return CloudHypervisorDriver::Create(socket, spec); });
  }
  Status Boot(const std::string& socket) override {
    return Timed(socket, "vm.boot", [&] { return CloudHypervisorDriver::Boot(socket); });
  }
  Result<hostd::VmInfo> Info(const std::string& socket) override {
    auto at = Steady::now();
    auto r = CloudHypervisorDriver::Info(socket);
    Note(socket, {"vm.info", at, Steady::now(), r.ok()});
    return r;
  }
  std::map<std::string, std::vector<Call>> calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.clear();
  }

 private:
  template <typename F>
  Status Timed(const std::string& socket, const char* what, F call) {
    auto at = Steady::now();
    Status s = call();
    Note(socket, {what, at, Steady::now(), s.ok()});
    return s;
  }
  void Note(const std::string& socket, Call c) {
    std::lock_guard<std::mutex> lock(mu_);
    calls_[VmOfSocket(socket)].push_back(std::move(c));
  }

  std::mutex mu_;
  std::map<std::string, std::vector<Call>> calls_;
};

// When each VM's VmStartRequested reached the bus (the relay published it), seen by a
// subscription of the bench's own.
class BusWatch {
 public:
  void Start(const std::string& nats_url) {
    events::NatsOptions o;
    o.url = nats_url;
    o.name = "bench_hostd watch";
    auto c = events::NatsConnection::Connect(o);
    if (!c.ok()) Die("connecting to NATS", c.status());
    conn_ = std::move(*c);
    auto last = events::StreamLastSequence(*conn_, events::kEventStreamName);
    if (!last.ok()) Die("reading the stream", last.status());
    events::SubscriptionOptions so;
    so.filter_subject = "strato.events.vm.>";
    so.after_position = *last;
    auto sub = events::EventSubscription::Start(*conn_, so, [this](events::BusEvent e) {
      if (e.event.type != "VmStartRequested" || e.event.stream_id.rfind("vm-", 0) != 0) return;
      auto now = Steady::now();
      std::lock_guard<std::mutex> lock(mu_);
      seen_.emplace(e.event.stream_id.substr(3), now);
    });
    if (!sub.ok()) Die("following the stream", sub.status());
    sub_ = std::move(*sub);
  }
  std::map<std::string, Steady::time_point> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }
  void Stop() {
    sub_.reset();
    conn_.reset();
  }

 private:
  std::unique_ptr<events::NatsConnection> conn_;
  std::unique_ptr<events::EventSubscription> sub_;
  std::mutex mu_;
  std::map<std::string, Steady::time_point> seen_;
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

double Ms(Steady::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

void PrintFigure(const char* what, const std::vector<double>& v) {
  std::printf("%s: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", what, Percentile(v, 0.5),
              Percentile(v, 0.99), Percentile(v, 1.0));
}

int Boot(Bench& b, int vms, int hosts, double rate) {
  b.Start(hosts);
  b.StartDaemons();
  std::vector<std::string> ids;
  for (int i = 0; i < vms; ++i) ids.push_back(b.Create(i, /*start=*/false));
  b.WaitObserved(ids, domain::VmObservedState::kStopped, 300);
  // Then prepared: each VM's VMM spawned and its VM created (hostd/README.md).
  auto reported = Steady::now();
  for (;;) {
    auto calls = b.hv->calls();
    size_t prepared = 0;
    for (const auto& id : ids) {
      for (const auto& c : calls[id]) {
        if (c.what == "vm.create" && c.ok) {
          ++prepared;
          break;
        }
      }
    }
    if (prepared >= ids.size()) break;
    if (Steady::now() - reported > std::chrono::seconds(300)) {
      std::fprintf(stderr, "bench_hostd: only %zu of %zu VMs were prepared within 300 s\n",
                   prepared, ids.size());
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::printf("%d stopped VMs prepared %.2f s after they were all reported stopped\n", vms,
              std::chrono::duration<double>(Steady::now() - reported).count());
  BusWatch bus;
  bus.Start(b.nats->url());
  std::vector<double> command_ms;
  std::map<std::string, Steady::time_point> issued, returned;
  auto gap = std::chrono::duration<double>(1.0 / rate);
  auto next = Steady::now();
  for (const auto& id : ids) {
    std::this_thread::sleep_until(next);
    next += std::chrono::duration_cast<Steady::duration>(gap);
    auto t0 = Steady::now();
    auto out = b.commands->Vm(b.Ctx(), id, domain::StartVm{});
    auto t1 = Steady::now();
    if (!out.ok()) Die("starting a VM", out.status());
    issued[id] = t0;
    returned[id] = t1;
    command_ms.push_back(Ms(t1 - t0));
  }
  b.WaitObserved(ids, domain::VmObservedState::kRunning, 300);
  auto calls = b.hv->calls();
  auto seen = bus.seen();
  bus.Stop();
  // Phases of each start, from the command's return: the relay puts the event on the bus;
  // hostd makes its first call to the VMM; the VMM's API answers (after a spawn: the first
  // vmm.ping that succeeds); vm.boot is called. The calls of a start are those made once its
  // command was issued (hostd may boot before the command has returned: a negative figure).
  std::vector<double> total, relay, react, vmm_up, to_boot;
  std::map<std::string, int> calls_before_boot;
  for (const auto& [id, t] : returned) {
    const TimingHypervisor::Call *first = nullptr, *boot = nullptr;
    Steady::time_point up{};
    std::vector<std::string> before;
    for (const auto& c : calls[id]) {
      if (c.at < issued[id]) continue;
      if (first == nullptr) first = &c;
      if (c.what == "vm.boot") {
        boot = &c;
        break;
      }
      before.push_back(c.what);
      if (c.what == "vmm.ping" && c.ok && up == Steady::time_point{}) up = c.done;
    }
    if (boot == nullptr) continue;
    for (const auto& w : before) ++calls_before_boot[w];
    if (up == Steady::time_point{}) up = first->at;
    total.push_back(Ms(boot->at - t));
    auto s = seen.find(id);
    if (s == seen.end()) continue;
    relay.push_back(Ms(s->second - t));
    react.push_back(Ms(first->at - s->second));
    vmm_up.push_back(Ms(up - first->at));
    to_boot.push_back(Ms(boot->at - up));
  }
  std::printf(
      "start command return -> vm.boot (%d VMs on %d hosts, %.0f starts/s): p50 %.1f ms, "
      "p99 %.1f ms, max %.1f ms (%zu boots seen)\n",
      vms, hosts, rate, Percentile(total, 0.5), Percentile(total, 0.99), Percentile(total, 1.0),
      total.size());
  PrintFigure("  phase 1, command return -> VmStartRequested on the bus (relay)", relay);
  PrintFigure("  phase 2, on the bus -> hostd's first call to the VMM", react);
  PrintFigure("  phase 3, first call -> the VMM's API answers (spawned VMMs only)", vmm_up);
  PrintFigure("  phase 4, API answers -> vm.boot called", to_boot);
  std::string before;
  for (const auto& [what, n] : calls_before_boot) {
    char buf[96];
    std::snprintf(buf, sizeof buf, " %s %.2f", what.c_str(),
                  total.empty() ? 0.0 : static_cast<double>(n) / static_cast<double>(total.size()));
    before += buf;
  }
  std::printf("  calls per start before vm.boot:%s\n", before.empty() ? " none" : before.c_str());
  std::printf("start command round trip (baseline): p50 %.1f ms, p99 %.1f ms\n",
              Percentile(command_ms, 0.5), Percentile(command_ms, 0.99));
  double base = Percentile(command_ms, 0.99);
  std::printf("ratio: %.2f (strato/raw, p99 command return -> vm.boot / p99 command round trip)\n",
              base > 0 ? Percentile(total, 0.99) / base : 0);
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
  b.hv->Clear();
  auto restart = Steady::now();
  b.StartDaemons();
  // Stopped ones must report stopped; running ones must have been checked (vm.info) again.
  double stopped_s = b.WaitObserved(stopped, domain::VmObservedState::kStopped, 600);
  for (;;) {
    auto calls = b.hv->calls();
    size_t seen = 0;
    for (const auto& id : running) {
      for (const auto& c : calls[id]) {
        if (c.what == "vm.info") {
          ++seen;
          break;
        }
      }
    }
    if (seen >= running.size()) break;
    if (Steady::now() - restart > std::chrono::seconds(600)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  double secs = std::chrono::duration<double>(Steady::now() - restart).count();
  std::printf("convergence after restarting all %d hostd (%d VMs, %zu stopped meanwhile): %.2f s\n",
              hosts, vms, stopped.size(), secs);
  std::printf("  of which until every stopped one reported stopped: %.2f s\n", stopped_s);
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
