#include "http/server.h"

#include <httplib.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <thread>

#include "core/log.h"

namespace strato::http {

struct HttpServer::Impl {
  httplib::Server server;
  std::thread thread;
  std::vector<ReadinessCheck> checks;
};

HttpServer::HttpServer(HostPort addr, std::vector<ReadinessCheck> checks)
    : impl_(std::make_unique<Impl>()), addr_(std::move(addr)) {
  impl_->checks = std::move(checks);
}

HttpServer::~HttpServer() {
  Stop();
}

Status HttpServer::Start() {
  auto& srv = impl_->server;
  srv.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"status\":\"ok\"}", "application/json");
  });
  srv.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    bool ready = true;
    w.StartObject();
    w.Key("checks");
    w.StartObject();
    for (const auto& c : impl_->checks) {
      Status s = c.check();
      ready = ready && s.ok();
      w.Key(c.name.c_str());
      std::string text = s.ok() ? "ok" : s.message();
      w.String(text.c_str());
    }
    w.EndObject();
    w.Key("status");
    w.String(ready ? "ready" : "not ready");
    w.EndObject();
    res.status = ready ? 200 : 503;
    res.set_content(buf.GetString(), "application/json");
  });
  srv.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (res.status == 404) {
      res.set_content(
          "{\"error\":{\"code\":\"not_found\",\"message\":\"There is nothing at this "
          "address.\"}}",
          "application/json");
    }
  });
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
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  log::Info("http listening", {{"addr", addr_.host}, {"port", port_}});
  return Status::Ok();
}

void HttpServer::Stop() {
  if (!impl_) return;
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace strato::http
