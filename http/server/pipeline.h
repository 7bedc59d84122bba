// The request pipeline every route goes through before its handler runs, in this order:
// match the route (404 / 405), rate-limit ceremony starts per client address (429), refuse
// state changes a browser says come from another site (Sec-Fetch-Site, Origin: 403), refuse
// ceremony and JSON API bodies that are not application/json (415), find who is asking
// (session cookie or bearer token), refuse a bearer token on a route that takes a browser
// session only (403), refuse state changes made with a session cookie that lack the session's
// CSRF token (403), then enforce the route's declared access: not signed in → 401 (API) or a
// redirect to the sign-in page (pages); no permission → 403 with a sentence. Only then does
// the handler run.
//
// Thread-safe: Handle is called from the server's worker threads at once. The router,
// authenticator, authorizer and limiter are borrowed and must outlive the pipeline.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "http/server/metrics.h"
#include "http/server/request.h"
#include "http/server/router.h"

namespace strato::http {

inline constexpr const char* kSessionCookie = "strato_session";
inline constexpr const char* kCsrfHeader = "X-CSRF-Token";
inline constexpr const char* kCsrfField = "csrf_token";

// Finds the principal of a request from its credentials (cookie or Authorization header).
// nullopt: none presented, or not valid (expired, ended, unknown) — both mean "not signed in".
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual Result<std::optional<Principal>> Authenticate(const Request& request) = 0;
};

// May the principal do `permission` on entity `type`:`id`? Thread-safe.
class Authorizer {
 public:
  virtual ~Authorizer() = default;
  virtual Result<bool> Check(const Principal& who, std::string_view type, std::string_view id,
                             std::string_view permission) = 0;
};

// A token bucket per client address: `burst` requests at once, refilled at `per_minute`.
class RateLimiter {
 public:
  RateLimiter(int burst, int per_minute, const Clock& clock = SystemClock::Instance());
  bool Allow(const std::string& client);

 private:
  struct Bucket {
    double tokens;
    TimePoint updated;
  };
  const int burst_;
  const double per_second_;
  const Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

class Pipeline {
 public:
  Pipeline(const Router& router, Authenticator& authenticator, Authorizer& authorizer,
           RateLimiter& limiter);
  Response Handle(Request& request);
  // Counts every request (and every state change under /api/ as a command) when set.
  void SetMetrics(Metrics* metrics) { metrics_ = metrics; }
  // The origins the pages are served from (the relying party's). A state change whose Origin
  // header names another is refused. Empty (the default): only Sec-Fetch-Site is checked.
  void SetAllowedOrigins(std::vector<std::string> origins) { origins_ = std::move(origins); }

 private:
  Response Dispatch(Request& request, const Route*& matched);
  Response Refuse(const Request& request, const Status& why) const;
  Metrics* metrics_ = nullptr;
  std::vector<std::string> origins_;

  const Router& router_;
  Authenticator& authenticator_;
  Authorizer& authorizer_;
  RateLimiter& limiter_;
};

// Whether a state change may proceed given what the browser says of where it comes from: a
// refusal sentence, or Ok. `Sec-Fetch-Site` other than same-origin or none is refused; else an
// `Origin` that is "null" or not one of `origins` (when any are given) is refused. A request
// with neither header is not from a browser that could be tricked into sending it (every
// current browser sends one of them on a cross-site POST) and goes on to the other checks.
Status CheckSameOrigin(const Request& request, const std::vector<std::string>& origins);

// Whether the route reads a JSON body that must be declared as such: the sign-in ceremonies
// (always) and any /api/ state change that carries a body. A form cannot post
// application/json across sites without a CORS preflight, which Strato never grants.
bool NeedsJsonContentType(const Request& request, const Route& route);

// A page in the house style for a refusal or error: the sentence, and what to do next.
std::string ErrorPageHtml(int status, std::string_view title, std::string_view sentence);

}  // namespace strato::http
