// A minimal HTTP/1.1 client over a unix domain socket, enough to talk to Cloud Hypervisor's API
// server (micro_http): one request per connection, a strictly parsed status line, headers and a
// Content-Length body (no chunked encoding, no redirects, no TLS).
//
// Everything here is a plain function or value: UnixHttpRequest blocks the calling thread (up to
// its timeouts) and may be called from many threads at once, each call owning its own socket.
// HttpResponseParser is not thread-safe; use one per response.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace strato::hostd {

struct HttpResponse {
  int status = 0;
  std::string reason;  // may be empty: micro_http sends "HTTP/1.1 204 \r\n"
  std::vector<std::pair<std::string, std::string>> headers;  // in the order received
  std::string body;

  // The first header with this name (case-insensitive), or nullptr.
  const std::string* Header(std::string_view name) const;
};

// Parses one HTTP/1.1 response fed in pieces. A response without Content-Length has no body
// (micro_http omits the header when there is none, and keeps the connection open, so reading to
// EOF is not an option). Transfer-Encoding is refused.
class HttpResponseParser {
 public:
  enum class State { kIncomplete, kComplete, kError };

  // Appends bytes and returns the new state. After kComplete or kError, further data is an
  // error (one response per connection).
  State Feed(std::string_view data);
  State state() const { return state_; }
  // A sentence describing what was malformed (when state() == kError).
  const std::string& error() const { return error_; }
  const HttpResponse& response() const { return response_; }
  HttpResponse TakeResponse() { return std::move(response_); }

  // Limits that keep a broken peer from making us buffer without end.
  static constexpr size_t kMaxHeaderBytes = 64 * 1024;
  static constexpr size_t kMaxBodyBytes = 16 * 1024 * 1024;

 private:
  State Fail(std::string message);
  State ParseHead(std::string_view head);

  State state_ = State::kIncomplete;
  std::string buffer_;
  bool head_done_ = false;
  size_t body_length_ = 0;
  HttpResponse response_;
  std::string error_;
};

struct UnixHttpOptions {
  std::chrono::milliseconds connect_timeout{2000};
  // For the whole exchange after connecting: sending the request and receiving the response.
  std::chrono::milliseconds timeout{30000};
};

// Sends `method target` (e.g. "PUT", "/api/v1/vm.boot") with Host: localhost, Accept: */* and,
// when `body` is non-empty, Content-Type: application/json and Content-Length, then reads one
// response. Errors, each a sentence naming the socket:
//   kUnavailable       no socket at the path, nothing listening (refused), connect timed out,
//                      or the peer closed the connection before a whole response arrived;
//   kDeadlineExceeded  connected, but no whole response within options.timeout;
//   kInvalidArgument   the path does not fit in a unix socket address;
//   kInternal          the response is not well-formed HTTP/1.1, or another socket error.
Result<HttpResponse> UnixHttpRequest(const std::string& socket_path, std::string_view method,
                                     std::string_view target, std::string_view body,
                                     const UnixHttpOptions& options = {});

}  // namespace strato::hostd
