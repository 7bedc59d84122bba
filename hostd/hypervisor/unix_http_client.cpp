#include "hostd/hypervisor/unix_http_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>

#include "core/parse.h"
#include "hostd/hypervisor/unix_socket.h"

namespace strato::hostd {
namespace {

using Clock = SocketClock;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool IsTokenChar(char c) {
  if (c >= 'a' && c <= 'z') return true;
  if (c >= 'A' && c <= 'Z') return true;
  if (c >= '0' && c <= '9') return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

const std::string* HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return &value;
  }
  return nullptr;
}

HttpResponseParser::State HttpResponseParser::Fail(std::string message) {
  state_ = State::kError;
  error_ = std::move(message);
  return state_;
}

HttpResponseParser::State HttpResponseParser::ParseHead(std::string_view head) {
  // head holds the status line and the header lines, each ending with CRLF, without the blank
  // line that ends them.
  size_t line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  if (status_line.substr(0, 5) != "HTTP/") {
    return Fail("The response does not start with an HTTP status line.");
  }
  if (status_line.substr(0, 9) != "HTTP/1.1 " && status_line.substr(0, 9) != "HTTP/1.0 ") {
    return Fail("The response has an unsupported HTTP version (" +
                std::string(status_line.substr(0, status_line.find(' '))) + ").");
  }
  std::string_view rest = status_line.substr(9);
  if (rest.size() < 3 || !std::isdigit(static_cast<unsigned char>(rest[0])) ||
      !std::isdigit(static_cast<unsigned char>(rest[1])) ||
      !std::isdigit(static_cast<unsigned char>(rest[2])) || (rest.size() > 3 && rest[3] != ' ')) {
    return Fail("The response's status line has no three-digit status code.");
  }
  response_.status = (rest[0] - '0') * 100 + (rest[1] - '0') * 10 + (rest[2] - '0');
  if (response_.status < 100) return Fail("The response's status code is out of range.");
  if (response_.status < 200) {
    return Fail("The response is an interim 1xx response, which this client does not expect.");
  }
  response_.reason = rest.size() > 4 ? std::string(rest.substr(4)) : std::string();

  bool have_length = false;
  size_t length = 0;
  std::string_view lines = line_end == std::string_view::npos ? "" : head.substr(line_end + 2);
  while (!lines.empty()) {
    size_t end = lines.find("\r\n");
    std::string_view line = lines.substr(0, end);
    lines = end == std::string_view::npos ? std::string_view() : lines.substr(end + 2);
    if (line.empty()) return Fail("The response has an empty header line.");
    if (line.front() == ' ' || line.front() == '\t') {
      return Fail("The response uses obsolete header line folding.");
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Fail("The response has a header line without a name and a colon.");
    }
    std::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (!IsTokenChar(c)) return Fail("The response has a header name with invalid characters.");
    }
    std::string_view value = TrimSpaces(line.substr(colon + 1));
    for (char c : value) {
      if (c == '\r' || c == '\n' || c == '\0') {
        return Fail("The response has a header value with control characters.");
      }
    }
    if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
      return Fail("The response uses Transfer-Encoding, which this client does not support.");
    }
    if (EqualsIgnoreCase(name, "Content-Length")) {
      // Digits only (no sign), at most 12 of them.
      std::optional<int64_t> parsed;
      if (value.size() <= 12 && value.substr(0, 1) != "-") parsed = ParseInt(value, 0);
      if (!parsed) return Fail("The response's Content-Length is not a number.");
      const auto n = static_cast<size_t>(*parsed);
      if (have_length && n != length) {
        return Fail("The response has two different Content-Length headers.");
      }
      have_length = true;
      length = n;
    }
    response_.headers.emplace_back(std::string(name), std::string(value));
  }
  if (length > kMaxBodyBytes) return Fail("The response's body is larger than 16 MiB.");
  if ((response_.status == 204 || response_.status == 304) && length != 0) {
    return Fail("The response has status " + std::to_string(response_.status) +
                " but announces a body.");
  }
  body_length_ = length;
  head_done_ = true;
  return State::kIncomplete;
}

HttpResponseParser::State HttpResponseParser::Feed(std::string_view data) {
  if (state_ == State::kError) return state_;
  if (state_ == State::kComplete) {
    if (data.empty()) return state_;
    return Fail("The server sent more bytes than its Content-Length announced.");
  }
  buffer_.append(data);
  if (!head_done_) {
    size_t end = buffer_.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (buffer_.size() > kMaxHeaderBytes) {
        return Fail("The response's header section is larger than 64 KiB.");
      }
      if (buffer_.size() >= 5 && buffer_.compare(0, 5, "HTTP/") != 0) {
        return Fail("The response does not start with an HTTP status line.");
      }
      return state_;
    }
    if (end > kMaxHeaderBytes) return Fail("The response's header section is larger than 64 KiB.");
    std::string head = buffer_.substr(0, end + 2);
    buffer_.erase(0, end + 4);
    // A bare LF inside the head means the peer does not speak strict HTTP/1.1.
    for (size_t i = 0; i < head.size(); ++i) {
      if (head[i] == '\n' && (i == 0 || head[i - 1] != '\r')) {
        return Fail("The response's header section has a line ending without CR.");
      }
    }
    head.resize(head.size() - 2);  // drop the last line's CRLF; lines stay CRLF-separated
    if (ParseHead(head) == State::kError) return state_;
  }
  if (buffer_.size() > body_length_) {
    return Fail("The server sent more bytes than its Content-Length announced.");
  }
  if (buffer_.size() == body_length_) {
    response_.body = std::move(buffer_);
    buffer_.clear();
    state_ = State::kComplete;
  }
  return state_;
}

Result<HttpResponse> UnixHttpRequest(const std::string& socket_path, std::string_view method,
                                     std::string_view target, std::string_view body,
                                     const UnixHttpOptions& options) {
  if (socket_path.empty()) return Status::InvalidArgument("The API socket path is empty.");
  if (socket_path.size() >= sizeof(sockaddr_un::sun_path)) {
    return Status::InvalidArgument("The API socket path " + socket_path + " is longer than " +
                                   std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
                                   " bytes, the limit for a unix socket address.");
  }
  auto connected = ConnectUnix(socket_path, "API socket", Clock::now() + options.connect_timeout);
  if (!connected.ok()) return connected.status();
  UniqueFd fd = std::move(*connected);

  std::string request;
  request.reserve(128 + body.size());
  request.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  request.append("Host: localhost\r\nAccept: */*\r\n");
  if (!body.empty()) {
    request.append("Content-Type: application/json\r\n");
    request.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  request.append("\r\n").append(body);

  const Clock::time_point deadline = Clock::now() + options.timeout;
  auto timed_out = [&] {
    return Status::DeadlineExceeded("The VMM on " + socket_path + " did not answer " +
                                    std::string(method) + " " + std::string(target) + " within " +
                                    std::to_string(options.timeout.count()) + " ms.");
  };
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!WaitFor(fd.get(), POLLOUT, deadline)) return timed_out();
      continue;
    }
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
      return Status::Unavailable("The VMM on " + socket_path +
                                 " closed the connection while the request was being sent.");
    }
    return Status::Internal("Sending the request to " + socket_path +
                            " failed: " + std::strerror(errno) + ".");
  }

  HttpResponseParser parser;
  char buf[8192];
  for (;;) {
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n > 0) {
      auto state = parser.Feed(std::string_view(buf, static_cast<size_t>(n)));
      if (state == HttpResponseParser::State::kError) {
        return Status::Internal("The VMM on " + socket_path + " sent a malformed response to " +
                                std::string(method) + " " + std::string(target) + ": " +
                                parser.error());
      }
      if (state == HttpResponseParser::State::kComplete) return parser.TakeResponse();
      continue;
    }
    if (n == 0 || (n < 0 && errno == ECONNRESET)) {
      return Status::Unavailable("The VMM on " + socket_path +
                                 " closed the connection before a whole response to " +
                                 std::string(method) + " " + std::string(target) + " arrived.");
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!WaitFor(fd.get(), POLLIN, deadline)) return timed_out();
      continue;
    }
    return Status::Internal("Reading the response from " + socket_path +
                            " failed: " + std::strerror(errno) + ".");
  }
}

}  // namespace strato::hostd
