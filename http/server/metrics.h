// Metrics: what `GET /metrics` exposes in Prometheus' text format. The request pipeline counts
// every request by route pattern, method and status with a latency histogram; gauges that
// describe the system (hosts by state, VMs by state, projection lag, the log's end) are read
// from the read models when scraped.
//
// Who may read it is MetricsScrapeAllowed below: a bearer token (STRATO_METRICS_TOKEN), or
// anyone in development only.
//
// Thread-safe: Observe is called from every server thread (one short mutex per request).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

#include "core/config.h"
#include "core/status.h"

namespace strato::http {

class Metrics {
 public:
  static constexpr std::array<double, 10> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,  0.1,    0.25,  0.5,  1.0};

  void ObserveRequest(const std::string& method, const std::string& route, int status,
                      std::chrono::nanoseconds elapsed);
  // Commands by their table name, from the domain command layer: "vm.start", "ok" | "refused" |
  // "failed".
  void CountCommand(const std::string& command, const std::string& outcome);

  // The text of the counters and histograms (without the scrape-time gauges).
  std::string Render() const;

 private:
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> buckets{};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
  std::map<std::pair<std::string, std::string>, Histogram> latency_;
  std::map<std::pair<std::string, std::string>, uint64_t> commands_;
};

// The access rule of GET /metrics, which the pipeline treats as public (a scraper has no
// session): with a token configured (STRATO_METRICS_TOKEN), only `Authorization: Bearer
// <token>` may read (compared in constant time), anything else is kUnauthenticated (401);
// without one, only a development server answers and production is kPermissionDenied (403),
// telling the operator to set the token. `authorization` is the request's header ("" if none).
Status MetricsScrapeAllowed(std::string_view authorization, const std::string& token,
                            Environment environment);

// Escapes a label value for the text format.
std::string PromLabel(const std::string& value);

}  // namespace strato::http
