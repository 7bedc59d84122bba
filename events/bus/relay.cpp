// The relay's loop, in three parts:
//   - Run: connect, Resync (ask the stream where it stands, check it against the log), then
//     PublishLoop until an error or `stop`; on an error forget what is in flight, back off,
//     and start again from Resync. Only checks that retrying cannot fix end Run.
//   - LogReader: a thread that reads the log after a position, builds each event's message
//     (subject, payload, headers) and queues a couple of batches ahead; waits for appends when
//     caught up. One per publishing session.
//   - PublishLoop: publishes batches asynchronously on two JetStream contexts in turn, so that
//     one batch can be in flight while the next goes out; js_PublishAsyncComplete on a batch's
//     context waits for that batch alone. Once a batch is acknowledged, published_position
//     advances to its end.
// Each message expects its predecessor's sequence, so whatever subset of a failed batch the
// server stored, it stored in order at the right sequences, and Resync continues after it.
#include "events/bus/relay.h"

#include <nats/nats.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>

#include "core/log.h"
#include "core/parse.h"
#include "events/bus/nats_bus.h"

namespace strato::events {
namespace {

// How long the server may take to acknowledge a batch before the relay gives up on it and
// resyncs. Long enough for a NATS restart to complete inside it.
constexpr std::chrono::milliseconds kAckTimeout{5000};
// Slices in which long waits are cut so that `stop` is seen promptly.
constexpr std::chrono::milliseconds kStopCheck{50};
constexpr std::chrono::milliseconds kMinBackoff{50};
constexpr std::chrono::milliseconds kMaxBackoff{1000};
// Batches the reader prepares ahead of the publisher.
constexpr size_t kReadAhead = 2;

struct JsDeleter {
  void operator()(jsCtx* js) const { jsCtx_Destroy(js); }
};
using JsPtr = std::unique_ptr<jsCtx, JsDeleter>;
struct MsgDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};
using MsgPtr = std::unique_ptr<natsMsg, MsgDeleter>;
struct StatsDeleter {
  void operator()(natsStatistics* s) const { natsStatistics_Destroy(s); }
};
using StatsPtr = std::unique_ptr<natsStatistics, StatsDeleter>;

// How many times the connection has reconnected (-1 if unknown).
int64_t Reconnects(natsConnection* nc) {
  natsStatistics* raw = nullptr;
  if (natsStatistics_Create(&raw) != NATS_OK) return -1;
  StatsPtr stats(raw);
  uint64_t reconnects = 0;
  if (natsConnection_GetStats(nc, stats.get()) != NATS_OK ||
      natsStatistics_GetCounts(stats.get(), nullptr, nullptr, nullptr, nullptr, &reconnects) !=
          NATS_OK) {
    return -1;
  }
  return static_cast<int64_t>(reconnects);
}

void SleepFor(std::chrono::milliseconds d, const std::atomic<bool>& stop) {
  auto deadline = std::chrono::steady_clock::now() + d;
  while (!stop.load()) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(kStopCheck, deadline - now));
  }
}

// The position a message was published for: its expected last sequence + 1, or 1 when it
// carried none (or one that is not a number).
int64_t PositionOf(natsMsg* msg) {
  const char* value = nullptr;
  if (msg == nullptr || natsMsgHeader_Get(msg, "Nats-Expected-Last-Sequence", &value) != NATS_OK ||
      value == nullptr) {
    return 1;
  }
  return ParseInt(value, 0, std::numeric_limits<int64_t>::max() - 1).value_or(0) + 1;
}

// Failed acknowledgements of the current batch, recorded on nats.c's reply thread.
struct AckState {
  std::mutex mu;
  Status failure;  // the first failure since Reset
  std::atomic<bool> failed{false};

  void Reset() {
    std::lock_guard<std::mutex> lock(mu);
    failure = Status::Ok();
    failed.store(false);
  }
  Status Get() {
    std::lock_guard<std::mutex> lock(mu);
    return failure;
  }

  // A refusal ("wrong last sequence" after a lost message, say) or a missing stream.
  static void OnError(jsCtx*, jsPubAckErr* pae, void* closure) {
    auto* self = static_cast<AckState*>(closure);
    std::lock_guard<std::mutex> lock(self->mu);
    self->failed.store(true);
    if (!self->failure.ok()) return;  // the first says what went wrong; the rest follow from it
    std::string context = "NATS refused event " + std::to_string(PositionOf(pae->Msg));
    if (pae->ErrCode != 0 && pae->ErrText != nullptr && *pae->ErrText != '\0') {
      context += std::string(" (") + pae->ErrText + ")";
    }
    self->failure = NatsError(pae->Err, context, pae->ErrCode);
  }
};

// Logs a warning when the relay starts failing and an info line when it recovers, not one per
// attempt.
class OutageLog {
 public:
  void Fail(const Status& status, int64_t position) {
    if (in_outage_) {
      log::Debug("relay retry failed", {{"error", status.ToString()}});
      return;
    }
    in_outage_ = true;
    since_ = std::chrono::steady_clock::now();
    log::Warn("relay cannot publish; retrying until NATS and the log are reachable",
              {{"position", position}, {"error", status.ToString()}});
  }
  void Ok(int64_t position) {
    if (!in_outage_) return;
    in_outage_ = false;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - since_)
                  .count();
    log::Info("relay resumed", {{"position", position}, {"outage_ms", static_cast<int64_t>(ms)}});
  }

 private:
  bool in_outage_ = false;
  std::chrono::steady_clock::time_point since_;
};

// An event's message, ready to publish: subject SubjectFor(event), payload ToJsonLine(event),
// header Nats-Msg-Id = event id, and the expectation that puts it at sequence = position.
struct Prepared {
  int64_t position = 0;
  size_t bytes = 0;
  MsgPtr msg;
};

Result<Prepared> Prepare(const RecordedEvent& e) {
  const std::string subject = SubjectFor(e);
  const std::string payload = ToJsonLine(e);
  const std::string context = "preparing event " + std::to_string(e.position);
  natsMsg* raw = nullptr;
  natsStatus s = natsMsg_Create(&raw, subject.c_str(), nullptr, payload.data(),
                                static_cast<int>(payload.size()));
  if (s != NATS_OK) return NatsError(s, context);
  Prepared p;
  p.position = e.position;
  p.bytes = payload.size();
  p.msg.reset(raw);
  s = natsMsgHeader_Set(raw, "Nats-Msg-Id", e.event_id.ToString().c_str());
  if (s == NATS_OK) {
    if (e.position > 1) {
      s = natsMsgHeader_Set(raw, "Nats-Expected-Last-Sequence",
                            std::to_string(e.position - 1).c_str());
    } else {
      // An expected last sequence of 0 cannot be said (nats.c takes it for "unset"). The
      // stream was found empty; expecting the first event's subject to be empty as well keeps
      // a second copy of it out.
      s = natsMsgHeader_Set(raw, "Nats-Expected-Last-Subject-Sequence", "0");
    }
  }
  if (s != NATS_OK) return NatsError(s, context);
  return p;
}

// What the reader hands the publisher: events, or none ("caught up"), or an error.
struct PreparedBatch {
  std::vector<Prepared> events;
  Status error;
  bool fatal = false;
};

// Reads the log after a position and prepares its messages on a thread of its own, a few
// batches ahead of the publisher; waits for appends when caught up. The publisher destroys it
// (joining the thread) before it resyncs, so the waiter has one user at a time.
class LogReader {
 public:
  LogReader(EventStore& store, AppendWaiter& waiter, const RelayOptions& options, int64_t after)
      : store_(store), waiter_(waiter), options_(options), after_(after) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~LogReader() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();  // at most one idle_wait when it is waiting for appends
  }

  // The next batch, or nothing if none is ready within `timeout`.
  std::optional<PreparedBatch> Next(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return !queue_.empty(); })) return std::nullopt;
    PreparedBatch b = std::move(queue_.front());
    queue_.pop_front();
    cv_.notify_all();
    return b;
  }

 private:
  bool Push(PreparedBatch b) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return stopping_ || queue_.size() < kReadAhead; });
    if (stopping_) return false;
    queue_.push_back(std::move(b));
    cv_.notify_all();
    return true;
  }
  bool Stopping() {
    std::lock_guard<std::mutex> lock(mu_);
    return stopping_;
  }
  void Fail(Status status, bool fatal) {
    PreparedBatch b;
    b.error = std::move(status);
    b.fatal = fatal;
    Push(std::move(b));
  }

  void Loop() {
    bool told_caught_up = false;
    while (!Stopping()) {
      auto batch = store_.ReadAll(after_, options_.batch_size);
      if (!batch.ok()) {
        return Fail(
            batch.status().WithContext("reading the log after position " + std::to_string(after_)),
            false);
      }
      if (batch->empty()) {
        if (!told_caught_up && !Push(PreparedBatch{})) return;
        told_caught_up = true;
        Status waited = waiter_.Wait(after_, options_.idle_wait);
        if (!waited.ok()) return Fail(waited.WithContext("waiting for appends"), false);
        continue;
      }
      told_caught_up = false;
      PreparedBatch out;
      out.events.reserve(batch->size());
      for (const RecordedEvent& e : *batch) {
        if (e.position != after_ + 1) {
          return Fail(
              Status::Internal("the log went from position " + std::to_string(after_) + " to " +
                               std::to_string(e.position) + "; positions must have no gaps"),
              true);
        }
        Result<Prepared> p = Prepare(e);
        if (!p.ok()) return Fail(p.status(), false);
        out.events.push_back(std::move(p).value());
        after_ = e.position;
      }
      if (!Push(std::move(out))) return;
    }
  }

  EventStore& store_;
  AppendWaiter& waiter_;
  const RelayOptions& options_;
  int64_t after_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<PreparedBatch> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace

// A JetStream publishing context with the failures of the batch published on it.
struct Lane {
  JsPtr js;
  // Whether `js` has published: nats.c 3.4.1 crashes in js_PublishAsyncGetPendingList on a
  // context that never did.
  bool published = false;
  AckState acks;
};

// A batch published and not yet acknowledged.
struct InFlight {
  int lane = 0;
  int64_t last_position = 0;
  int64_t reconnects = 0;  // the connection's reconnect count when it went out
};

struct Relay::Impl {
  EventStore& store;
  AppendWaiter& waiter;
  RelayOptions options;
  std::atomic<int64_t> published{0};

  mutable std::mutex conn_mu;  // guards swapping `conn` (connected() reads it)
  std::unique_ptr<NatsConnection> conn;
  Lane lanes[2];  // Run's thread only
  OutageLog outage;
  Status fatal;  // set by checks that retrying cannot fix

  Impl(EventStore& s, AppendWaiter& w, RelayOptions o)
      : store(s), waiter(w), options(std::move(o)) {
    if (options.batch_size == 0) options.batch_size = 1;
  }

  Status Run(const std::atomic<bool>& stop);
  Status Connect();
  Status Resync();
  Status PublishLoop(const std::atomic<bool>& stop);
  Status PublishBatch(Lane& lane, std::vector<Prepared>& batch);
  Status AwaitAcks(Lane& lane, const std::atomic<bool>& stop, int64_t reconnects_before);
  Status Finish(const InFlight& batch, const std::atomic<bool>& stop);
  void DropPending();
  void Disconnect();
  Status Fatal(Status status) {
    fatal = status;
    return status;
  }
};

Status Relay::Impl::Connect() {
  NatsOptions no;
  no.url = options.nats_url;
  no.name = "strato-relay";
  no.connect_timeout = std::clamp(options.idle_wait, std::chrono::milliseconds(200),
                                  std::chrono::milliseconds(2000));
  no.request_timeout = std::chrono::milliseconds(3000);
  auto conn_or = NatsConnection::Connect(no);
  if (!conn_or.ok()) {
    if (conn_or.status().code() == Code::kInvalidArgument) return Fatal(conn_or.status());
    return conn_or.status();
  }
  for (Lane& lane : lanes) {
    jsOptions jo;
    natsStatus s = jsOptions_Init(&jo);
    if (s != NATS_OK) return NatsError(s, "relay: JetStream options");
    jo.Wait = 3000;
    jo.PublishAsync.ErrHandler = &AckState::OnError;
    jo.PublishAsync.ErrHandlerClosure = &lane.acks;
    jsCtx* raw_js = nullptr;
    s = natsConnection_JetStream(&raw_js, (*conn_or)->native(), &jo);
    if (s != NATS_OK) return NatsError(s, "relay: creating a JetStream publishing context");
    lane.js.reset(raw_js);
    lane.published = false;
  }
  std::lock_guard<std::mutex> lock(conn_mu);
  conn = std::move(conn_or).value();
  return Status::Ok();
}

void Relay::Impl::Disconnect() {
  for (Lane& lane : lanes) lane.js.reset();
  std::unique_ptr<NatsConnection> old;
  {
    std::lock_guard<std::mutex> lock(conn_mu);
    old = std::move(conn);
  }
  old.reset();
}

// Reads where the stream stands, checks that it is a prefix of the log, and continues after it.
Status Relay::Impl::Resync() {
  const std::string& stream = options.stream_name;
  STRATO_RETURN_IF_ERROR(EnsureEventStream(*conn, stream, options.stream_replicas));
  Result<int64_t> last_seq = StreamLastSequence(*conn, stream);
  if (!last_seq.ok()) return last_seq.status();
  // Read the log after the stream: the log only grows, so the comparison cannot be fooled.
  Result<int64_t> log_last = store.LastPosition();
  if (!log_last.ok()) return log_last.status().WithContext("reading the log's last position");
  if (*last_seq > *log_last) {
    return Fatal(Status::FailedPrecondition(
        "stream " + stream + " holds messages up to sequence " + std::to_string(*last_seq) +
        " but the log ends at position " + std::to_string(*log_last) +
        "; the stream belongs to another log (delete the stream, or point NATS_URL elsewhere)"));
  }
  if (*last_seq > 0) {
    Result<StoredMessage> msg = GetStoredMessage(*conn, stream, *last_seq);
    if (!msg.ok()) return msg.status();
    auto events = store.ReadAll(*last_seq - 1, 1);
    if (!events.ok()) return events.status().WithContext("reading the log");
    if (events->empty() || events->front().position != *last_seq ||
        events->front().event_id.ToString() != msg->msg_id) {
      return Fatal(Status::FailedPrecondition(
          "message " + std::to_string(*last_seq) + " of stream " + stream +
          " is not the log's event at that position (its Nats-Msg-Id differs); the stream " +
          "belongs to another log"));
    }
  }
  published.store(*last_seq);
  return Status::Ok();
}

Status Relay::Impl::PublishBatch(Lane& lane, std::vector<Prepared>& batch) {
  for (Prepared& e : batch) {
    natsMsg* msg = e.msg.release();
    lane.published = true;
    natsStatus s = js_PublishMsgAsync(lane.js.get(), &msg, nullptr);
    e.msg.reset(msg);  // null when the library took the message
    if (s == NATS_MAX_PAYLOAD) {
      return Fatal(Status::FailedPrecondition(
          "event " + std::to_string(e.position) + " is " + std::to_string(e.bytes) +
          " bytes as a message, more than NATS accepts (raise max_payload on the server)"));
    }
    if (s != NATS_OK) return NatsError(s, "publishing event " + std::to_string(e.position));
  }
  return Status::Ok();
}

// Waits until every message published so far is acknowledged. Gives up early when the batch
// is known to have failed: a refusal, a disconnect (what was written before it may be lost
// and would never be acknowledged), or `stop`; and after kAckTimeout.
Status Relay::Impl::AwaitAcks(Lane& lane, const std::atomic<bool>& stop,
                              int64_t reconnects_before) {
  auto deadline = std::chrono::steady_clock::now() + kAckTimeout;
  while (true) {
    jsPubOptions po;
    natsStatus s = jsPubOptions_Init(&po);
    if (s != NATS_OK) return NatsError(s, "relay: publish options");
    po.MaxWait = 100;
    s = js_PublishAsyncComplete(lane.js.get(), &po);
    if (s == NATS_OK) return Status::Ok();
    if (s != NATS_TIMEOUT) return NatsError(s, "waiting for NATS to acknowledge events");
    if (lane.acks.failed.load()) return Status::Ok();  // the caller reads the failure
    if (stop.load()) return Status::Unavailable("stopping while NATS acknowledgements are due");
    if (!conn->connected() ||
        (reconnects_before >= 0 && Reconnects(conn->native()) != reconnects_before)) {
      return Status::Unavailable("the NATS connection dropped while events were in flight");
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Unavailable("NATS did not acknowledge published events within " +
                                 std::to_string(kAckTimeout.count()) + " ms");
    }
  }
}

// After a failure: forget the messages still awaiting acknowledgement, so that late replies
// are ignored. The server may still store some of them; that is safe, because each expects
// its predecessor's sequence and the next Resync reads where the stream stands.
void Relay::Impl::DropPending() {
  for (Lane& lane : lanes) {
    if (!lane.js || !lane.published) continue;
    natsMsgList pending;
    if (js_PublishAsyncGetPendingList(&pending, lane.js.get()) == NATS_OK) {
      natsMsgList_Destroy(&pending);
    }
  }
}

// Waits for a batch's acknowledgements and, if all is well, advances published_position.
Status Relay::Impl::Finish(const InFlight& batch, const std::atomic<bool>& stop) {
  Lane& lane = lanes[batch.lane];
  STRATO_RETURN_IF_ERROR(AwaitAcks(lane, stop, batch.reconnects));
  if (lane.acks.failed.load()) return lane.acks.Get();
  published.store(batch.last_position);
  outage.Ok(batch.last_position);
  return Status::Ok();
}

Status Relay::Impl::PublishLoop(const std::atomic<bool>& stop) {
  LogReader reader(store, waiter, options, published.load());
  std::optional<InFlight> in_flight;  // at most one batch waits while the next goes out
  int next_lane = 0;
  while (!stop.load()) {
    // With a batch in flight, take the next one only if it is ready; else finish the first.
    std::optional<PreparedBatch> batch =
        reader.Next(in_flight ? std::chrono::milliseconds(0) : kStopCheck);
    if (!batch || batch->events.empty()) {
      if (in_flight) {
        STRATO_RETURN_IF_ERROR(Finish(*in_flight, stop));
        in_flight.reset();
      }
      if (batch && batch->error.ok()) outage.Ok(published.load());  // caught up
      if (!batch || batch->error.ok()) continue;
    }
    if (!batch->error.ok()) return batch->fatal ? Fatal(batch->error) : batch->error;
    if (!conn->connected()) return Status::Unavailable("NATS is not connected");
    Lane& lane = lanes[next_lane];
    lane.acks.Reset();
    InFlight sent{next_lane, batch->events.back().position, Reconnects(conn->native())};
    STRATO_RETURN_IF_ERROR(PublishBatch(lane, batch->events));
    next_lane = 1 - next_lane;
    if (in_flight) STRATO_RETURN_IF_ERROR(Finish(*in_flight, stop));
    in_flight = sent;
  }
  if (in_flight) (void)Finish(*in_flight, stop);  // records progress if the acks are there
  return Status::Ok();
}

Status Relay::Impl::Run(const std::atomic<bool>& stop) {
  log::Info("relay starting", {{"stream", options.stream_name},
                               {"batch_size", static_cast<int64_t>(options.batch_size)}});
  std::chrono::milliseconds backoff = kMinBackoff;
  bool announced = false;
  Status result;
  while (!stop.load()) {
    Status status;
    if (!conn) {
      status = Connect();
    } else if (natsConnection_IsClosed(conn->native())) {
      Disconnect();
      status = Status::Unavailable("the NATS connection closed");
    } else if (!conn->connected()) {
      status = Status::Unavailable("NATS at " + conn->redacted_url() + " is not reachable");
    }
    if (status.ok()) status = Resync();
    if (status.ok()) {
      if (!announced) {
        log::Info("relay publishing",
                  {{"stream", options.stream_name}, {"position", published.load()}});
        announced = true;
      }
      backoff = kMinBackoff;
      status = PublishLoop(stop);
      if (status.ok()) break;  // stopped
      DropPending();
    }
    if (stop.load() && fatal.ok()) break;
    if (!fatal.ok()) {
      log::Error("relay stopped: " + fatal.message(), {{"position", published.load()}});
      result = fatal;
      break;
    }
    outage.Fail(status, published.load());
    SleepFor(backoff, stop);
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
  DropPending();
  Disconnect();
  if (result.ok()) log::Info("relay stopped", {{"position", published.load()}});
  return result;
}

Relay::Relay(EventStore& store, AppendWaiter& waiter, RelayOptions options)
    : impl_(std::make_unique<Impl>(store, waiter, std::move(options))) {}

Relay::~Relay() = default;

Status Relay::Run(const std::atomic<bool>& stop) {
  impl_->fatal = Status::Ok();
  return impl_->Run(stop);
}

int64_t Relay::published_position() const {
  return impl_->published.load();
}

bool Relay::connected() const {
  std::lock_guard<std::mutex> lock(impl_->conn_mu);
  return impl_->conn != nullptr && impl_->conn->connected();
}

}  // namespace strato::events
