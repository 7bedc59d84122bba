// bench_append: events/s through the event store for 1, 8 and 64 concurrent appenders of
// ~300-byte events, against a raw baseline measured in the same run on the same PostgreSQL:
// multi-row INSERTs of 100 events per transaction into a plain table of the same shape
// (same columns and indexes, each row with a command id; no trigger, no hash chain, no checks).
//
//   DATABASE_URL=postgresql://... bench_append [seconds-per-measurement]
//
// A scratch database is created and dropped. Prints one line per figure and a ratio line per
// comparison. Not a test: nothing here passes or fails.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "core/ids.h"
#include "events/pg/pg_event_store.h"
#include "test/support/test_env.h"

using namespace strato;
using namespace strato::events;
using Steady = std::chrono::steady_clock;

namespace {

// ~300 bytes of data + metadata, like a VmCreated with its envelope.
std::string Payload(int i) {
  std::string s = "{\"name\":\"web-" + std::to_string(i) +
                  "\",\"description\":\"benchmark virtual machine\",\"image\":\"debian-12-generic-"
                  "amd64\",\"cpu_count\":2,\"memory_mb\":4096,\"disk_gb\":40,\"org_id\":\"" +
                  Uuid::NewV4().ToString() + "\"}";
  return s;
}
std::string Metadata() {
  return "{\"actor\":\"user-" + Uuid::NewV4().ToString().substr(0, 8) + "\",\"correlation_id\":\"" +
         Uuid::NewV4().ToString() + "\"}";
}

double MeasureStore(PgEventStore& store, int appenders, double seconds) {
  std::atomic<bool> stop{false};
  std::atomic<int64_t> appended{0};
  std::vector<std::thread> threads;
  for (int a = 0; a < appenders; ++a) {
    threads.emplace_back([&, a] {
      std::string stream = "vm-" + Uuid::NewV4().ToString();
      int64_t version = 0;
      std::string data = Payload(a), meta = Metadata();
      while (!stop) {
        AppendRequest r;
        r.command_id = Uuid::NewV4();
        r.streams.push_back(
            {stream,
             version == 0 ? ExpectedVersion::NoStream() : ExpectedVersion::Exact(version),
             {NewEvent{"VmStarted", data, meta}}});
        auto res = store.Append(std::move(r));
        if (!res.ok()) {
          std::fprintf(stderr, "append failed: %s\n", res.status().ToString().c_str());
          std::exit(1);
        }
        version = res->streams[0].last_version;
        appended++;
      }
    });
  }
  auto start = Steady::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(Steady::now() - start).count();
  return static_cast<double>(appended.load()) / elapsed;
}

double MeasureRaw(const std::string& url, double seconds) {
  auto conn = PgConnection::Connect(url);
  if (!conn.ok()) {
    std::fprintf(stderr, "%s\n", conn.status().ToString().c_str());
    std::exit(1);
  }
  auto& c = **conn;
  Status s = c.Run(
      "CREATE TABLE raw_events (global_position bigint PRIMARY KEY, stream_id text NOT NULL, "
      "stream_version bigint NOT NULL, event_id uuid NOT NULL UNIQUE, type text NOT NULL, "
      "data jsonb NOT NULL, metadata jsonb NOT NULL, recorded_at timestamptz NOT NULL, "
      "command_id uuid, first_of_command boolean NOT NULL, hash bytea NOT NULL, "
      "UNIQUE (stream_id, stream_version));"
      "CREATE UNIQUE INDEX ON raw_events (command_id) WHERE first_of_command;"
      // The audit trail's indexes of the log (schema/migrations/0010).
      "CREATE INDEX ON raw_events (strato_event_actor(metadata), global_position);"
      "CREATE INDEX ON raw_events (type, global_position);");
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    std::exit(1);
  }
  constexpr int kRows = 100;
  constexpr int kColumns = 11;
  std::string sql =
      "INSERT INTO raw_events (global_position, stream_id, stream_version, event_id, type, data, "
      "metadata, recorded_at, command_id, first_of_command, hash) VALUES ";
  for (int r = 0; r < kRows; ++r) {
    int b = r * kColumns;
    sql += (r ? ",(" : "(");
    for (int k = 1; k <= kColumns; ++k) {
      sql += "$" + std::to_string(b + k);
      sql += (k == kColumns ? ")" : ",");
    }
  }
  std::string data = Payload(0), meta = Metadata();
  std::string hash = "\\x" + std::string(64, 'a');
  int64_t position = 0;
  auto start = Steady::now();
  std::string stream = "vm-" + Uuid::NewV4().ToString();
  while (std::chrono::duration<double>(Steady::now() - start).count() < seconds) {
    std::vector<std::string> params;
    params.reserve(kRows * kColumns);
    for (int r = 0; r < kRows; ++r) {
      ++position;
      params.push_back(std::to_string(position));
      params.push_back(stream);
      params.push_back(std::to_string(position));
      params.push_back(Uuid::NewV7().ToString());
      params.push_back("VmStarted");
      params.push_back(data);
      params.push_back(meta);
      params.push_back("2026-11-27T00:00:00Z");
      params.push_back(Uuid::NewV4().ToString());
      params.push_back("true");
      params.push_back(hash);
    }
    Status st = c.Run("BEGIN");
    if (st.ok()) st = c.Run(sql, params);
    if (st.ok()) st = c.Run("COMMIT");
    if (!st.ok()) {
      std::fprintf(stderr, "raw insert failed: %s\n", st.ToString().c_str());
      std::exit(1);
    }
  }
  double elapsed = std::chrono::duration<double>(Steady::now() - start).count();
  return static_cast<double>(position) / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  const char* admin = std::getenv("DATABASE_URL");
  if (admin == nullptr || *admin == '\0') {
    std::fprintf(stderr, "bench_append: DATABASE_URL is not set (./ops/bench sets it)\n");
    return 2;
  }
  double seconds = argc > 1 ? std::atof(argv[1]) : 8.0;
  if (seconds <= 0) seconds = 8.0;
  auto url = test::CreateScratchDatabase(admin, "strato_bench_");
  if (!url.ok()) {
    std::fprintf(stderr, "bench_append: %s\n", url.status().ToString().c_str());
    return 1;
  }
  {
    auto conn = PgConnection::Connect(*url);
    auto fsync = (*conn)->Exec("SHOW fsync");
    auto sc = (*conn)->Exec("SHOW synchronous_commit");
    std::printf("postgresql: fsync=%s synchronous_commit=%s\n",
                std::string(fsync->Get(0, 0)).c_str(), std::string(sc->Get(0, 0)).c_str());
  }
  double raw = MeasureRaw(*url, seconds);
  std::printf("raw baseline (multi-row INSERT, 100 events/transaction): %.0f events/s\n", raw);
  std::fflush(stdout);
  auto store = PgEventStore::Open(*url);
  if (!store.ok()) {
    std::fprintf(stderr, "bench_append: %s\n", store.status().ToString().c_str());
    return 1;
  }
  for (int appenders : {1, 8, 64}) {
    int64_t b0 = (*store)->batches_committed(), a0 = (*store)->appends_committed();
    double rate = MeasureStore(**store, appenders, seconds);
    double per_tx = static_cast<double>((*store)->appends_committed() - a0) /
                    std::max<int64_t>(1, (*store)->batches_committed() - b0);
    std::printf("event store, %d appender%s: %.0f events/s (%.1f appends per transaction)\n",
                appenders, appenders == 1 ? "" : "s", rate, per_tx);
    std::printf("ratio: %.2f (strato/raw, %d appender%s)\n", rate / raw, appenders,
                appenders == 1 ? "" : "s");
    std::fflush(stdout);
  }
  store->reset();
  test::DropDatabaseUnlessKept(admin, *url);
  return 0;
}
