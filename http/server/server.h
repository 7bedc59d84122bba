// HttpServer: the HTTP listener of `strato serve` (cpp-httplib underneath, kept out of this
// header). It serves GET /healthz (the process is up) and GET /readyz (every readiness check
// passes: PostgreSQL reachable, migrations applied, NATS reachable) itself, and hands every
// other request to the request pipeline (http/server/pipeline.h) when one is set, with the client's
// address taken from X-Forwarded-For only when the peer is a configured trusted proxy. Start()
// binds and serves on its own threads; Stop() may be called from any thread, including a
// signal-watching one. The pipeline is borrowed and must outlive the server.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"
#include "http/server/pipeline.h"

namespace strato::http {

struct ReadinessCheck {
  std::string name;               // "postgresql", "nats", ...
  std::function<Status()> check;  // called on each /readyz; must be quick and thread-safe
};

class HttpServer {
 public:
  HttpServer(HostPort addr, std::vector<ReadinessCheck> checks);
  ~HttpServer();

  // A named JSON object /readyz shows beside its checks (e.g. "leader"); `json` returns an
  // object's text and must be quick and thread-safe. Before Start.
  void AddReadyDetail(std::string name, std::function<std::string()> json);

  // Requests other than /healthz and /readyz go here (before Start). Bodies over
  // `max_body_bytes` are refused with 413 before they reach it.
  void SetPipeline(Pipeline* pipeline, size_t max_body_bytes = 1 << 20);

  // Connections are served on a pool of this many threads; each open connection (a keep-alive
  // one between requests, a live-update stream) holds one. Before Start.
  static constexpr size_t kDefaultThreads = 192;
  void SetWorkerThreads(size_t threads);

  // The reverse proxies whose X-Forwarded-For names the client (STRATO_TRUSTED_PROXIES; none by
  // default). Each request's client_address (the rate limiter's key, a session's recorded
  // address, log lines) is TrustedProxies::ClientAddress of the peer and that header. Before
  // Start.
  void SetTrustedProxies(TrustedProxies proxies);

  // Binds the address (port 0 picks a free one); port() is known afterwards.
  Status Bind();
  // Binds (unless Bind was called) and starts serving in the background.
  Status Start();
  void Stop();
  int port() const { return port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  HostPort addr_;
  int port_ = 0;
  bool bound_ = false;
};

}  // namespace strato::http
