#include "events/bus/nats_bus.h"

#include <nats/nats.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "core/log.h"

namespace strato::events {
namespace {

struct OptionsDeleter {
  void operator()(natsOptions* o) const { natsOptions_Destroy(o); }
};
struct ConnectionDeleter {
  void operator()(natsConnection* c) const { natsConnection_Destroy(c); }
};
struct JsDeleter {
  void operator()(jsCtx* js) const { jsCtx_Destroy(js); }
};
struct MsgDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};
struct StreamInfoDeleter {
  void operator()(jsStreamInfo* si) const { jsStreamInfo_Destroy(si); }
};
struct MetaDataDeleter {
  void operator()(jsMsgMetaData* m) const { jsMsgMetaData_Destroy(m); }
};
struct SubscriptionDeleter {
  void operator()(natsSubscription* s) const { natsSubscription_Destroy(s); }
};
using OptionsPtr = std::unique_ptr<natsOptions, OptionsDeleter>;
using ConnectionPtr = std::unique_ptr<natsConnection, ConnectionDeleter>;
using JsPtr = std::unique_ptr<jsCtx, JsDeleter>;
using MsgPtr = std::unique_ptr<natsMsg, MsgDeleter>;
using StreamInfoPtr = std::unique_ptr<jsStreamInfo, StreamInfoDeleter>;
using MetaDataPtr = std::unique_ptr<jsMsgMetaData, MetaDataDeleter>;
using SubscriptionPtr = std::unique_ptr<natsSubscription, SubscriptionDeleter>;

int64_t Millis(std::chrono::milliseconds d) {
  return static_cast<int64_t>(d.count());
}

std::string RedactUrl(std::string_view url) {
  // nats://user:pass@host:port -> nats://host:port, for each URL of a list.
  std::string out;
  for (const std::string& one : SplitNatsUrls(url)) {
    size_t scheme = one.find("://");
    size_t host_start = scheme == std::string::npos ? 0 : scheme + 3;
    size_t at = one.find('@', host_start);
    if (!out.empty()) out += ',';
    if (at != std::string::npos) {
      out += one.substr(0, host_start);
      out += one.substr(at + 1);
    } else {
      out += one;
    }
  }
  return out;
}

// Error sinks of subscriptions. Callbacks run under `mu` and only while `alive`, so that a
// subscription being destroyed waits for a running callback and never sees a later one.
struct ErrorSink {
  std::mutex mu;
  bool alive = true;
  EventSubscription::ErrorCallback callback;

  void Report(const Status& status) {
    std::lock_guard<std::mutex> lock(mu);
    if (alive && callback) callback(status);
  }
};

// nats.c calls connection callbacks on its own threads, possibly after natsConnection_Destroy
// returns. So their closure is a number looked up here, never a pointer to our objects.
struct ConnectionEntry {
  std::string name;
  std::string url;  // redacted
  bool log_events = true;
  std::unordered_map<natsSubscription*, std::shared_ptr<ErrorSink>> sinks;
};

std::mutex g_registry_mu;
std::unordered_map<uintptr_t, ConnectionEntry> g_registry;
uintptr_t g_next_id = 1;

void OnDisconnected(natsConnection*, void* closure) {
  std::lock_guard<std::mutex> lock(g_registry_mu);
  auto it = g_registry.find(reinterpret_cast<uintptr_t>(closure));
  if (it == g_registry.end() || !it->second.log_events) return;
  log::Warn("NATS connection lost; reconnecting",
            {{"connection", it->second.name}, {"url", it->second.url}});
}

void OnReconnected(natsConnection*, void* closure) {
  std::lock_guard<std::mutex> lock(g_registry_mu);
  auto it = g_registry.find(reinterpret_cast<uintptr_t>(closure));
  if (it == g_registry.end() || !it->second.log_events) return;
  log::Info("NATS connection restored", {{"connection", it->second.name}, {"url", it->second.url}});
}

void OnAsyncError(natsConnection* nc, natsSubscription* sub, natsStatus err, void* closure) {
  std::shared_ptr<ErrorSink> sink;
  std::string name;
  {
    std::lock_guard<std::mutex> lock(g_registry_mu);
    auto it = g_registry.find(reinterpret_cast<uintptr_t>(closure));
    if (it == g_registry.end()) return;
    name = it->second.name;
    if (sub != nullptr) {
      auto s = it->second.sinks.find(sub);
      if (s != it->second.sinks.end()) sink = s->second;
    }
  }
  const char* last = nullptr;
  if (nc != nullptr) natsConnection_GetLastError(nc, &last);
  std::string text = natsStatus_GetText(err);
  if (last != nullptr && *last != '\0' && text != last) text += std::string(" (") + last + ")";
  Status status(NatsError(err, "").code(),
                "NATS reported an asynchronous error on connection " + name + ": " + text);
  if (sink) {
    sink->Report(status);
  } else {
    log::Warn("NATS asynchronous error", {{"connection", name}, {"error", text}});
  }
}

bool IsConnectionProblem(natsStatus s) {
  switch (s) {
    case NATS_IO_ERROR:
    case NATS_CONNECTION_CLOSED:
    case NATS_NO_SERVER:
    case NATS_STALE_CONNECTION:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_TIMEOUT:
    case NATS_NOT_YET_CONNECTED:
    case NATS_NO_RESPONDERS:
    case NATS_SSL_ERROR:
    case NATS_DRAINING:
    case NATS_SLOW_CONSUMER:
    case NATS_MISSED_HEARTBEAT:
    case NATS_INSUFFICIENT_BUFFER:  // the reconnect buffer is full while disconnected
      return true;
    default:
      return false;
  }
}

std::string CopyString(const char* data, int len) {
  if (data == nullptr || len <= 0) return {};
  return std::string(data, static_cast<size_t>(len));
}

std::string HeaderValue(natsMsg* msg, const char* key) {
  const char* value = nullptr;
  if (natsMsgHeader_Get(msg, key, &value) != NATS_OK || value == nullptr) return {};
  return value;
}

}  // namespace

std::string VmEventsSubjectForHost(std::string_view host_id) {
  return "strato.events.vm." + std::string(host_id) + ".>";
}

std::vector<std::string> SplitNatsUrls(std::string_view urls) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= urls.size()) {
    size_t end = urls.find(',', start);
    if (end == std::string_view::npos) end = urls.size();
    std::string_view one = urls.substr(start, end - start);
    while (!one.empty() && (one.front() == ' ' || one.front() == '\t')) one.remove_prefix(1);
    while (!one.empty() && (one.back() == ' ' || one.back() == '\t')) one.remove_suffix(1);
    if (!one.empty()) out.emplace_back(one);
    start = end + 1;
  }
  return out;
}

Status SetNatsServers(natsOptions* opts, std::string_view urls) {
  std::vector<std::string> servers = SplitNatsUrls(urls);
  if (servers.empty()) return Status::InvalidArgument("no NATS server URL given");
  if (servers.size() == 1) {
    return NatsError(natsOptions_SetURL(opts, servers[0].c_str()), "setting the NATS URL");
  }
  std::vector<const char*> list;
  list.reserve(servers.size());
  for (const std::string& one : servers) list.push_back(one.c_str());
  return NatsError(natsOptions_SetServers(opts, list.data(), static_cast<int>(list.size())),
                   "setting the NATS server list");
}

Status NatsError(int nats_status, std::string_view context, int js_error_code) {
  natsStatus s = static_cast<natsStatus>(nats_status);
  if (s == NATS_OK) return Status::Ok();
  std::string text = natsStatus_GetText(s);
  natsStatus last_status = NATS_OK;
  const char* last = nats_GetLastError(&last_status);
  if (last_status == s && last != nullptr && *last != '\0' && text != last) {
    text += " (";
    text += last;
    text += ")";
  }
  if (js_error_code != 0) text += " [JetStream error " + std::to_string(js_error_code) + "]";
  std::string message = std::string(context) + ": " + text;

  Code code = Code::kInternal;
  if (IsConnectionProblem(s)) {
    code = Code::kUnavailable;
  } else if (s == NATS_NOT_FOUND) {
    code = Code::kNotFound;
  } else if (s == NATS_CONNECTION_AUTH_FAILED || s == NATS_NOT_PERMITTED) {
    code = Code::kPermissionDenied;
  } else if (s == NATS_INVALID_ARG || s == NATS_INVALID_SUBJECT || s == NATS_ADDRESS_MISSING ||
             s == NATS_INVALID_TIMEOUT || s == NATS_INVALID_QUEUE_NAME || s == NATS_MAX_PAYLOAD) {
    code = Code::kInvalidArgument;
  }
  switch (static_cast<jsErrCode>(js_error_code)) {
    case JSStreamNotFoundErr:
    case JSConsumerNotFoundErr:
    case JSNoMessageFoundErr:
      code = Code::kNotFound;
      break;
    case JSStreamWrongLastSequenceErr:
    case JSStreamWrongLastMsgIDErr:
      code = Code::kConflict;
      break;
    case JSStreamNameExistErr:
      code = Code::kAlreadyExists;
      break;
    case JSNotEnabledErr:
    case JSNotEnabledForAccountErr:
      code = Code::kFailedPrecondition;
      break;
    case JSClusterNotAvailErr:
    case JSStreamOfflineErr:
    case JSInsufficientResourcesErr:
      code = Code::kUnavailable;
      break;
    default:
      break;
  }
  return Status(code, std::move(message));
}

// ---------------------------------------------------------------------------------------------
// NatsConnection

struct NatsConnection::Impl {
  NatsOptions options;
  std::string redacted_url;
  uintptr_t registry_id = 0;
  ConnectionPtr conn;
  JsPtr js;

  ~Impl() {
    // Unregister first: a deliberate close is not an outage worth a warning.
    if (registry_id != 0) {
      std::lock_guard<std::mutex> lock(g_registry_mu);
      g_registry.erase(registry_id);
    }
    js.reset();
    if (conn) natsConnection_Close(conn.get());
    conn.reset();
  }
};

NatsConnection::NatsConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
NatsConnection::~NatsConnection() = default;

Result<std::unique_ptr<NatsConnection>> NatsConnection::Connect(const NatsOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->redacted_url = RedactUrl(options.url);
  const std::string context = "connecting to NATS at " + impl->redacted_url;
  if (SplitNatsUrls(options.url).empty()) {
    return Status::InvalidArgument(context + ": no URL given");
  }

  {
    std::lock_guard<std::mutex> lock(g_registry_mu);
    impl->registry_id = g_next_id++;
    ConnectionEntry& entry = g_registry[impl->registry_id];
    entry.name = options.name;
    entry.url = impl->redacted_url;
    entry.log_events = options.log_connection_events;
  }
  void* closure = reinterpret_cast<void*>(impl->registry_id);

  natsOptions* raw_opts = nullptr;
  natsStatus s = natsOptions_Create(&raw_opts);
  if (s != NATS_OK) return NatsError(s, context + ": creating options");
  OptionsPtr opts(raw_opts);
  Status servers = SetNatsServers(opts.get(), options.url);
  if (!servers.ok()) return servers.WithContext(context);
  s = natsOptions_SetName(opts.get(), options.name.c_str());
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts.get(), Millis(options.connect_timeout));
  if (s == NATS_OK) s = natsOptions_SetAllowReconnect(opts.get(), true);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts.get(), options.max_reconnect);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts.get(), Millis(options.reconnect_wait));
  if (s == NATS_OK) s = natsOptions_SetReconnectJitter(opts.get(), 50, 50);
  // A server that vanishes without closing the socket is noticed within ~15 s.
  if (s == NATS_OK) s = natsOptions_SetPingInterval(opts.get(), 5000);
  if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(opts.get(), 3);
  if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(opts.get(), OnDisconnected, closure);
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(opts.get(), OnReconnected, closure);
  if (s == NATS_OK) s = natsOptions_SetErrorHandler(opts.get(), OnAsyncError, closure);
  if (s != NATS_OK) return NatsError(s, context + ": setting options");

  natsConnection* raw_conn = nullptr;
  s = natsConnection_Connect(&raw_conn, opts.get());
  if (s != NATS_OK) return NatsError(s, context);
  impl->conn.reset(raw_conn);

  jsOptions jo;
  s = jsOptions_Init(&jo);
  if (s != NATS_OK) return NatsError(s, context + ": JetStream options");
  jo.Wait = Millis(options.request_timeout);
  jsCtx* raw_js = nullptr;
  s = natsConnection_JetStream(&raw_js, impl->conn.get(), &jo);
  if (s != NATS_OK) return NatsError(s, context + ": creating the JetStream context");
  impl->js.reset(raw_js);
  return std::unique_ptr<NatsConnection>(new NatsConnection(std::move(impl)));
}

bool NatsConnection::connected() const {
  return natsConnection_Status(impl_->conn.get()) == NATS_CONN_STATUS_CONNECTED;
}

Status NatsConnection::Ping(std::chrono::milliseconds timeout) {
  if (!connected()) {
    return Status::Unavailable("pinging NATS at " + impl_->redacted_url + ": not connected");
  }
  natsStatus s =
      natsConnection_FlushTimeout(impl_->conn.get(), std::max<int64_t>(1, Millis(timeout)));
  return NatsError(s, "pinging NATS at " + impl_->redacted_url);
}

Status NatsConnection::Publish(std::string_view subject, std::string_view data) {
  const std::string subj(subject);
  natsStatus s = natsConnection_Publish(impl_->conn.get(), subj.c_str(), data.data(),
                                        static_cast<int>(data.size()));
  return NatsError(s, "publishing on " + subj.substr(0, 200));
}

Status NatsConnection::Flush(std::chrono::milliseconds timeout) {
  natsStatus s =
      natsConnection_FlushTimeout(impl_->conn.get(), std::max<int64_t>(1, Millis(timeout)));
  return NatsError(s, "flushing to NATS at " + impl_->redacted_url);
}

Result<std::string> NatsConnection::Request(std::string_view subject, std::string_view data,
                                            std::chrono::milliseconds timeout) {
  const std::string subj(subject);
  natsMsg* reply = nullptr;
  natsStatus s =
      natsConnection_Request(&reply, impl_->conn.get(), subj.c_str(), data.data(),
                             static_cast<int>(data.size()), std::max<int64_t>(1, Millis(timeout)));
  if (s == NATS_TIMEOUT) {
    return Status::DeadlineExceeded("no answer on " + subj.substr(0, 200) + " within " +
                                    std::to_string(timeout.count()) + " ms");
  }
  if (s != NATS_OK) return NatsError(s, "requesting on " + subj.substr(0, 200));
  std::unique_ptr<natsMsg, decltype(&natsMsg_Destroy)> owned(reply, &natsMsg_Destroy);
  const char* body = natsMsg_GetData(reply);
  const int length = natsMsg_GetDataLength(reply);
  return body != nullptr && length > 0 ? std::string(body, static_cast<size_t>(length))
                                       : std::string();
}

Status NatsConnection::WaitConnected(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!connected()) {
    if (natsConnection_IsClosed(impl_->conn.get())) {
      return Status::Unavailable("the NATS connection to " + impl_->redacted_url + " is closed");
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Unavailable("NATS at " + impl_->redacted_url + " is not reachable");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::Ok();
}

const NatsOptions& NatsConnection::options() const {
  return impl_->options;
}
std::string NatsConnection::redacted_url() const {
  return impl_->redacted_url;
}
natsConnection* NatsConnection::native() const {
  return impl_->conn.get();
}
jsCtx* NatsConnection::jetstream() const {
  return impl_->js.get();
}

// ---------------------------------------------------------------------------------------------
// Streams

Status EnsureStream(NatsConnection& conn, const std::string& stream_name,
                    const std::vector<std::string>& subjects, int replicas) {
  if (subjects.empty())
    return Status::InvalidArgument("stream " + stream_name + " needs a subject");
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsStreamInfo* raw_info = nullptr;
  natsStatus s = js_GetStreamInfo(&raw_info, conn.jetstream(), stream_name.c_str(), nullptr, &jerr);
  StreamInfoPtr info(raw_info);
  if (s == NATS_OK) {
    const jsStreamConfig* cfg = info->Config;
    bool covers = false;
    for (int i = 0; cfg != nullptr && i < cfg->SubjectsLen; ++i) {
      covers = covers || subjects[0] == cfg->Subjects[i];
    }
    if (!covers) {
      return Status::FailedPrecondition("stream " + stream_name + " exists but does not take " +
                                        subjects[0] + "; fix or delete it");
    }
    if (cfg != nullptr && cfg->Replicas < replicas) {
      log::Warn("the stream has fewer replicas than asked; change it with the NATS tool",
                {{"stream", stream_name},
                 {"replicas", static_cast<int64_t>(cfg->Replicas)},
                 {"asked", static_cast<int64_t>(replicas)}});
    }
    return Status::Ok();
  }
  Status status = NatsError(s, "looking up stream " + stream_name, jerr);
  if (status.code() != Code::kNotFound) return status;

  std::vector<const char*> subject_ptrs;
  for (const std::string& subject : subjects) subject_ptrs.push_back(subject.c_str());
  jsStreamConfig cfg;
  s = jsStreamConfig_Init(&cfg);
  if (s != NATS_OK) return NatsError(s, "creating stream " + stream_name);
  cfg.Name = stream_name.c_str();
  cfg.Subjects = subject_ptrs.data();
  cfg.SubjectsLen = static_cast<int>(subject_ptrs.size());
  cfg.Storage = js_FileStorage;
  cfg.Retention = js_LimitsPolicy;
  cfg.Replicas = std::max(1, replicas);
  jerr = static_cast<jsErrCode>(0);
  raw_info = nullptr;
  s = js_AddStream(&raw_info, conn.jetstream(), &cfg, nullptr, &jerr);
  info.reset(raw_info);
  status = NatsError(s, "creating stream " + stream_name, jerr);
  if (status.code() == Code::kAlreadyExists) return Status::Ok();  // another process won the race
  if (status.ok()) log::Info("created JetStream stream", {{"stream", stream_name}});
  return status;
}

Status EnsureEventStream(NatsConnection& conn, const std::string& stream_name, int replicas) {
  return EnsureStream(conn, stream_name, {kEventSubjects}, replicas);
}

Status DeleteStream(NatsConnection& conn, const std::string& stream_name) {
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_DeleteStream(conn.jetstream(), stream_name.c_str(), nullptr, &jerr);
  return NatsError(s, "deleting stream " + stream_name, jerr);
}

Result<StreamState> GetStreamState(NatsConnection& conn, const std::string& stream_name) {
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsStreamInfo* raw_info = nullptr;
  natsStatus s = js_GetStreamInfo(&raw_info, conn.jetstream(), stream_name.c_str(), nullptr, &jerr);
  StreamInfoPtr info(raw_info);
  if (s != NATS_OK) return NatsError(s, "reading the state of stream " + stream_name, jerr);
  StreamState state;
  state.messages = static_cast<int64_t>(info->State.Msgs);
  state.first_sequence = static_cast<int64_t>(info->State.FirstSeq);
  state.last_sequence = static_cast<int64_t>(info->State.LastSeq);
  return state;
}

Result<int64_t> StreamLastSequence(NatsConnection& conn, const std::string& stream_name) {
  Result<StreamState> state = GetStreamState(conn, stream_name);
  if (!state.ok()) return state.status();
  return state->last_sequence;
}

Result<StoredMessage> GetStoredMessage(NatsConnection& conn, const std::string& stream_name,
                                       int64_t sequence) {
  const std::string context =
      "reading message " + std::to_string(sequence) + " of stream " + stream_name;
  if (sequence < 1) return Status::InvalidArgument(context + ": sequences start at 1");
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsMsg* raw_msg = nullptr;
  natsStatus s = js_GetMsg(&raw_msg, conn.jetstream(), stream_name.c_str(),
                           static_cast<uint64_t>(sequence), nullptr, &jerr);
  MsgPtr msg(raw_msg);
  if (s != NATS_OK) return NatsError(s, context, jerr);
  StoredMessage out;
  out.sequence = static_cast<int64_t>(natsMsg_GetSequence(msg.get()));
  const char* subject = natsMsg_GetSubject(msg.get());
  out.subject = subject != nullptr ? subject : "";
  out.msg_id = HeaderValue(msg.get(), "Nats-Msg-Id");
  out.data = CopyString(natsMsg_GetData(msg.get()), natsMsg_GetDataLength(msg.get()));
  return out;
}

// ---------------------------------------------------------------------------------------------
// AsyncPublisher

struct AsyncPublisher::Impl {
  JsPtr js;
  std::atomic<int64_t> failures{0};
  // nats.c 3.4.1 crashes in js_PublishAsyncGetPendingList on a context that never published.
  bool published = false;

  static void OnError(jsCtx*, jsPubAckErr*, void* closure) {
    static_cast<Impl*>(closure)->failures++;
  }
};

AsyncPublisher::AsyncPublisher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AsyncPublisher::~AsyncPublisher() {
  // Forget what is still unacknowledged so that no callback runs after we are gone.
  natsMsgList pending;
  if (impl_->published && js_PublishAsyncGetPendingList(&pending, impl_->js.get()) == NATS_OK) {
    natsMsgList_Destroy(&pending);
  }
}

Result<std::unique_ptr<AsyncPublisher>> AsyncPublisher::Create(NatsConnection& conn) {
  auto impl = std::make_unique<Impl>();
  jsOptions jo;
  natsStatus s = jsOptions_Init(&jo);
  if (s != NATS_OK) return NatsError(s, "creating an async publisher");
  jo.Wait = Millis(conn.options().request_timeout);
  jo.PublishAsync.ErrHandler = &Impl::OnError;
  jo.PublishAsync.ErrHandlerClosure = impl.get();
  jsCtx* raw_js = nullptr;
  s = natsConnection_JetStream(&raw_js, conn.native(), &jo);
  if (s != NATS_OK) return NatsError(s, "creating an async publisher");
  impl->js.reset(raw_js);
  return std::unique_ptr<AsyncPublisher>(new AsyncPublisher(std::move(impl)));
}

Status AsyncPublisher::Publish(const std::string& subject, std::string_view payload,
                               const std::string& msg_id, int64_t expected_last_sequence) {
  jsPubOptions po;
  natsStatus s = jsPubOptions_Init(&po);
  if (s != NATS_OK) return NatsError(s, "publishing to " + subject);
  const bool with_options = !msg_id.empty() || expected_last_sequence > 0;
  if (!msg_id.empty()) po.MsgId = msg_id.c_str();
  if (expected_last_sequence > 0) po.ExpectLastSeq = static_cast<uint64_t>(expected_last_sequence);
  impl_->published = true;
  s = js_PublishAsync(impl_->js.get(), subject.c_str(), payload.data(),
                      static_cast<int>(payload.size()), with_options ? &po : nullptr);
  return NatsError(s, "publishing to " + subject);
}

Status AsyncPublisher::Complete(std::chrono::milliseconds timeout) {
  jsPubOptions po;
  natsStatus s = jsPubOptions_Init(&po);
  if (s == NATS_OK) {
    po.MaxWait = std::max<int64_t>(1, Millis(timeout));
    s = js_PublishAsyncComplete(impl_->js.get(), &po);
  }
  STRATO_RETURN_IF_ERROR(NatsError(s, "waiting for JetStream acknowledgements"));
  if (impl_->failures.load() > 0) {
    return Status::Unavailable("JetStream refused " + std::to_string(impl_->failures.load()) +
                               " published messages");
  }
  return Status::Ok();
}

int64_t AsyncPublisher::failures() const {
  return impl_->failures.load();
}

// ---------------------------------------------------------------------------------------------
// EventSubscription

struct EventSubscription::Impl {
  NatsConnection* conn = nullptr;
  SubscriptionOptions options;
  EventCallback on_event;
  std::shared_ptr<ErrorSink> sink = std::make_shared<ErrorSink>();
  uintptr_t registry_id = 0;
  SubscriptionPtr sub;
  std::atomic<int64_t> last_sequence{0};

  std::mutex done_mu;
  std::condition_variable done_cv;
  bool done = false;

  static void OnMessage(natsConnection*, natsSubscription*, natsMsg* raw, void* closure) {
    MsgPtr msg(raw);
    auto* self = static_cast<Impl*>(closure);
    if (msg == nullptr) return;
    jsMsgMetaData* raw_meta = nullptr;
    natsStatus s = natsMsg_GetMetaData(&raw_meta, msg.get());
    MetaDataPtr meta(raw_meta);
    if (s != NATS_OK) {
      self->sink->Report(NatsError(
          s, "reading the JetStream metadata of a message on " + self->options.filter_subject));
      return;
    }
    BusEvent bus;
    bus.sequence = static_cast<int64_t>(meta->Sequence.Stream);
    // The server starts a consumer whose start sequence lies beyond the stream's end at the
    // end instead, so a subscriber ahead of the stream would see old messages again.
    if (bus.sequence <= self->options.after_position) return;
    const char* subject = natsMsg_GetSubject(msg.get());
    bus.subject = subject != nullptr ? subject : "";
    bus.msg_id = HeaderValue(msg.get(), "Nats-Msg-Id");
    const char* data = natsMsg_GetData(msg.get());
    int len = natsMsg_GetDataLength(msg.get());
    Result<RecordedEvent> event =
        FromJsonLine(std::string_view(data != nullptr ? data : "", len > 0 ? len : 0));
    self->last_sequence.store(bus.sequence);
    if (!event.ok()) {
      self->sink->Report(event.status().WithContext("message " + std::to_string(bus.sequence) +
                                                    " of stream " + self->options.stream));
      return;
    }
    bus.event = std::move(event).value();
    self->on_event(std::move(bus));
  }

  static void OnComplete(void* closure) {
    auto* self = static_cast<Impl*>(closure);
    std::lock_guard<std::mutex> lock(self->done_mu);
    self->done = true;
    self->done_cv.notify_all();
  }
};

EventSubscription::EventSubscription(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<EventSubscription>> EventSubscription::Start(NatsConnection& conn,
                                                                    SubscriptionOptions options,
                                                                    EventCallback on_event,
                                                                    ErrorCallback on_error) {
  const std::string context = "subscribing to " + options.filter_subject + " on stream " +
                              options.stream + " after position " +
                              std::to_string(options.after_position);
  if (!on_event) return Status::InvalidArgument(context + ": no event callback");
  if (options.after_position < 0) {
    return Status::InvalidArgument(context + ": the position must not be negative");
  }
  auto impl = std::make_unique<Impl>();
  impl->conn = &conn;
  impl->options = std::move(options);
  impl->on_event = std::move(on_event);
  impl->last_sequence.store(impl->options.after_position);
  if (on_error) {
    impl->sink->callback = std::move(on_error);
  } else {
    std::string subject = impl->options.filter_subject;
    impl->sink->callback = [subject](const Status& status) {
      log::Warn("event subscription error", {{"subject", subject}, {"error", status.ToString()}});
    };
  }

  jsSubOptions so;
  natsStatus s = jsSubOptions_Init(&so);
  if (s != NATS_OK) return NatsError(s, context);
  so.Stream = impl->options.stream.c_str();
  so.Ordered = true;
  so.Config.DeliverPolicy = js_DeliverByStartSequence;
  so.Config.OptStartSeq = static_cast<uint64_t>(impl->options.after_position + 1);
  so.Config.Heartbeat = static_cast<int64_t>(impl->options.heartbeat.count()) * 1000000;

  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsSubscription* raw_sub = nullptr;
  s = js_Subscribe(&raw_sub, conn.jetstream(), impl->options.filter_subject.c_str(),
                   &Impl::OnMessage, impl.get(), nullptr, &so, &jerr);
  if (s != NATS_OK) return NatsError(s, context, jerr);
  impl->sub.reset(raw_sub);
  s = natsSubscription_SetOnCompleteCB(raw_sub, &Impl::OnComplete, impl.get());
  if (s == NATS_OK) {
    // The library's limits would drop messages (and so restart the consumer) on a slow
    // handler; flow control already bounds what the server sends.
    s = natsSubscription_SetPendingLimits(raw_sub, -1, -1);
  }
  if (s != NATS_OK) {
    Status status = NatsError(s, context);
    impl->sub.reset();  // unsubscribes
    // Without the completion callback we cannot know when the handler is done: leak its state.
    (void)impl.release();
    return status;
  }
  // Route this subscription's asynchronous errors (missed heartbeats, slow consumer) to it.
  impl->registry_id = conn.impl_->registry_id;
  {
    std::lock_guard<std::mutex> lock(g_registry_mu);
    auto it = g_registry.find(impl->registry_id);
    if (it != g_registry.end()) it->second.sinks[raw_sub] = impl->sink;
  }
  return std::unique_ptr<EventSubscription>(new EventSubscription(std::move(impl)));
}

EventSubscription::~EventSubscription() {
  {
    std::lock_guard<std::mutex> lock(g_registry_mu);
    auto it = g_registry.find(impl_->registry_id);
    if (it != g_registry.end()) it->second.sinks.erase(impl_->sub.get());
  }
  {
    std::lock_guard<std::mutex> lock(impl_->sink->mu);
    impl_->sink->alive = false;
  }
  natsSubscription* sub = impl_->sub.release();
  if (sub != nullptr) {
    // Unsubscribe deletes the server's consumer; it needs the server, so skip it during an
    // outage (the server drops an ephemeral consumer without interest by itself).
    if (impl_->conn->connected()) {
      natsStatus s = natsSubscription_Unsubscribe(sub);
      if (s != NATS_OK && s != NATS_INVALID_SUBSCRIPTION && s != NATS_CONNECTION_CLOSED) {
        log::Warn("could not delete an event consumer; the server drops it without interest",
                  {{"error", NatsError(s, "unsubscribing").message()}});
      }
    }
    natsSubscription_Destroy(sub);
    std::unique_lock<std::mutex> lock(impl_->done_mu);
    if (!impl_->done_cv.wait_for(lock, std::chrono::seconds(10), [&] { return impl_->done; })) {
      // Never seen; better a leak than a handler running on freed memory.
      log::Error("event subscription did not stop within 10 s; leaking its state",
                 {{"subject", impl_->options.filter_subject}});
      (void)impl_.release();
    }
  }
}

int64_t EventSubscription::last_sequence() const {
  return impl_->last_sequence.load();
}

// --- MessageSubscription

std::string BusMessage::Header(const char* name) const {
  const char* value = nullptr;
  auto* msg = static_cast<natsMsg*>(const_cast<void*>(native));
  if (msg == nullptr || natsMsgHeader_Get(msg, name, &value) != NATS_OK || value == nullptr) {
    return "";
  }
  return value;
}

struct MessageSubscription::Impl {
  Callback callback;
  natsSubscription* sub = nullptr;
  std::mutex mu;
  std::condition_variable cv;
  bool complete = false;  // nats.c's completion callback ran: no delivery after it

  static void OnMsg(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    std::unique_ptr<natsMsg, decltype(&natsMsg_Destroy)> owned(msg, &natsMsg_Destroy);
    const char* subject = natsMsg_GetSubject(msg);
    const char* reply = natsMsg_GetReply(msg);
    const char* data = natsMsg_GetData(msg);
    const int length = natsMsg_GetDataLength(msg);
    BusMessage m;
    m.subject = subject != nullptr ? subject : "";
    m.reply_to = reply != nullptr ? reply : "";
    m.data = data != nullptr && length > 0 ? std::string_view(data, static_cast<size_t>(length))
                                           : std::string_view();
    m.native = msg;
    static_cast<Impl*>(closure)->callback(m);
  }

  static void OnComplete(void* closure) {
    auto* impl = static_cast<Impl*>(closure);
    std::lock_guard<std::mutex> lock(impl->mu);
    impl->complete = true;
    impl->cv.notify_all();
  }
};

MessageSubscription::MessageSubscription(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<MessageSubscription>> MessageSubscription::Start(NatsConnection& conn,
                                                                        Options options,
                                                                        Callback callback) {
  auto impl = std::make_unique<Impl>();
  impl->callback = std::move(callback);
  natsSubscription* sub = nullptr;
  natsStatus s =
      options.queue.empty()
          ? natsConnection_Subscribe(&sub, conn.native(), options.subject.c_str(), &Impl::OnMsg,
                                     impl.get())
          : natsConnection_QueueSubscribe(&sub, conn.native(), options.subject.c_str(),
                                          options.queue.c_str(), &Impl::OnMsg, impl.get());
  if (s != NATS_OK) return NatsError(s, "subscribing to " + options.subject);
  impl->sub = sub;
  std::unique_ptr<MessageSubscription> out(new MessageSubscription(std::move(impl)));
  // From here the destructor unsubscribes, whatever fails next.
  s = natsSubscription_SetOnCompleteCB(sub, &Impl::OnComplete, out->impl_.get());
  if (s == NATS_OK && (options.pending_messages > 0 || options.pending_bytes > 0)) {
    s = natsSubscription_SetPendingLimits(
        sub, options.pending_messages > 0 ? options.pending_messages : -1,
        options.pending_bytes > 0 ? options.pending_bytes : -1);
  }
  if (s != NATS_OK) {
    Status status = NatsError(s, "setting up the subscription to " + options.subject);
    (void)natsSubscription_Unsubscribe(sub);  // its status adds nothing to `status`
    natsSubscription_Destroy(sub);
    // Without the completion callback nobody can know when a delivery already under way ends:
    // leak the state rather than let a callback run on freed memory.
    (void)out->impl_.release();
    return status;
  }
  return out;
}

MessageSubscription::~MessageSubscription() {
  if (!impl_) return;
  natsStatus s = natsSubscription_Unsubscribe(impl_->sub);
  if (s != NATS_OK && s != NATS_INVALID_SUBSCRIPTION && s != NATS_CONNECTION_CLOSED) {
    log::Warn("could not unsubscribe", {{"error", NatsError(s, "unsubscribing").message()}});
  }
  natsSubscription_Destroy(impl_->sub);
  std::unique_lock<std::mutex> lock(impl_->mu);
  if (!impl_->cv.wait_for(lock, std::chrono::seconds(10), [&] { return impl_->complete; })) {
    lock.unlock();
    log::Error("a subscription's deliveries did not end within 10 s; leaking its state");
    (void)impl_.release();
  }
}

}  // namespace strato::events
