// The NATS side of the bus: a connection wrapper, the JetStream stream that carries the log
// (STRATO_EVENTS, subjects strato.events.>, file storage), and a subscription that follows it.
//
// Only nats_bus.cpp and relay.cpp include <nats/nats.h>; this header names nats.c's handle
// types by forward declaration so that callers never see the C API. Every natsStatus is turned
// into a strato::Status with context where it happens; connection problems (no server, a
// disconnect, a timed-out request) are Code::kUnavailable, so callers can tell "retry later"
// from "this cannot work".
//
// Threading: NatsConnection and the free functions are thread-safe (nats.c connections are).
// An EventSubscription delivers on a thread of its own, one message at a time, in stream order;
// its callbacks must not destroy it. Ownership: NatsConnection owns its natsConnection and
// jsCtx; an EventSubscription must be destroyed before the connection it was started on.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "events/log/event.h"

// nats.c's opaque handles (the same typedefs as in <nats/nats.h>).
typedef struct __natsConnection natsConnection;
typedef struct __natsOptions natsOptions;
typedef struct __jsCtx jsCtx;

namespace strato::events {

inline constexpr const char* kEventStreamName = "STRATO_EVENTS";
inline constexpr const char* kEventSubjects = "strato.events.>";

// The filter subject for the VM events of one host ("strato.events.vm.<host-id>.>"); pass
// "unassigned" for VMs not yet scheduled.
std::string VmEventsSubjectForHost(std::string_view host_id);

struct NatsOptions {
  // nats://host:port, or a comma-separated list of them (a cluster); may carry credentials
  // (never logged).
  std::string url;
  std::string name = "strato";  // the connection name the server shows
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds reconnect_wait{250};    // between reconnect attempts
  int max_reconnect = -1;                           // -1: keep reconnecting forever
  std::chrono::milliseconds request_timeout{5000};  // JetStream API requests
  bool log_connection_events = true;                // log disconnects (warn) and reconnects (info)
};

class NatsConnection {
 public:
  // Connects once (a server that is down is Code::kUnavailable, not retried here). Once
  // connected, nats.c reconnects by itself after outages, as NatsOptions says.
  static Result<std::unique_ptr<NatsConnection>> Connect(const NatsOptions& options);
  ~NatsConnection();
  NatsConnection(const NatsConnection&) = delete;
  NatsConnection& operator=(const NatsConnection&) = delete;

  // True while the connection is up (false while reconnecting or closed).
  bool connected() const;
  // A round trip to the server (PING/PONG after everything buffered): readiness.
  Status Ping(std::chrono::milliseconds timeout);
  // Waits until connected() or the timeout; kUnavailable at the timeout.
  Status WaitConnected(std::chrono::milliseconds timeout);

  const NatsOptions& options() const;
  // The URL with any user:password removed, for logs.
  std::string redacted_url() const;

  // Publishes a core NATS message (not JetStream): a request's answer, a notice.
  Status Publish(std::string_view subject, std::string_view data);
  // Sends what is buffered and waits for the server's answer (PING/PONG).
  Status Flush(std::chrono::milliseconds timeout);
  // A core NATS request: publishes with a fresh inbox as reply subject and waits for the first
  // answer (kDeadlineExceeded at the timeout; kUnavailable when nobody listens).
  Result<std::string> Request(std::string_view subject, std::string_view data,
                              std::chrono::milliseconds timeout);

  // For the bus library's own files (nats_bus.cpp, relay.cpp) only: nothing outside
  // events/bus/ calls nats.c (a test checks the libraries' symbols). Owned by this object.
  natsConnection* native() const;
  jsCtx* jetstream() const;

  struct Impl;

 private:
  friend class EventSubscription;
  explicit NatsConnection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A core NATS message as a MessageSubscription hands it over: views valid during the callback.
struct BusMessage {
  std::string_view subject;
  std::string_view reply_to;  // empty: no answer is expected
  std::string_view data;
  // A header's value ("" when absent), e.g. "Nats-Msg-Id" of what the relay publishes.
  std::string Header(const char* name) const;
  const void* native = nullptr;  // the bus's own message (nats_bus.cpp), for Header
};

// A core NATS subscription (optionally in a queue group, so that one member of the group gets
// each message) whose callback runs on nats.c's delivery thread for the subscription: it must
// return quickly (hand work to threads of its own). Destroying it unsubscribes and waits until
// the callback can no longer run.
class MessageSubscription {
 public:
  struct Options {
    std::string subject;  // may hold wildcards
    std::string queue;    // empty: a plain subscription
    // What nats.c may hold for this subscription before it drops messages (slow consumer);
    // <= 0: nats.c's defaults.
    int pending_messages = 0;
    int pending_bytes = 0;
  };
  using Callback = std::function<void(const BusMessage&)>;

  static Result<std::unique_ptr<MessageSubscription>> Start(NatsConnection& conn, Options options,
                                                            Callback callback);
  ~MessageSubscription();
  MessageSubscription(const MessageSubscription&) = delete;
  MessageSubscription& operator=(const MessageSubscription&) = delete;

  struct Impl;

 private:
  explicit MessageSubscription(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Turns a natsStatus (and a JetStream error code, if any) into a Status whose message starts
// with `context`; connection problems become Code::kUnavailable. Typed as int so that this
// header need not include nats.h. NATS_OK yields Status::Ok().
Status NatsError(int nats_status, std::string_view context, int js_error_code = 0);

// The servers of a NATS URL list: "nats://a:4222, nats://b:4222" split on commas, spaces
// around each entry trimmed, empty entries dropped. Whether each entry is a nats:// URL is
// the configuration check's business (ReadNatsUrl in core/config.h); this only splits.
std::vector<std::string> SplitNatsUrls(std::string_view urls);

// Gives nats.c the servers of a URL list (SplitNatsUrls): one entry through
// natsOptions_SetURL, several through natsOptions_SetServers (natsOptions_SetURL would take the
// whole list for one URL). nats.c tries the servers in random order when connecting and
// reconnecting. kInvalidArgument when the list is empty. For the wrappers that include
// nats.h (nats_bus.cpp, events/bus/nats_link.cpp); `opts` is borrowed.
Status SetNatsServers(natsOptions* opts, std::string_view urls);

// Creates the stream with these subjects and file storage if it does not exist. An existing
// stream must cover the first subject, or this fails with kFailedPrecondition.
// `replicas` (1 to 5) is used when the stream is made; an existing stream with fewer is logged
// (the NATS tool changes it), never changed here.
Status EnsureStream(NatsConnection& conn, const std::string& stream_name,
                    const std::vector<std::string>& subjects, int replicas = 1);
// EnsureStream(conn, stream_name, {kEventSubjects}, replicas).
Status EnsureEventStream(NatsConnection& conn, const std::string& stream_name = kEventStreamName,
                         int replicas = 1);

// Deletes the stream and its messages; kNotFound when there is none. For tests and
// benchmarks on servers of their own.
Status DeleteStream(NatsConnection& conn, const std::string& stream_name);

struct StreamState {
  int64_t messages = 0;
  int64_t first_sequence = 0;
  int64_t last_sequence = 0;  // 0 for a stream that never held a message
};
// kNotFound when the stream does not exist.
Result<StreamState> GetStreamState(NatsConnection& conn, const std::string& stream_name);
Result<int64_t> StreamLastSequence(NatsConnection& conn, const std::string& stream_name);

// One message as stored in a stream.
struct StoredMessage {
  int64_t sequence = 0;
  std::string subject;
  std::string msg_id;  // the Nats-Msg-Id header; empty when absent
  std::string data;
};
// kNotFound when the stream has no message at that sequence.
Result<StoredMessage> GetStoredMessage(NatsConnection& conn, const std::string& stream_name,
                                       int64_t sequence);

// Publishes to JetStream without waiting for each acknowledgement (js_PublishAsync), for bulk
// loads and benchmark baselines. Complete waits for all acknowledgements. Use from one thread
// at a time; destroy before the connection.
class AsyncPublisher {
 public:
  static Result<std::unique_ptr<AsyncPublisher>> Create(NatsConnection& conn);
  ~AsyncPublisher();
  AsyncPublisher(const AsyncPublisher&) = delete;
  AsyncPublisher& operator=(const AsyncPublisher&) = delete;

  // A non-empty msg_id becomes the Nats-Msg-Id header; a positive expected_last_sequence the
  // Nats-Expected-Last-Sequence header (what the relay sends with each event).
  Status Publish(const std::string& subject, std::string_view payload,
                 const std::string& msg_id = "", int64_t expected_last_sequence = 0);
  // Waits until every message published so far is acknowledged; kUnavailable at the timeout,
  // and an error if the server refused any (failures() says how many).
  Status Complete(std::chrono::milliseconds timeout);
  int64_t failures() const;

  struct Impl;

 private:
  explicit AsyncPublisher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// An event as the bus delivered it.
struct BusEvent {
  int64_t sequence = 0;  // the stream sequence; on STRATO_EVENTS it equals event.position
  std::string subject;
  std::string msg_id;  // the Nats-Msg-Id header: the event id as the relay published it
  RecordedEvent event;
};

struct SubscriptionOptions {
  std::string stream = kEventStreamName;
  std::string filter_subject = kEventSubjects;  // one subject (nats-server 2.9: no multi-filter)
  // Deliver messages with sequence > after_position, and only those (also while the stream
  // is still behind that position).
  int64_t after_position = 0;
  // The consumer's idle heartbeat. After two missed ones (a server restart, say) nats.c
  // recreates the ordered consumer from the last sequence delivered.
  std::chrono::milliseconds heartbeat{2000};
};

// Follows a stream with an ordered push consumer (ephemeral, no acks, flow control) that
// starts at after_position + 1. Messages arrive in order, each once; nats.c recreates the
// consumer after gaps or missed heartbeats (a server restart), continuing after the last
// sequence delivered. on_event runs on the subscription's own thread, one message at a time;
// a slow handler only slows delivery (flow control holds the server back). Code on an event
// loop (hostd) should hand the event over to its loop from there.
class EventSubscription {
 public:
  using EventCallback = std::function<void(BusEvent)>;
  // Messages that do not decode as events, and asynchronous errors such as missed
  // heartbeats. The subscription keeps going. Default: log a warning.
  using ErrorCallback = std::function<void(const Status&)>;

  static Result<std::unique_ptr<EventSubscription>> Start(NatsConnection& conn,
                                                          SubscriptionOptions options,
                                                          EventCallback on_event,
                                                          ErrorCallback on_error = nullptr);
  // Unsubscribes and returns once no callback is running or will run.
  ~EventSubscription();
  EventSubscription(const EventSubscription&) = delete;
  EventSubscription& operator=(const EventSubscription&) = delete;

  // The stream sequence of the last message handed to on_event (after_position before any).
  int64_t last_sequence() const;

  struct Impl;

 private:
  explicit EventSubscription(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace strato::events
