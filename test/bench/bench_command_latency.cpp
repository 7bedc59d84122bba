// bench_command_latency: how long after a command returns its change shows in the read model,
// at a steady rate of commands (default 200/s for 15 s, from four clients). Each command is a real
// domain command (create a VM, then start/stop it) through DomainCommands and PgEventStore; the
// projection runner folds every read model as `strato serve` does, and the latency is the time from
// the command's return until ProjectionRunner::WaitFor("vms", position) says the vms read model has
// applied it (read-your-writes). Prints p50, p90, p99 and max; the baseline, measured in the
// same run, is the command round trip itself (return of the append).
//
//   DATABASE_URL=postgresql://... bench_command_latency [commands-per-second] [seconds]
//
// A scratch database is created and dropped. Not a test: nothing here passes or fails.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/log.h"
#include "events/commands/domain_commands.h"
#include "events/pg/pg_event_store.h"
#include "projections/models/registry.h"
#include "projections/runner/runner.h"
#include "test/support/scratch_db.h"

using namespace strato;
using namespace strato::events;
namespace d = strato::domain;
using Steady = std::chrono::steady_clock;

namespace {

[[noreturn]] void Die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "bench_command_latency: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  log::SetMinLevel(log::Level::kWarn);
  const char* admin = std::getenv("DATABASE_URL");
  if (admin == nullptr || *admin == '\0') {
    std::fprintf(stderr, "bench_command_latency: DATABASE_URL is not set (./ops/bench sets it)\n");
    return 2;
  }
  double rate = argc > 1 ? std::atof(argv[1]) : 200.0;
  double seconds = argc > 2 ? std::atof(argv[2]) : 15.0;
  if (rate <= 0 || rate > 5000) rate = 200.0;
  if (seconds <= 0 || seconds > 600) seconds = 15.0;

  auto url = test::CreateScratchDatabase(admin, "strato_bench_");
  if (!url.ok()) Die("creating a database", url.status());
  auto store = PgEventStore::Open(*url);
  if (!store.ok()) Die("opening the store", store.status());
  auto waiter = (*store)->NewWaiter();
  if (!waiter.ok()) Die("opening a waiter", waiter.status());
  projections::RunnerOptions options;
  options.database_url = *url;
  auto runner = projections::ProjectionRunner::Create(**store, std::move(*waiter),
                                                      projections::AllProjections(), options);
  if (!runner.ok()) Die("creating the runner", runner.status());
  Status started = (*runner)->Start();
  if (!started.ok()) Die("starting the runner", started);

  DomainCommands commands(**store);
  std::vector<double> command_ms, visible_ms;
  std::mutex mu;
  std::atomic<int> total{0};
  // Four clients, each at a quarter of the rate, so waiting for the read model never slows
  // the rate the commands arrive at.
  constexpr int kClients = 4;
  const auto interval = std::chrono::duration<double>(kClients / rate);
  const auto begin = Steady::now();
  std::vector<std::thread> clients;
  for (int client = 0; client < kClients; ++client) {
    clients.emplace_back([&, client] {
      auto next =
          begin + std::chrono::duration_cast<Steady::duration>(interval * client / kClients);
      for (int n = 0; std::chrono::duration<double>(Steady::now() - begin).count() < seconds; ++n) {
        std::this_thread::sleep_until(next);
        next += std::chrono::duration_cast<Steady::duration>(interval);
        CommandContext ctx;
        ctx.command_id = Uuid::NewV4();
        ctx.actor = "user-bench";
        const std::string vm = "vm" + std::to_string(client) + "x" + std::to_string(n / 3);
        auto t0 = Steady::now();
        Result<CommandOutcome> out = Status::Internal("unset");
        if (n % 3 == 0) {
          d::CreateVm c;
          c.vm_id = vm;
          c.org_id = "o1";
          c.name = "web-" + vm;
          c.image = "debian-12";
          out = commands.Vm(ctx, vm, c);
        } else if (n % 3 == 1) {
          out = commands.Vm(ctx, vm, d::StopVm{});
        } else {
          out = commands.Vm(ctx, vm, d::StartVm{});
        }
        if (!out.ok()) Die("a command", out.status());
        auto t1 = Steady::now();
        Status seen = (*runner)->WaitFor("vms", out->position, std::chrono::seconds(10));
        if (!seen.ok()) Die("waiting for the read model", seen);
        auto t2 = Steady::now();
        std::lock_guard<std::mutex> lock(mu);
        command_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        visible_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
        total++;
      }
    });
  }
  for (auto& t : clients) t.join();
  const int n = total.load();
  double achieved = n / std::chrono::duration<double>(Steady::now() - begin).count();
  (*runner)->Stop();
  std::printf("commands: %d at %.0f/s (asked %.0f/s)\n", n, achieved, rate);
  std::printf("command round trip (baseline): p50 %.2f ms, p99 %.2f ms\n",
              Percentile(command_ms, 0.5), Percentile(command_ms, 0.99));
  std::printf("command return to read model: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
              Percentile(visible_ms, 0.5), Percentile(visible_ms, 0.9),
              Percentile(visible_ms, 0.99),
              *std::max_element(visible_ms.begin(), visible_ms.end()));
  std::printf("ratio: %.2f (strato/raw, read-model p99 vs command round-trip p99)\n",
              Percentile(visible_ms, 0.99) / std::max(0.001, Percentile(command_ms, 0.99)));
  runner->reset();
  store->reset();
  test::DropDatabase(admin, *url);
  return 0;
}
