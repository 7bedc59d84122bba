#include "http/server/metrics.h"

#include <sodium.h>

#include <cstdio>

namespace strato::http {

namespace {

// BLAKE2b-256 of `text`, so that two secrets of any length compare in constant time.
std::array<unsigned char, 32> Digest(std::string_view text) {
  std::array<unsigned char, 32> out{};
  crypto_generichash(out.data(), out.size(), reinterpret_cast<const unsigned char*>(text.data()),
                     text.size(), nullptr, 0);
  return out;
}

}  // namespace

Status MetricsScrapeAllowed(std::string_view authorization, const std::string& token,
                            Environment environment) {
  if (token.empty()) {
    if (environment == Environment::kDevelopment) return Status::Ok();
    return Status::PermissionDenied(
        "/metrics is not public in production; set STRATO_METRICS_TOKEN (32 characters or more) "
        "and have the scraper send it as Authorization: Bearer <token>");
  }
  constexpr std::string_view kBearer = "Bearer ";
  std::string_view presented;
  if (authorization.substr(0, kBearer.size()) == kBearer) {
    presented = authorization.substr(kBearer.size());
  }
  const auto want = Digest(token);
  const auto got = Digest(presented);
  if (presented.empty() || sodium_memcmp(want.data(), got.data(), want.size()) != 0) {
    return Status::Unauthenticated(
        "/metrics needs the metrics token (STRATO_METRICS_TOKEN) as Authorization: Bearer "
        "<token>");
  }
  return Status::Ok();
}

std::string PromLabel(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Metrics::ObserveRequest(const std::string& method, const std::string& route, int status,
                             std::chrono::nanoseconds elapsed) {
  double seconds = std::chrono::duration<double>(elapsed).count();
  std::lock_guard lock(mu_);
  ++requests_[{method, route, status}];
  Histogram& h = latency_[{method, route}];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::CountCommand(const std::string& command, const std::string& outcome) {
  std::lock_guard lock(mu_);
  ++commands_[{command, outcome}];
}

std::string Metrics::Render() const {
  std::lock_guard lock(mu_);
  std::string out;
  char num[64];
  out += "# HELP strato_http_requests_total HTTP requests by route pattern, method and status.\n";
  out += "# TYPE strato_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [method, route, status] = key;
    out += "strato_http_requests_total{method=\"" + PromLabel(method) + "\",route=\"" +
           PromLabel(route) + "\",status=\"" + std::to_string(status) + "\"} " + std::to_string(n) +
           "\n";
  }
  out += "# HELP strato_http_request_duration_seconds Time from routing to the response.\n";
  out += "# TYPE strato_http_request_duration_seconds histogram\n";
  for (const auto& [key, h] : latency_) {
    std::string labels =
        "method=\"" + PromLabel(key.first) + "\",route=\"" + PromLabel(key.second) + "\"";
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      std::snprintf(num, sizeof num, "%g", kBuckets[i]);
      out += "strato_http_request_duration_seconds_bucket{" + labels + ",le=\"" + num + "\"} " +
             std::to_string(h.buckets[i]) + "\n";
    }
    out += "strato_http_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} " +
           std::to_string(h.count) + "\n";
    std::snprintf(num, sizeof num, "%.6f", h.sum);
    out += "strato_http_request_duration_seconds_sum{" + labels + "} " + num + "\n";
    out += "strato_http_request_duration_seconds_count{" + labels + "} " + std::to_string(h.count) +
           "\n";
  }
  out +=
      "# HELP strato_commands_total Commands by their command-table name and outcome (ok, refused, "
      "failed).\n";
  out += "# TYPE strato_commands_total counter\n";
  for (const auto& [key, n] : commands_) {
    out += "strato_commands_total{command=\"" + PromLabel(key.first) + "\",outcome=\"" +
           PromLabel(key.second) + "\"} " + std::to_string(n) + "\n";
  }
  return out;
}

}  // namespace strato::http
