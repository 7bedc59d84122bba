#include "http/server/server.h"

#include <httplib.h>

#include <atomic>
#include <thread>

#include "core/json_writer.h"
#include "core/log.h"

namespace strato::http {

struct HttpServer::Impl {
  httplib::Server server;
  std::atomic<bool> stopping{false};
  size_t threads = HttpServer::kDefaultThreads;
  std::thread thread;
  std::vector<ReadinessCheck> checks;
  std::vector<std::pair<std::string, std::function<std::string()>>> ready_details;
  Pipeline* pipeline = nullptr;
  size_t max_body_bytes = 1 << 20;
  TrustedProxies trusted_proxies;
};

namespace {

// The client's address: the peer's, unless the peer is a trusted proxy, whose X-Forwarded-For
// then says it (TrustedProxies::ClientAddress). Every X-Forwarded-For line counts, in the order
// received (a proxy may append its own line rather than extend the client's).
std::string ClientAddressOf(const httplib::Request& in, const TrustedProxies& proxies) {
  if (proxies.empty()) return in.remote_addr;
  std::string forwarded_for;
  auto [from, to] = in.headers.equal_range("X-Forwarded-For");
  for (auto it = from; it != to; ++it) {
    if (!forwarded_for.empty()) forwarded_for += ',';
    forwarded_for += it->second;
  }
  return proxies.ClientAddress(in.remote_addr, forwarded_for);
}

Request FromHttplib(const httplib::Request& in, const TrustedProxies& proxies) {
  Request r;
  r.method = in.method;
  r.path = in.path;
  for (const auto& [k, v] : in.headers) r.headers.emplace(k, v);
  for (const auto& [k, v] : in.params) r.query.emplace(k, v);
  r.body = in.body;
  r.client_address = ClientAddressOf(in, proxies);
  return r;
}

// A StreamSink over cpp-httplib's chunked DataSink.
class ChunkSink final : public StreamSink {
 public:
  ChunkSink(httplib::DataSink& sink, const std::atomic<bool>& stopping)
      : sink_(sink), stopping_(stopping) {}
  bool Write(std::string_view bytes) override {
    if (stopping_.load() || failed_) return false;
    failed_ = !sink_.write(bytes.data(), bytes.size());
    return !failed_;
  }
  bool Open() const override { return !stopping_.load() && !failed_; }

 private:
  httplib::DataSink& sink_;
  const std::atomic<bool>& stopping_;
  bool failed_ = false;
};

void ToHttplib(const Response& in, httplib::Response& out, const std::atomic<bool>& stopping) {
  out.status = in.status;
  for (const auto& [k, v] : in.headers) out.headers.emplace(k, v);
  // Pages and API answers alike: no sniffing, no framing, no referrer leaks.
  out.set_header("X-Content-Type-Options", "nosniff");
  out.set_header("X-Frame-Options", "DENY");
  out.set_header("Referrer-Policy", "same-origin");
  if (in.content_type.rfind("text/html", 0) == 0) {
    out.set_header("Content-Security-Policy",
                   "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                   "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    out.set_header("Cache-Control", "no-store");
  }
  if (in.stream) {
    out.set_chunked_content_provider(
        in.content_type, [stream = in.stream, &stopping](size_t, httplib::DataSink& sink) {
          ChunkSink chunks(sink, stopping);
          stream(chunks);
          if (chunks.Open()) sink.done();
          return chunks.Open();
        });
    return;
  }
  if (!in.content_type.empty()) out.set_content(in.body, in.content_type);
}

}  // namespace

void HttpServer::SetWorkerThreads(size_t threads) {
  impl_->threads = threads < 4 ? 4 : threads;
}

void HttpServer::SetTrustedProxies(TrustedProxies proxies) {
  impl_->trusted_proxies = std::move(proxies);
}

void HttpServer::AddReadyDetail(std::string name, std::function<std::string()> json) {
  impl_->ready_details.emplace_back(std::move(name), std::move(json));
}

void HttpServer::SetPipeline(Pipeline* pipeline, size_t max_body_bytes) {
  impl_->pipeline = pipeline;
  impl_->max_body_bytes = max_body_bytes;
}

HttpServer::HttpServer(HostPort addr, std::vector<ReadinessCheck> checks)
    : impl_(std::make_unique<Impl>()), addr_(std::move(addr)) {
  impl_->checks = std::move(checks);
}

HttpServer::~HttpServer() {
  Stop();
}

Status HttpServer::Bind() {
  auto& srv = impl_->server;
  // Answers go out at once rather than waiting on Nagle's algorithm for the client's ACK (which
  // held each keep-alive answer back by the peer's delayed-ACK time, ~40 ms). Set before
  // binding: cpp-httplib applies it to the listening socket, whose connections inherit it.
  srv.set_tcp_nodelay(true);
  if (addr_.port == 0) {
    int p = srv.bind_to_any_port(addr_.host);
    if (p < 0) return Status::Unavailable("cannot listen on " + addr_.host + ": no free port");
    port_ = p;
  } else {
    if (!srv.bind_to_port(addr_.host, addr_.port)) {
      return Status::Unavailable("cannot listen on " + addr_.host + ":" +
                                 std::to_string(addr_.port) +
                                 " (is another process using it? set STRATO_HTTP_ADDR)");
    }
    port_ = addr_.port;
  }
  bound_ = true;
  return Status::Ok();
}

Status HttpServer::Start() {
  auto& srv = impl_->server;
  srv.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"status\":\"ok\"}", "application/json");
  });
  srv.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    JsonWriter w;
    bool ready = true;
    w.BeginObject().Key("checks").BeginObject();
    for (const auto& c : impl_->checks) {
      Status s = c.check();
      ready = ready && s.ok();
      w.Str(c.name, s.ok() ? "ok" : s.message());
    }
    w.EndObject();
    for (const auto& [name, json] : impl_->ready_details) w.Raw(name, json());
    w.Str("status", ready ? "ready" : "not ready").EndObject();
    res.status = ready ? 200 : 503;
    res.set_content(w.Text(), "application/json");
  });
  // cpp-httplib serves each connection on a pool thread for as long as it stays open (a
  // keep-alive connection between requests, a live-update stream for its whole life), so the
  // pool is sized for those rather than for the cores.
  srv.new_task_queue = [n = impl_->threads] { return new httplib::ThreadPool(n); };
  if (impl_->pipeline != nullptr) {
    srv.set_payload_max_length(impl_->max_body_bytes);
    auto handle = [this](const httplib::Request& req, httplib::Response& res) {
      Request r = FromHttplib(req, impl_->trusted_proxies);
      ToHttplib(impl_->pipeline->Handle(r), res, impl_->stopping);
    };
    srv.Get(".*", handle);
    srv.Post(".*", handle);
    srv.Put(".*", handle);
    srv.Patch(".*", handle);
    srv.Delete(".*", handle);
  }
  srv.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;  // the pipeline already answered with a sentence
    if (res.status == 400) {
      // cpp-httplib refuses malformed requests itself (e.g. a POST without Content-Length).
      res.set_content(JsonError(400, "invalid_argument",
                                "the request is malformed; a request with a body needs a "
                                "Content-Length")
                          .body,
                      "application/json");
    }
    if (res.status == 413) {
      res.set_content(JsonError(413, "invalid_argument", "the request body is too large").body,
                      "application/json");
    }
    if (res.status == 404) {
      res.set_content(JsonError(404, "not_found", "There is nothing at this address.").body,
                      "application/json");
    }
  });
  if (!bound_) STRATO_RETURN_IF_ERROR(Bind());
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  log::Info("http listening", {{"addr", addr_.host}, {"port", port_}});
  return Status::Ok();
}

void HttpServer::Stop() {
  if (!impl_) return;
  impl_->stopping = true;  // streams (server-sent events) end within a second
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace strato::http
