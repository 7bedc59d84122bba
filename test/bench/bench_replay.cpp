// bench_replay: events/s for `strato replay`'s rebuild of every read model (AllProjections:
// fold the whole log into fresh tables, compare with the live tables, swap) from N events,
// against a raw baseline measured in the same run on the same log: `COPY (SELECT * FROM
// events ORDER BY global_position) TO STDOUT` read through libpq (PQgetCopyData), the rate at
// which the log can be read at all (the faster of two reads). The live read models are filled
// first by an unmeasured rebuild, so the measured one compares every table; it prints the
// time of each phase, and the rate without the comparison as well.
//
//   DATABASE_URL=postgresql://... BENCH_REPLAY_EVENTS=200000 bench_replay
//
// The events are VM lifecycles (VmCreated, then VmStopRequested and VmStartRequested) of ~300
// bytes, appended in multi-event appends from a few threads. A scratch database is created and
// dropped (BENCH_KEEP_DB=1 keeps it). Not a test: nothing here passes or fails.
//
// This program includes libpq-fe.h itself: COPY OUT is not part of events/pg/pg.h, and the
// baseline must not go through Strato's own read path.
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/ids.h"
#include "core/parse.h"
#include "events/pg/log_scan.h"
#include "events/pg/migrator.h"
#include "events/pg/pg_event_store.h"
#include "projections/models/registry.h"
#include "projections/runner/rebuild.h"
#include "test/support/scratch_db.h"

using namespace strato;
using namespace strato::events;
using Steady = std::chrono::steady_clock;

namespace {

constexpr int kEventsPerAppend = 100;
constexpr int kAppenders = 4;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "bench_replay: %s\n", what.c_str());
  std::exit(1);
}

std::vector<NewEvent> Lifecycle(const std::string& vm_id, const std::string& org_id,
                                const std::string& actor, int first, int count) {
  std::string meta =
      "{\"actor\":\"" + actor + "\",\"correlation_id\":\"" + Uuid::NewV4().ToString() + "\"}";
  std::vector<NewEvent> out;
  for (int k = first; k < first + count; ++k) {
    if (k == 0) {
      out.push_back({"VmCreated",
                     "{\"vm_id\":\"" + vm_id + "\",\"org_id\":\"" + org_id + "\",\"owner_id\":\"" +
                         actor.substr(5) + "\",\"name\":\"web-" + vm_id.substr(0, 8) +
                         "\",\"description\":\"benchmark virtual machine\",\"image\":\"debian-12-"
                         "generic-amd64\",\"cpu_count\":2,\"memory_mb\":4096,\"disk_gb\":40,"
                         "\"desired\":\"running\",\"generation\":1}",
                     meta});
    } else if (k % 2 == 1) {
      out.push_back({"VmStopRequested",
                     "{\"force\":false,\"generation\":" + std::to_string(k + 1) + "}", meta});
    } else {
      out.push_back({"VmStartRequested", "{\"generation\":" + std::to_string(k + 1) + "}", meta});
    }
  }
  return out;
}

void AppendEvents(PgEventStore& store, int64_t n) {
  std::atomic<int64_t> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kAppenders; ++t) {
    threads.emplace_back([&] {
      const std::string org = Uuid::NewV4().ToString();
      const std::string actor = "user-" + Uuid::NewV4().ToString();
      for (;;) {
        int64_t start = next.fetch_add(kEventsPerAppend);
        if (start >= n) return;
        int count = static_cast<int>(std::min<int64_t>(kEventsPerAppend, n - start));
        // Each append: 10 VMs' lifecycles of 10 events (or what is left).
        AppendRequest r;
        for (int done = 0; done < count; done += 10) {
          std::string vm = Uuid::NewV4().ToString();
          r.streams.push_back({"vm-" + vm, ExpectedVersion::NoStream(),
                               Lifecycle(vm, org, actor, 0, std::min(10, count - done))});
        }
        auto res = store.Append(std::move(r));
        if (!res.ok()) Die("append: " + res.status().ToString());
      }
    });
  }
  for (auto& t : threads) t.join();
}

// Reads the whole log with COPY OUT; returns the rows read.
int64_t CopyOut(const std::string& url) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url.c_str()), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) Die(PQerrorMessage(conn.get()));
  std::unique_ptr<PGresult, decltype(&PQclear)> started(
      PQexec(conn.get(), "COPY (SELECT * FROM events ORDER BY global_position) TO STDOUT"),
      &PQclear);
  if (PQresultStatus(started.get()) != PGRES_COPY_OUT) Die(PQerrorMessage(conn.get()));
  int64_t rows = 0;
  for (;;) {
    char* buf = nullptr;
    int len = PQgetCopyData(conn.get(), &buf, 0);
    if (len == -1) break;
    if (len == -2) Die(PQerrorMessage(conn.get()));
    ++rows;  // one row per message
    PQfreemem(buf);
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> done(PQgetResult(conn.get()), &PQclear);
  if (PQresultStatus(done.get()) != PGRES_COMMAND_OK) Die(PQerrorMessage(conn.get()));
  return rows;
}

}  // namespace

int main() {
  const char* admin = std::getenv("DATABASE_URL");
  if (admin == nullptr || *admin == '\0') {
    std::fprintf(stderr, "bench_replay: DATABASE_URL is not set (./ops/bench sets it)\n");
    return 2;
  }
  int64_t n = 200000;
  if (const char* e = std::getenv("BENCH_REPLAY_EVENTS"); e != nullptr && *e != '\0') {
    std::optional<int64_t> events = ParseInt(e, 1);
    if (!events) Die(std::string("BENCH_REPLAY_EVENTS is not a whole number of 1 or more: ") + e);
    n = *events;
  }
  auto url = test::CreateScratchDatabase(admin, "strato_bench_");
  if (!url.ok()) Die(url.status().ToString());
  auto store = PgEventStore::Open(*url);
  if (!store.ok()) Die(store.status().ToString());

  auto t0 = Steady::now();
  AppendEvents(**store, n);
  double append_s = std::chrono::duration<double>(Steady::now() - t0).count();
  std::printf("appended %lld events in %.1f s (%.0f events/s, %d events per append)\n",
              static_cast<long long>(n), append_s, static_cast<double>(n) / append_s,
              kEventsPerAppend);
  std::fflush(stdout);

  // The live read models, as `strato serve` would have them: a first rebuild fills them (with
  // nothing to compare against), so that the measured one compares every table.
  projections::RebuildOptions options;
  options.database_url = *url;
  auto first = projections::Rebuild(**store, projections::AllProjections(), options);
  if (!first.ok()) Die("first rebuild: " + first.status().ToString());
  std::printf("live read models filled by a first rebuild in %.2f s\n", first->elapsed.count());
  // As a running system has them: vacuumed and analyzed (else autovacuum works on the tables
  // just swapped in while the measured rebuild runs, and holds up its swap).
  {
    auto c = PgConnection::Connect(*url);
    if (!c.ok()) Die(c.status().ToString());
    Status vacuumed = (*c)->Run("VACUUM ANALYZE");
    if (!vacuumed.ok()) Die("vacuum: " + vacuumed.ToString());
  }

  // The faster of two reads, after one to warm the cache as the rebuild will find it warm.
  (void)CopyOut(*url);
  int64_t rows = 0;
  double copy_s = 0;
  for (int round = 0; round < 2; ++round) {
    t0 = Steady::now();
    rows = CopyOut(*url);
    double s = std::chrono::duration<double>(Steady::now() - t0).count();
    if (round == 0 || s < copy_s) copy_s = s;
  }
  double raw = static_cast<double>(rows) / copy_s;
  std::printf(
      "raw baseline (COPY events ORDER BY global_position TO STDOUT, faster of 2): %lld rows in "
      "%.2f s, %.0f events/s\n",
      static_cast<long long>(rows), copy_s, raw);
  // What the rebuild itself reads, without folding: events::ScanLog's binary COPY of the
  // columns folds use (for context: the ratio is against the baseline above).
  double scan_s = 0;
  for (int round = 0; round < 2; ++round) {
    auto c = PgConnection::Connect(*url);
    if (!c.ok()) Die(c.status().ToString());
    int64_t scanned = 0;
    t0 = Steady::now();
    Status s = ScanLog(**c, [&](const RecordedEvent&) {
      ++scanned;
      return Status::Ok();
    });
    double secs = std::chrono::duration<double>(Steady::now() - t0).count();
    if (!s.ok()) Die("scan: " + s.ToString());
    if (scanned != rows) Die("scan: " + std::to_string(scanned) + " events");
    if (round == 0 || secs < scan_s) scan_s = secs;
  }
  std::printf(
      "the rebuild's own read alone (binary COPY of the 6 columns folds use, faster of 2): "
      "%.2f s, %.0f events/s\n",
      scan_s, static_cast<double>(rows) / scan_s);
  std::fflush(stdout);

  auto projections = projections::AllProjections();
  std::string names;
  for (const auto& p : projections) names += (names.empty() ? "" : ", ") + p->name();
  auto report = projections::Rebuild(**store, std::move(projections), options);
  if (!report.ok()) Die("rebuild: " + report.status().ToString());
  double rebuild_s = report->elapsed.count();
  double rate = static_cast<double>(report->events) / rebuild_s;
  std::printf(
      "rebuild of %zu read models (%s; %zu tables) from %lld events: %.2f s, %.0f "
      "events/s\n",
      report->projections, names.c_str(), report->tables.size(),
      static_cast<long long>(report->events), rebuild_s, rate);
  double compare_s = 0;
  std::string phases;
  for (const auto& p : report->phases) {
    if (p.name == "compare") compare_s = p.elapsed.count();
    char part[96];
    std::snprintf(part, sizeof part, "%s%s %.2f s", phases.empty() ? "" : ", ", p.name.c_str(),
                  p.elapsed.count());
    phases += part;
  }
  std::printf("phases: %s\n", phases.c_str());
  std::printf("initial fold path: %s%s%s\n", report->path.c_str(),
              report->bulk_fallback.empty() ? "" : " (bulk fold abandoned: ",
              report->bulk_fallback.empty() ? "" : (report->bulk_fallback + ")").c_str());
  std::printf("ratio: %.2f (strato/raw, replay vs COPY out, the comparison included)\n",
              rate / raw);
  const double without = static_cast<double>(report->events) / (rebuild_s - compare_s);
  std::printf("without the comparison with the live tables (%.2f s): %.0f events/s, ratio %.2f\n",
              compare_s, without, without / raw);
  std::printf("rebuilt tables identical to the live ones: %s (%zu projections not compared)\n",
              report->identical() ? "yes" : "NO", report->not_compared.size());
  std::fflush(stdout);

  store->reset();
  test::DropDatabaseUnlessKept(admin, *url);
  return 0;
}
