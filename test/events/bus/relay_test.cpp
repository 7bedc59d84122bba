// The relay and the bus against a real PostgreSQL (TestDatabase) and a nats-server of each
// test's own (NatsServerProcess), so tests can run in parallel. Every wait is bounded.
#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "core/ids.h"
#include "events/bus/nats_bus.h"
#include "events/bus/relay.h"
#include "test/support/process.h"
#include "test/support/test_env.h"

using namespace strato;
using namespace strato::events;
using namespace std::chrono_literals;

namespace {

constexpr auto kWait = 60s;
const std::string kHostA = "4c2a2f0e-0d7e-4f0c-9a47-1d8f3b2c6a01";
const std::string kHostB = "9b1e7c55-3f0a-4e62-8d2b-7a6c5e4f3d02";

// Waits until `done` holds, polling; false at the timeout.
bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = kWait) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// The metadata of event `i`: VM events of two hosts and unassigned ones, so that subjects
// vary and host filters have something to select.
std::string MetadataFor(int i) {
  std::string meta = "{\"actor\":\"user-" + std::to_string(i % 5) + "\",\"correlation_id\":\"" +
                     Uuid::NewV4().ToString() + "\"";
  if (i % 3 == 0) meta += ",\"host_id\":\"" + kHostA + "\"";
  if (i % 3 == 1) meta += ",\"host_id\":\"" + kHostB + "\"";
  return meta + "}";
}

// Appends `total` events, `per_append` to one stream per append, cycling through VM, host
// and organization streams. Data is ~300 bytes with its envelope.
Status TryAppendMany(EventStore& store, int total, int per_append, int first_index = 0) {
  for (int done = 0; done < total; done += per_append) {
    int i = first_index + done;
    AppendRequest req;
    StreamAppend sa;
    const char* category = (i / per_append) % 4 == 3   ? "host"
                           : (i / per_append) % 4 == 2 ? "org"
                                                       : "vm";
    sa.stream_id = std::string(category) + "-" + Uuid::NewV4().ToString();
    sa.expected = ExpectedVersion::NoStream();
    for (int k = 0; k < per_append && done + k < total; ++k) {
      NewEvent e;
      e.type = k == 0 ? "Created" : "Changed";
      e.data = "{\"name\":\"web-" + std::to_string(i + k) +
               "\",\"description\":\"relay test event\",\"image\":\"debian-12\",\"cpu_count\":2,"
               "\"memory_mb\":4096,\"disk_gb\":40,\"n\":" +
               std::to_string(i + k) + "}";
      e.metadata = MetadataFor(i + k);
      sa.events.push_back(std::move(e));
    }
    req.streams.push_back(std::move(sa));
    auto r = store.Append(std::move(req));
    if (!r.ok()) return r.status();
  }
  return Status::Ok();
}

void AppendMany(EventStore& store, int total, int per_append, int first_index = 0) {
  Status s = TryAppendMany(store, total, per_append, first_index);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
}

std::vector<RecordedEvent> ReadWholeLog(EventStore& store) {
  std::vector<RecordedEvent> all;
  for (;;) {
    auto batch = store.ReadAll(all.empty() ? 0 : all.back().position, 5000);
    REQUIRE_MESSAGE(batch.ok(), batch.status().ToString());
    if (batch->empty()) return all;
    all.insert(all.end(), batch->begin(), batch->end());
  }
}

// JSON text in one spelling (jsonb's text and the bus's compact form differ in spaces).
std::string Canonical(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  if (doc.HasParseError()) return "<invalid JSON>";
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  doc.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

// Collects what an EventSubscription delivers.
class Collector {
 public:
  EventSubscription::EventCallback Callback() {
    return [this](BusEvent e) {
      std::lock_guard<std::mutex> lock(mu_);
      events_.push_back(std::move(e));
      cv_.notify_all();
    };
  }
  EventSubscription::ErrorCallback Errors() {
    return [this](const Status& s) {
      std::lock_guard<std::mutex> lock(mu_);
      errors_.push_back(s.ToString());
    };
  }
  bool WaitFor(size_t n, std::chrono::milliseconds timeout = kWait) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return events_.size() >= n; });
  }
  std::vector<BusEvent> events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  std::vector<std::string> errors() {
    std::lock_guard<std::mutex> lock(mu_);
    return errors_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<BusEvent> events_;
  std::vector<std::string> errors_;
};

// Checks the delivered message against the log's event at the same position.
void CheckSame(const BusEvent& got, const RecordedEvent& want) {
  INFO("position " << want.position);
  CHECK(got.sequence == want.position);
  CHECK(got.msg_id == want.event_id.ToString());
  CHECK(got.subject == SubjectFor(want));
  CHECK(got.event.position == want.position);
  CHECK(got.event.stream_id == want.stream_id);
  CHECK(got.event.stream_version == want.stream_version);
  CHECK(got.event.event_id == want.event_id);
  CHECK(got.event.type == want.type);
  CHECK(Canonical(got.event.data) == Canonical(want.data));
  CHECK(Canonical(got.event.metadata) == Canonical(want.metadata));
  CHECK(UnixMicros(got.event.recorded_at) == UnixMicros(want.recorded_at));
  CHECK(got.event.hash == want.hash);
}

std::unique_ptr<NatsConnection> ConnectTo(const test::NatsServerProcess& nats) {
  NatsOptions options;
  options.url = nats.url();
  options.name = "relay-test";
  auto conn = NatsConnection::Connect(options);
  REQUIRE_MESSAGE(conn.ok(), conn.status().ToString());
  return std::move(conn).value();
}

int64_t LastSequence(NatsConnection& conn) {
  auto last = StreamLastSequence(conn, kEventStreamName);
  if (!last.ok()) return last.status().code() == Code::kNotFound ? 0 : -1;
  return *last;
}

// The stream holds exactly the log: as many messages as events, and message n is event n
// (sequence, Nats-Msg-Id, subject, payload), read back with an ordered consumer from 0.
void CheckStreamIsTheLog(NatsConnection& conn, EventStore& store) {
  std::vector<RecordedEvent> log = ReadWholeLog(store);
  auto state = GetStreamState(conn, kEventStreamName);
  REQUIRE_MESSAGE(state.ok(), state.status().ToString());
  CHECK(state->messages == static_cast<int64_t>(log.size()));
  CHECK(state->first_sequence == 1);
  CHECK(state->last_sequence == static_cast<int64_t>(log.size()));

  Collector got;
  auto sub = EventSubscription::Start(conn, {}, got.Callback(), got.Errors());
  REQUIRE_MESSAGE(sub.ok(), sub.status().ToString());
  REQUIRE_MESSAGE(got.WaitFor(log.size()),
                  "the subscription delivered " << got.events().size() << " of " << log.size());
  std::this_thread::sleep_for(200ms);  // anything extra would arrive now
  sub->reset();
  std::vector<BusEvent> events = got.events();
  REQUIRE(events.size() == log.size());
  CHECK(got.errors().empty());
  int mismatches = 0;
  for (size_t i = 0; i < log.size(); ++i) {
    const BusEvent& e = events[i];
    const RecordedEvent& want = log[i];
    bool same = e.sequence == want.position && e.msg_id == want.event_id.ToString() &&
                e.event.event_id == want.event_id && e.subject == SubjectFor(want);
    if (!same && ++mismatches <= 5) CheckSame(e, want);  // details for the first few only
  }
  CHECK(mismatches == 0);
}

// Runs a Relay on a thread of its own until destroyed.
class RelayThread {
 public:
  RelayThread(EventStore& store, std::unique_ptr<AppendWaiter> waiter, RelayOptions options)
      : waiter_(std::move(waiter)), relay_(store, *waiter_, std::move(options)) {
    thread_ = std::thread([this] { result_ = relay_.Run(stop_); });
  }
  ~RelayThread() { (void)Stop(); }
  Status Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return result_;
  }
  Relay& relay() { return relay_; }
  bool WaitPublished(int64_t position, std::chrono::milliseconds timeout = kWait) {
    return WaitUntil([&] { return relay_.published_position() >= position; }, timeout);
  }

 private:
  std::unique_ptr<AppendWaiter> waiter_;
  Relay relay_;
  std::atomic<bool> stop_{false};
  Status result_;
  std::thread thread_;
};

RelayOptions OptionsFor(const test::NatsServerProcess& nats, size_t batch_size = 1000) {
  RelayOptions options;
  options.nats_url = nats.url();
  options.batch_size = batch_size;
  options.idle_wait = 200ms;
  return options;
}

}  // namespace

TEST_CASE(
    "relay publishes every event once at the sequence of its position with its id and subject and "
    "payload") {
  test::TestDatabase db;
  test::NatsServerProcess nats;
  REQUIRE_MESSAGE(nats.Start().ok(), "see " << nats.log_path());
  AppendMany(db.store(), 1500, 50);
  auto conn = ConnectTo(nats);
  {
    RelayThread relay(db.store(), db.NewWaiter(), OptionsFor(nats, 200));
    REQUIRE_MESSAGE(relay.WaitPublished(1500), "published " << relay.relay().published_position());
    CHECK(relay.relay().connected());
    CheckStreamIsTheLog(*conn, db.store());

    // Stored messages read back one by one carry the same sequence, id and subject.
    std::vector<RecordedEvent> log = ReadWholeLog(db.store());
    for (int64_t position : {int64_t{1}, int64_t{2}, int64_t{777}, int64_t{1500}}) {
      auto msg = GetStoredMessage(*conn, kEventStreamName, position);
      REQUIRE_MESSAGE(msg.ok(), msg.status().ToString());
      const RecordedEvent& e = log[static_cast<size_t>(position - 1)];
      CHECK(msg->sequence == position);
      CHECK(msg->msg_id == e.event_id.ToString());
      CHECK(msg->subject == SubjectFor(e));
      CHECK(msg->data == ToJsonLine(e));
    }
    // Events appended while it runs follow (the waiter wakes it).
    AppendMany(db.store(), 100, 10, 1500);
    REQUIRE(relay.WaitPublished(1600));
    Status stopped = relay.Stop();
    CHECK_MESSAGE(stopped.ok(), stopped.ToString());
  }
  // A new relay starts after the stream's last sequence: nothing twice, nothing lost.
  AppendMany(db.store(), 250, 25, 1600);
  {
    RelayThread relay(db.store(), db.NewWaiter(), OptionsFor(nats));
    REQUIRE(relay.WaitPublished(1850));
  }
  CheckStreamIsTheLog(*conn, db.store());
  auto state = GetStreamState(*conn, kEventStreamName);
  REQUIRE(state.ok());
  CHECK(state->messages == 1850);
}

TEST_CASE("relay process killed part way and restarted: the stream holds each event once") {
  constexpr int kBatch = 20000;
  test::TestDatabase db;
  test::NatsServerProcess nats;
  REQUIRE_MESSAGE(nats.Start().ok(), "see " << nats.log_path());
  auto conn = ConnectTo(nats);
  auto tmp = test::TempDir::Make("strato-relay-test-");
  REQUIRE(tmp.ok());
  test::ChildOptions child;
  child.argv = {STRATO_BINARY_DIR "/strato", "relay"};
  child.env = {{"DATABASE_URL", db.url()}, {"NATS_URL", nats.url()}};
  child.log_path = (*tmp)->path() + "/relay.log";

  // Append a batch, start the relay and kill it the moment the 2,000th message after what the
  // stream held is stored: a consumer waits at that sequence (the stream may not exist yet, so
  // retry until the subscription starts). A loaded machine may deliver that message only after
  // the relay published the whole batch (seen in CI); then the kill did not land part way, and
  // it is tried again with another batch, at most three times.
  int total = 0;
  int64_t at_kill = 0;
  for (int attempt = 0; attempt < 3 && at_kill == total; ++attempt) {
    AppendMany(db.store(), kBatch, 100, total);
    total += kBatch;
    auto first = test::ChildProcess::Spawn(child);
    REQUIRE_MESSAGE(first.ok(), first.status().ToString());
    std::atomic<bool> killed{false};
    const pid_t victim = (*first)->pid();
    std::unique_ptr<EventSubscription> watch;
    SubscriptionOptions from;
    from.after_position = at_kill + 1999;
    REQUIRE(WaitUntil([&] {
      auto sub = EventSubscription::Start(*conn, from, [&](BusEvent) {
        if (!killed.exchange(true)) ::kill(victim, SIGKILL);
      });
      if (!sub.ok()) return false;
      watch = std::move(sub).value();
      return true;
    }));
    auto exit_code = (*first)->Wait(kWait);
    REQUIRE_MESSAGE(exit_code.ok(), "the relay did not die: see " << child.log_path);
    CHECK(*exit_code == 128 + SIGKILL);
    watch.reset();
    const int64_t before = at_kill;
    at_kill = LastSequence(*conn);
    MESSAGE("relay killed with the stream at sequence " << at_kill << " of " << total);
    CHECK(at_kill >= before + 2000);
  }
  CHECK(at_kill < total);  // killed part way

  auto second = test::ChildProcess::Spawn(child);
  REQUIRE_MESSAGE(second.ok(), second.status().ToString());
  REQUIRE_MESSAGE(WaitUntil([&] { return LastSequence(*conn) >= total; }),
                  "the stream is at " << LastSequence(*conn) << "; see " << child.log_path);
  std::this_thread::sleep_for(300ms);  // a duplicate, if any, would land now
  CheckStreamIsTheLog(*conn, db.store());

  REQUIRE((*second)->Kill(SIGTERM).ok());
  auto second_exit = (*second)->Wait(kWait);
  REQUIRE(second_exit.ok());
  CHECK_MESSAGE(*second_exit == 0, "see " << child.log_path);
}

TEST_CASE(
    "relay survives NATS stopping and crashing while appends go on: appends succeed and the relay "
    "catches up exactly once") {
  test::TestDatabase db;
  test::NatsServerProcess nats;
  REQUIRE_MESSAGE(nats.Start().ok(), "see " << nats.log_path());
  auto conn = ConnectTo(nats);
  RelayThread relay(db.store(), db.NewWaiter(), OptionsFor(nats, 500));
  AppendMany(db.store(), 2000, 100);
  REQUIRE(relay.WaitPublished(2000));
  // A subscriber that follows the bus through both outages.
  Collector follower;
  auto follow = EventSubscription::Start(*conn, {}, follower.Callback());
  REQUIRE_MESSAGE(follow.ok(), follow.status().ToString());

  // Appends keep going from before NATS stops until after it is back.
  std::atomic<int> appended{2000};
  std::atomic<bool> appending{true};
  Status append_failure;  // written by the appender, read after join
  std::thread appender([&] {
    while (appending) {
      Status s = TryAppendMany(db.store(), 100, 20, appended);
      if (!s.ok()) {
        append_failure = s;
        return;
      }
      appended += 100;
      std::this_thread::sleep_for(10ms);
    }
  });
  std::this_thread::sleep_for(200ms);
  REQUIRE(nats.Stop().ok());
  int at_stop = appended;
  CHECK(WaitUntil([&] { return !relay.relay().connected(); }, 10s));
  std::this_thread::sleep_for(1500ms);
  int during = appended - at_stop;
  MESSAGE(during << " events appended while NATS was down");
  CHECK(during >= 500);  // appends never waited for NATS
  REQUIRE_MESSAGE(nats.Start().ok(), "see " << nats.log_path());
  std::this_thread::sleep_for(300ms);
  appending = false;
  appender.join();
  REQUIRE_MESSAGE(append_failure.ok(), append_failure.ToString());
  const int64_t total = appended;
  REQUIRE_MESSAGE(relay.WaitPublished(total),
                  "published " << relay.relay().published_position() << " of " << total);
  CHECK(relay.relay().connected());
  REQUIRE(conn->WaitConnected(kWait).ok());
  CheckStreamIsTheLog(*conn, db.store());

  // A crash of the server while a backlog is in flight: the same result.
  AppendMany(db.store(), 20000, 500, total);
  REQUIRE(WaitUntil([&] { return relay.relay().published_position() > total + 2000; }));
  REQUIRE(nats.Kill().ok());
  std::this_thread::sleep_for(500ms);
  REQUIRE_MESSAGE(nats.Start().ok(), "see " << nats.log_path());
  REQUIRE_MESSAGE(relay.WaitPublished(total + 20000),
                  "published " << relay.relay().published_position());
  REQUIRE(conn->WaitConnected(kWait).ok());
  CheckStreamIsTheLog(*conn, db.store());
  CHECK(relay.Stop().ok());

  // The follower's consumer died with the server; nats.c recreated it after the last message
  // delivered, so it saw every event once, in order.
  const size_t all = static_cast<size_t>(total + 20000);
  REQUIRE_MESSAGE(follower.WaitFor(all), "the follower has " << follower.events().size());
  std::this_thread::sleep_for(200ms);
  follow->reset();
  std::vector<BusEvent> seen = follower.events();
  REQUIRE(seen.size() == all);
  int out_of_order = 0;
  for (size_t i = 0; i < seen.size(); ++i) {
    out_of_order += seen[i].sequence == static_cast<int64_t>(i + 1) ? 0 : 1;
  }
  CHECK(out_of_order == 0);
}

TEST_CASE("subscription follows the bus from a position in order and filtered by subject") {
  test::TestDatabase db;
  test::NatsServerProcess nats;
  REQUIRE_MESSAGE(nats.Start().ok(), "see " << nats.log_path());
  AppendMany(db.store(), 1000, 10);
  RelayThread relay(db.store(), db.NewWaiter(), OptionsFor(nats));
  REQUIRE(relay.WaitPublished(1000));
  auto conn = ConnectTo(nats);
  std::vector<RecordedEvent> log = ReadWholeLog(db.store());

  SUBCASE("from position 500: exactly 501..1000 and then what is appended next") {
    Collector got;
    SubscriptionOptions options;
    options.after_position = 500;
    auto sub = EventSubscription::Start(*conn, options, got.Callback(), got.Errors());
    REQUIRE_MESSAGE(sub.ok(), sub.status().ToString());
    REQUIRE(got.WaitFor(500));
    std::this_thread::sleep_for(200ms);
    std::vector<BusEvent> events = got.events();
    REQUIRE(events.size() == 500);
    for (size_t i = 0; i < events.size(); ++i) CheckSame(events[i], log[500 + i]);
    CHECK((*sub)->last_sequence() == 1000);

    AppendMany(db.store(), 30, 10, 1000);
    REQUIRE(got.WaitFor(530));
    events = got.events();
    for (size_t i = 500; i < events.size(); ++i)
      CHECK(events[i].sequence == 501 + static_cast<int64_t>(i));
    CHECK(got.errors().empty());
  }

  SUBCASE("the VM events of one host and nothing else") {
    Collector got;
    SubscriptionOptions options;
    options.filter_subject = VmEventsSubjectForHost(kHostA);
    options.after_position = 100;
    auto sub = EventSubscription::Start(*conn, options, got.Callback(), got.Errors());
    REQUIRE_MESSAGE(sub.ok(), sub.status().ToString());
    std::vector<RecordedEvent> want;
    const std::string prefix = "strato.events.vm." + kHostA + ".";
    for (const RecordedEvent& e : log) {
      if (e.position > 100 && SubjectFor(e).rfind(prefix, 0) == 0) want.push_back(e);
    }
    REQUIRE(want.size() > 50);
    REQUIRE(got.WaitFor(want.size()));
    std::this_thread::sleep_for(200ms);
    std::vector<BusEvent> events = got.events();
    REQUIRE(events.size() == want.size());
    for (size_t i = 0; i < events.size(); ++i) CheckSame(events[i], want[i]);
  }

  SUBCASE("a category: host streams only") {
    Collector got;
    SubscriptionOptions options;
    options.filter_subject = "strato.events.host.>";
    auto sub = EventSubscription::Start(*conn, options, got.Callback(), got.Errors());
    REQUIRE_MESSAGE(sub.ok(), sub.status().ToString());
    size_t want = 0;
    for (const RecordedEvent& e : log) want += e.Category() == "host" ? 1 : 0;
    REQUIRE(want > 0);
    REQUIRE(got.WaitFor(want));
    std::this_thread::sleep_for(200ms);
    std::vector<BusEvent> events = got.events();
    REQUIRE(events.size() == want);
    for (size_t i = 0; i < events.size(); ++i) {
      CHECK(events[i].event.Category() == "host");
      if (i > 0) CHECK(events[i].sequence > events[i - 1].sequence);
      CheckSame(events[i], log[static_cast<size_t>(events[i].sequence - 1)]);
    }
  }
}

// Runs a relay until it returns by itself (bounded); its result.
Status RunUntilItGivesUp(EventStore& store, const test::NatsServerProcess& nats,
                         test::TestDatabase& db) {
  auto waiter = db.NewWaiter();
  Relay relay(store, *waiter, OptionsFor(nats));
  std::atomic<bool> stop{false};
  std::atomic<bool> returned{false};
  Status result;  // written by the relay thread, read after join
  std::thread t([&] {
    result = relay.Run(stop);
    returned = true;
  });
  bool returned_by_itself = WaitUntil([&] { return returned.load(); }, 30s);
  stop = true;
  t.join();
  if (!returned_by_itself) return Status::DeadlineExceeded("the relay kept retrying");
  return result;
}

TEST_CASE("relay refuses a stream that belongs to another log") {
  test::TestDatabase db;
  test::NatsServerProcess nats;
  REQUIRE_MESSAGE(nats.Start().ok(), "see " << nats.log_path());
  AppendMany(db.store(), 100, 10);
  {
    RelayThread relay(db.store(), db.NewWaiter(), OptionsFor(nats));
    REQUIRE(relay.WaitPublished(100));
  }

  SUBCASE("a log shorter than the stream") {
    test::TestDatabase other;
    AppendMany(other.store(), 40, 10);
    Status result = RunUntilItGivesUp(other.store(), nats, other);
    CHECK(result.code() == Code::kFailedPrecondition);
    CHECK_MESSAGE(result.message().find("the log ends at position 40") != std::string::npos,
                  result.message());
  }
  SUBCASE("a longer log whose event at the stream's last sequence is another") {
    test::TestDatabase other;
    AppendMany(other.store(), 150, 10);
    Status result = RunUntilItGivesUp(other.store(), nats, other);
    CHECK(result.code() == Code::kFailedPrecondition);
    CHECK_MESSAGE(result.message().find("Nats-Msg-Id differs") != std::string::npos,
                  result.message());
  }
  // Neither published anything.
  auto conn = ConnectTo(nats);
  auto state = GetStreamState(*conn, kEventStreamName);
  REQUIRE(state.ok());
  CHECK(state->messages == 100);
}

TEST_CASE(
    "a comma-separated NATS URL whose first server is down connects to the next: the relay "
    "publishes and a subscription receives") {
  test::TestDatabase db;
  test::NatsServerProcess nats;
  REQUIRE_MESSAGE(nats.Start().ok(), "see " << nats.log_path());
  const std::string dead = "nats://127.0.0.1:" + std::to_string(test::FreePort());
  const std::string list = dead + ", " + nats.url();

  // The first entry alone is refused: nothing listens there.
  NatsOptions alone;
  alone.url = dead;
  alone.name = "relay-test";
  auto refused = NatsConnection::Connect(alone);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Code::kUnavailable);

  // nats.c tries a list in random order; several connections make sure that some of them
  // tried the dead server first and went on to the next.
  for (int i = 0; i < 6; ++i) {
    NatsOptions options;
    options.url = list;
    options.name = "relay-test";
    auto conn = NatsConnection::Connect(options);
    REQUIRE_MESSAGE(conn.ok(), conn.status().ToString());
    CHECK((*conn)->redacted_url() == dead + "," + nats.url());
    CHECK((*conn)->Ping(5s).ok());
  }

  AppendMany(db.store(), 60, 6);
  RelayOptions options = OptionsFor(nats);
  options.nats_url = list;
  RelayThread relay(db.store(), db.NewWaiter(), options);
  REQUIRE_MESSAGE(relay.WaitPublished(60), "published " << relay.relay().published_position());
  CHECK(relay.relay().connected());

  NatsOptions reader;
  reader.url = list;
  reader.name = "relay-test";
  auto conn = NatsConnection::Connect(reader);
  REQUIRE_MESSAGE(conn.ok(), conn.status().ToString());
  CheckStreamIsTheLog(**conn, db.store());
}

TEST_CASE(
    "a stream made with more replicas than a single NATS server has is refused with a sentence") {
  test::NatsServerProcess nats;
  REQUIRE(nats.Start().ok());
  auto conn = ConnectTo(nats);
  Status three = EnsureStream(*conn, "REPLICATED", {"replicated.>"}, 3);
  CHECK_FALSE(three.ok());
  CHECK_MESSAGE(three.message().find("creating stream REPLICATED") != std::string::npos,
                three.message());
  // One replica is what a single server can hold; asking for it again finds it there.
  CHECK(EnsureStream(*conn, "REPLICATED", {"replicated.>"}, 1).ok());
  CHECK(EnsureStream(*conn, "REPLICATED", {"replicated.>"}, 1).ok());
}
