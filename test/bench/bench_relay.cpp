// bench_relay: events/s the relay moves from the PostgreSQL log into a fresh JetStream stream,
// against raw baselines measured in the same run on the same nats-server: the same messages
// (same subjects and payloads, prepared in memory beforehand) published straight to another
// stream with js_PublishAsync and one js_PublishAsyncComplete at the end,
//   - with no headers (the raw baseline the ratio is quoted against), and
//   - with the headers the relay sends (Nats-Msg-Id, Nats-Expected-Last-Sequence), which the
//     server must check and remember: the most any relay could do on this server.
// The relay also reads the log and encodes each event while it publishes.
//
//   DATABASE_URL=postgresql://... [NATS_URL=nats://...] [BENCH_RELAY_EVENTS=50000] bench_relay
//
// (Arguments are ignored: ./ops/bench passes every benchmark its seconds-per-measurement.)
// A scratch database is created and dropped. Without NATS_URL (or when its server already
// holds a STRATO_EVENTS stream, which this must not touch) a nats-server of its own is
// started. Three rounds of each, alternating; the medians are printed. Not a test.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "core/ids.h"
#include "core/log.h"
#include "events/bus/nats_bus.h"
#include "events/bus/relay.h"
#include "events/pg/pg_event_store.h"
#include "test/support/process.h"
#include "test/support/scratch_db.h"

using namespace strato;
using namespace strato::events;
using Steady = std::chrono::steady_clock;

namespace {

constexpr int kRounds = 3;
const char* kRawStream = "BENCH_RAW";

[[noreturn]] void Die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "bench_relay: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

double Seconds(Steady::time_point since) {
  return std::chrono::duration<double>(Steady::now() - since).count();
}

// ~300 bytes of data and metadata, like a VmCreated with its envelope; VM streams spread over
// a few hosts so that subjects vary as in production.
AppendRequest MakeAppend(int first, int count, const std::vector<std::string>& hosts) {
  AppendRequest req;
  StreamAppend sa;
  sa.stream_id = "vm-" + Uuid::NewV4().ToString();
  sa.expected = ExpectedVersion::NoStream();
  for (int i = first; i < first + count; ++i) {
    NewEvent e;
    e.type = i == first ? "VmCreated" : "VmStarted";
    e.data = "{\"name\":\"web-" + std::to_string(i) +
             "\",\"description\":\"benchmark virtual machine\",\"image\":\"debian-12-generic-"
             "amd64\",\"cpu_count\":2,\"memory_mb\":4096,\"disk_gb\":40,\"org_id\":\"" +
             Uuid::NewV4().ToString() + "\"}";
    e.metadata = "{\"actor\":\"user-" + std::to_string(i % 97) + "\",\"correlation_id\":\"" +
                 Uuid::NewV4().ToString() + "\",\"host_id\":\"" + hosts[i % hosts.size()] + "\"}";
    sa.events.push_back(std::move(e));
  }
  req.streams.push_back(std::move(sa));
  return req;
}

double MeasureRelay(PgEventStore& store, NatsConnection& conn, const std::string& nats_url,
                    int64_t events) {
  Status s = DeleteStream(conn, kEventStreamName);
  if (!s.ok() && s.code() != Code::kNotFound) Die("deleting the relay's stream", s);
  s = EnsureEventStream(conn);
  if (!s.ok()) Die("creating the relay's stream", s);
  auto waiter = store.NewWaiter();
  if (!waiter.ok()) Die("opening a waiter", waiter.status());
  RelayOptions options;
  options.nats_url = nats_url;
  Relay relay(store, **waiter, options);
  std::atomic<bool> stop{false};
  Status result;
  auto start = Steady::now();
  std::thread t([&] { result = relay.Run(stop); });
  while (relay.published_position() < events && Seconds(start) < 120) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  double elapsed = Seconds(start);
  stop = true;
  t.join();
  if (!result.ok()) Die("the relay stopped", result);
  if (relay.published_position() < events) {
    Die("the relay",
        Status::DeadlineExceeded("published only " + std::to_string(relay.published_position())));
  }
  auto state = GetStreamState(conn, kEventStreamName);
  if (!state.ok() || state->messages != events) Die("checking the relay's stream", state.status());
  return static_cast<double>(events) / elapsed;
}

double MeasureRaw(NatsConnection& conn, const std::vector<std::string>& subjects,
                  const std::vector<std::string>& payloads, const std::vector<std::string>* ids) {
  Status s = DeleteStream(conn, kRawStream);
  if (!s.ok() && s.code() != Code::kNotFound) Die("deleting the raw stream", s);
  s = EnsureStream(conn, kRawStream, {"bench.raw.>"});
  if (!s.ok()) Die("creating the raw stream", s);
  auto publisher = AsyncPublisher::Create(conn);
  if (!publisher.ok()) Die("creating a publisher", publisher.status());
  auto start = Steady::now();
  for (size_t i = 0; i < subjects.size(); ++i) {
    s = ids == nullptr
            ? (*publisher)->Publish(subjects[i], payloads[i])
            : (*publisher)->Publish(subjects[i], payloads[i], (*ids)[i], static_cast<int64_t>(i));
    if (!s.ok()) Die("raw publish", s);
  }
  s = (*publisher)->Complete(std::chrono::seconds(120));
  double elapsed = Seconds(start);
  if (!s.ok()) Die("raw publish", s);
  auto state = GetStreamState(conn, kRawStream);
  if (!state.ok() || state->messages != static_cast<int64_t>(subjects.size())) {
    Die("checking the raw stream", state.status());
  }
  return static_cast<double>(subjects.size()) / elapsed;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main() {
  log::SetMinLevel(log::Level::kWarn);
  const char* admin = std::getenv("DATABASE_URL");
  if (admin == nullptr || *admin == '\0') {
    std::fprintf(stderr, "bench_relay: DATABASE_URL is not set (./ops/bench sets it)\n");
    return 2;
  }
  const char* events_env = std::getenv("BENCH_RELAY_EVENTS");
  int events = events_env != nullptr ? std::atoi(events_env) : 50000;
  if (events < 1000) events = 1000;
  events -= events % 100;

  // NATS: the given server if it has no STRATO_EVENTS stream of someone else's, else our own.
  std::unique_ptr<test::NatsServerProcess> own_nats;
  std::string nats_url;
  std::unique_ptr<NatsConnection> conn;
  if (const char* url = std::getenv("NATS_URL"); url != nullptr && *url != '\0') {
    NatsOptions no;
    no.url = url;
    no.name = "bench_relay";
    auto c = NatsConnection::Connect(no);
    if (!c.ok()) Die("connecting to NATS_URL", c.status());
    auto existing = GetStreamState(**c, kEventStreamName);
    if (existing.ok()) {
      std::printf("NATS_URL already has a %s stream; using a nats-server of our own\n",
                  kEventStreamName);
    } else {
      nats_url = url;
      conn = std::move(*c);
    }
  }
  if (conn == nullptr) {
    own_nats = std::make_unique<test::NatsServerProcess>();
    Status s = own_nats->Start();
    if (!s.ok()) Die("starting nats-server", s);
    nats_url = own_nats->url();
    NatsOptions no;
    no.url = nats_url;
    no.name = "bench_relay";
    auto c = NatsConnection::Connect(no);
    if (!c.ok()) Die("connecting to nats-server", c.status());
    conn = std::move(*c);
  }

  auto db_url = test::CreateScratchDatabase(admin, "strato_bench_");
  if (!db_url.ok()) Die("creating a scratch database", db_url.status());
  auto store = PgEventStore::Open(*db_url);
  if (!store.ok()) Die("opening the store", store.status());

  std::vector<std::string> hosts;
  for (int i = 0; i < 8; ++i) hosts.push_back(Uuid::NewV4().ToString());
  auto append_start = Steady::now();
  for (int i = 0; i < events; i += 100) {
    auto r = (*store)->Append(MakeAppend(i, 100, hosts));
    if (!r.ok()) Die("appending", r.status());
  }
  std::printf("appended %d events in %.1f s\n", events, Seconds(append_start));

  // The raw baseline publishes exactly what the relay would, prepared beforehand.
  std::vector<std::string> subjects, payloads, ids;
  size_t bytes = 0;
  for (int64_t after = 0; after < events;) {
    auto batch = (*store)->ReadAll(after, 5000);
    if (!batch.ok()) Die("reading the log", batch.status());
    for (const RecordedEvent& e : *batch) {
      subjects.push_back("bench.raw." + SubjectFor(e).substr(std::string("strato.events.").size()));
      payloads.push_back(ToJsonLine(e));
      ids.push_back(e.event_id.ToString());
      bytes += payloads.back().size();
    }
    after = batch->back().position;
  }
  std::printf("message payload: %zu bytes on average\n", bytes / payloads.size());

  std::vector<double> relay_rates, raw_rates, headers_rates;
  for (int round = 0; round < kRounds; ++round) {
    raw_rates.push_back(MeasureRaw(*conn, subjects, payloads, nullptr));
    relay_rates.push_back(MeasureRelay(**store, *conn, nats_url, events));
    headers_rates.push_back(MeasureRaw(*conn, subjects, payloads, &ids));
    std::printf("round %d: relay %.0f events/s, raw %.0f msgs/s, raw with headers %.0f msgs/s\n",
                round + 1, relay_rates.back(), raw_rates.back(), headers_rates.back());
    std::fflush(stdout);
  }
  double relay = Median(relay_rates), raw = Median(raw_rates), headers = Median(headers_rates);
  std::printf("relay: %.0f events/s\n", relay);
  std::printf("raw async publish: %.0f msgs/s\n", raw);
  std::printf("raw async publish with the relay's headers: %.0f msgs/s\n", headers);
  std::printf("ratio: %.2f (strato/raw, relay vs async publish)\n", relay / raw);
  std::printf("ratio: %.2f (strato/raw, relay vs async publish with the same headers)\n",
              relay / headers);

  (void)DeleteStream(*conn, kRawStream);
  (void)DeleteStream(*conn, kEventStreamName);
  conn.reset();
  store->reset();
  test::DropDatabase(admin, *db_url);
  return 0;
}
