// Request and Response: what a route handler sees and returns, apart from the HTTP library
// (http/server/server.cpp converts cpp-httplib's types), so handlers and the request pipeline can
// be tested without sockets. Plain values; a Request is handled on one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace strato::http {

// Who is asking: set by the pipeline after it authenticated the request.
struct Principal {
  std::string user_id;  // bare uuid
  std::string username;
  std::string session_id;  // the session (cookie) or token id
  std::string csrf_token;  // empty for bearer tokens (no cookie, no CSRF)
  bool via_cookie = false;
  // The live-update hub's position when this request began (set for route handlers): what a
  // page renders from the read models includes at least every event up to it, so its
  // live-update stream starts there and misses nothing (http/live/live_routes.h).
  int64_t live_after = 0;
};

struct CaseInsensitiveLess {
  bool operator()(std::string_view a, std::string_view b) const;
};

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string
  std::multimap<std::string, std::string, CaseInsensitiveLess> headers;
  std::multimap<std::string, std::string> query;
  std::map<std::string, std::string> params;  // path parameters ("{id}") by name
  std::string body;
  std::string client_address;
  std::optional<Principal> principal;  // set by the pipeline; empty: not signed in

  std::string Header(std::string_view name) const;  // "" when absent
  std::string Query(std::string_view name) const;   // "" when absent
  std::string Param(std::string_view name) const;   // "" when absent
  std::string Cookie(std::string_view name) const;  // "" when absent
  // A field of an application/x-www-form-urlencoded body ("" when absent or another type).
  std::string FormField(std::string_view name) const;
  bool ChangesState() const;  // POST, PUT, PATCH, DELETE
  bool WantsHtml() const;     // a page request (HTML navigation or htmx), not the JSON API
};

// Where a streamed body goes (server-sent events): written on the server thread that serves the
// request, for as long as the handler's stream function runs.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  // Sends `bytes` now; false once the client has gone or the server is stopping.
  virtual bool Write(std::string_view bytes) = 0;
  // False once the server is stopping: a stream function checks it at least once a second.
  virtual bool Open() const = 0;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // Set-Cookie may repeat
  // When set, the body is this function's output, sent chunked while it runs (`body` is
  // ignored); it holds a server thread until it returns.
  std::function<void(StreamSink&)> stream;

  static Response Json(int status, std::string body);
  static Response Html(int status, std::string body);
  static Response Redirect(std::string location, int status = 303);
  static Response NoContent();
  Response& With(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

// The HTTP status for a Status code: kInvalidArgument 400, kUnauthenticated 401,
// kPermissionDenied 403, kNotFound 404, kAlreadyExists and kConflict and kFailedPrecondition 409,
// kUnavailable 503, kDeadlineExceeded 504, anything else 500.
int HttpStatusFor(Code code);
// The JSON API's error shape: {"error":{"code":"not_found","message":"...","details":{...}}}.
// `details_json` must be a JSON object text (or empty).
Response JsonError(int http_status, std::string_view code, std::string_view message,
                   std::string_view details_json = "");
Response JsonError(const Status& status);
// Decodes %XX and '+' of a URL-encoded component; nullopt when malformed.
std::optional<std::string> UrlDecode(std::string_view s);
std::string UrlEncode(std::string_view s);
// Escapes text for HTML element content and attribute values.
std::string HtmlEscape(std::string_view s);

}  // namespace strato::http
