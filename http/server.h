// HttpServer: the HTTP listener of `strato serve` (cpp-httplib underneath, kept out of this
// header). It serves GET /healthz (the process is up) and GET /readyz (every readiness check
// passes: PostgreSQL reachable, migrations applied, NATS reachable). Start() binds and serves
// on its own threads; Stop() may be called from any thread, including a signal-watching one.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"

namespace strato::http {

struct ReadinessCheck {
  std::string name;               // "postgresql", "nats", ...
  std::function<Status()> check;  // called on each /readyz; must be quick and thread-safe
};

class HttpServer {
 public:
  HttpServer(HostPort addr, std::vector<ReadinessCheck> checks);
  ~HttpServer();

  // Binds the address (port 0 picks a free one) and starts serving in the background.
  Status Start();
  void Stop();
  int port() const { return port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  HostPort addr_;
  int port_ = 0;
};

}  // namespace strato::http
