#include "events/bus/nats_link.h"

#include <nats/adapters/libuv.h>

#include <unistd.h>
#include <atomic>

#include <condition_variable>
#include <mutex>

#include "core/log.h"
#include "events/bus/nats_bus.h"

namespace strato::events {

namespace {
std::atomic<int64_t> g_follows{0};  // names this process's consumers apart
}  // namespace

struct NatsLink::Impl {
  std::atomic<bool> closing{false};
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
};

namespace {

// The closure is the link's `closing` flag: a disconnect hostd asked for is not news.
void OnDisconnected(natsConnection*, void* closing) {
  if (!static_cast<std::atomic<bool>*>(closing)->load()) {
    log::Warn("hostd lost its NATS connection");
  }
}
void OnReconnected(natsConnection*, void*) {
  log::Info("hostd reconnected to NATS");
}

class Follow final : public NatsFollow {
 public:
  NatsLink::OnMessage on_message;
  natsSubscription* sub = nullptr;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;

  static void OnMsg(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* self = static_cast<Follow*>(closure);
    jsMsgMetaData* meta = nullptr;
    int64_t seq = 0;
    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK && meta != nullptr) {
      seq = static_cast<int64_t>(meta->Sequence.Stream);
      jsMsgMetaData_Destroy(meta);
    }
    std::string payload(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
    natsMsg_Destroy(msg);
    self->on_message(seq, std::move(payload));
  }
  static void OnComplete(void* closure) {
    auto* self = static_cast<Follow*>(closure);
    std::lock_guard<std::mutex> lock(self->mu);
    self->done = true;
    self->cv.notify_all();
  }
  ~Follow() override {
    if (sub == nullptr) return;
    natsStatus s = natsSubscription_Unsubscribe(sub);
    if (s != NATS_OK && s != NATS_INVALID_SUBSCRIPTION && s != NATS_CONNECTION_CLOSED) {
      log::Warn("could not unsubscribe from the host's events",
                {{"error", events::NatsError(s, "unsubscribing").message()}});
    }
    natsSubscription_Destroy(sub);
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_for(lock, std::chrono::seconds(5), [&] { return done; })) {
      log::Warn("the host's event subscription did not end within 5 s");
    }
  }
};

}  // namespace

NatsLink::NatsLink(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<NatsLink>> NatsLink::Connect(uv_loop_t* loop,
                                                    const NatsLinkOptions& options) {
  static std::once_flag once;
  std::call_once(once, [] { natsLibuv_Init(); });
  if (loop != nullptr) natsLibuv_SetThreadLocalLoop(loop);
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s != NATS_OK) return events::NatsError(s, "creating NATS options");
  std::unique_ptr<natsOptions, void (*)(natsOptions*)> own(opts, natsOptions_Destroy);
  Status servers = events::SetNatsServers(opts, options.url);
  if (!servers.ok()) return servers.WithContext("setting NATS options");
  s = natsOptions_SetName(opts, options.name.c_str());
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 2000);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 250);
  auto impl = std::make_unique<Impl>();
  if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(opts, OnDisconnected, &impl->closing);
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(opts, OnReconnected, nullptr);
  if (s == NATS_OK && !options.user.empty()) {
    s = natsOptions_SetUserInfo(opts, options.user.c_str(), options.password.c_str());
  }
  if (s == NATS_OK && !options.inbox_prefix.empty()) {
    s = natsOptions_SetCustomInboxPrefix(opts, options.inbox_prefix.c_str());
  }
  if (s == NATS_OK && loop != nullptr) {
    s = natsOptions_SetEventLoop(opts, loop, natsLibuv_Attach, natsLibuv_Read, natsLibuv_Write,
                                 natsLibuv_Detach);
  }
  if (s != NATS_OK) return events::NatsError(s, "setting NATS options");
  s = natsConnection_Connect(&impl->nc, opts);
  if (s != NATS_OK) return events::NatsError(s, "connecting to NATS");
  jsOptions jo;
  s = jsOptions_Init(&jo);
  jo.Wait = 5000;
  if (s == NATS_OK) s = natsConnection_JetStream(&impl->js, impl->nc, &jo);
  if (s != NATS_OK) {
    natsConnection_Destroy(impl->nc);
    return events::NatsError(s, "opening JetStream");
  }
  return std::unique_ptr<NatsLink>(new NatsLink(std::move(impl)));
}

NatsLink::~NatsLink() {
  if (impl_->js != nullptr) jsCtx_Destroy(impl_->js);
  if (impl_->nc != nullptr) natsConnection_Destroy(impl_->nc);
}

void NatsLink::Close() {
  impl_->closing = true;
  if (impl_->nc != nullptr) natsConnection_Close(impl_->nc);
}

bool NatsLink::connected() const {
  return natsConnection_Status(impl_->nc) == NATS_CONN_STATUS_CONNECTED;
}

Status NatsLink::Publish(const std::string& subject, const std::string& payload) {
  natsStatus s = natsConnection_Publish(impl_->nc, subject.c_str(), payload.data(),
                                        static_cast<int>(payload.size()));
  return events::NatsError(s, "publishing to " + subject);
}

Status NatsLink::PublishRequest(const std::string& subject, const std::string& reply_to,
                                const std::string& payload) {
  natsStatus s = natsConnection_PublishRequest(impl_->nc, subject.c_str(), reply_to.c_str(),
                                               payload.data(), static_cast<int>(payload.size()));
  return events::NatsError(s, "publishing a request to " + subject);
}

Result<std::string> NatsLink::Request(const std::string& subject, const std::string& payload,
                                      std::chrono::milliseconds timeout) {
  natsMsg* reply = nullptr;
  natsStatus s = natsConnection_Request(&reply, impl_->nc, subject.c_str(), payload.data(),
                                        static_cast<int>(payload.size()),
                                        static_cast<int64_t>(timeout.count()));
  if (s != NATS_OK) {
    if (s == NATS_NO_RESPONDERS) {
      return Status::Unavailable("nobody answers " + subject +
                                 " (is strato serve running and leading?)");
    }
    return events::NatsError(s, "asking " + subject);
  }
  std::string out(natsMsg_GetData(reply), static_cast<size_t>(natsMsg_GetDataLength(reply)));
  natsMsg_Destroy(reply);
  return out;
}

Result<std::unique_ptr<NatsFollow>> NatsLink::Follow(const std::string& stream,
                                                     const std::string& filter,
                                                     int64_t after_sequence, OnMessage on_message) {
  auto f = std::make_unique<strato::events::Follow>();
  f->on_message = std::move(on_message);
  jsSubOptions so;
  natsStatus init = jsSubOptions_Init(&so);
  if (init != NATS_OK) return events::NatsError(init, "preparing to follow " + filter);
  so.Stream = stream.c_str();
  so.Ordered = true;
  so.Config.DeliverPolicy = js_DeliverByStartSequence;
  so.Config.OptStartSeq = static_cast<uint64_t>(after_sequence + 1);
  so.Config.Heartbeat = 2000LL * 1000000;
  // A named consumer makes nats.c ask $JS.API.CONSUMER.CREATE.<stream>.<name>.<filter>, which
  // NATS permissions can pin to the host's own filter (nats_permissions.h).
  std::string name = "hostd_" + std::to_string(getpid()) + "_" + std::to_string(++g_follows);
  so.Config.Name = name.c_str();
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_Subscribe(&f->sub, impl_->js, filter.c_str(), &strato::events::Follow::OnMsg,
                              f.get(), nullptr, &so, &jerr);
  if (s != NATS_OK) {
    f->sub = nullptr;
    return events::NatsError(s, "following " + filter + " after " + std::to_string(after_sequence),
                             jerr);
  }
  s = natsSubscription_SetOnCompleteCB(f->sub, &strato::events::Follow::OnComplete, f.get());
  // The ordered consumer's flow control bounds what the server sends: no library limits.
  if (s == NATS_OK) s = natsSubscription_SetPendingLimits(f->sub, -1, -1);
  if (s != NATS_OK) {
    Status failed = events::NatsError(s, "setting up the subscription to " + filter);
    (void)natsSubscription_Unsubscribe(f->sub);  // its status adds nothing to `failed`
    natsSubscription_Destroy(f->sub);
    // Without the completion callback no one knows when a delivery under way ends: leak.
    (void)f.release();
    return failed;
  }
  return std::unique_ptr<NatsFollow>(std::move(f));
}

}  // namespace strato::events
