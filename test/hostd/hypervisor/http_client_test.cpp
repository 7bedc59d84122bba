#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>

#include "hostd/hypervisor/unix_http_client.h"
#include "test/hostd/hypervisor/sim_process.h"

using namespace strato;
using namespace strato::hostd;
using strato::hypervisor_test::ScratchDir;
using State = HttpResponseParser::State;

namespace {

// A listening unix socket that the test controls (no VMM behind it).
int Listen(const std::string& path, bool do_listen = true) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  if (do_listen) REQUIRE(::listen(fd, 4) == 0);
  return fd;
}

// Accepts one connection, reads the request head, answers `reply` and closes.
std::thread AnswerOnce(int listen_fd, std::string reply, std::string* request = nullptr) {
  return std::thread([listen_fd, reply = std::move(reply), request] {
    int c = ::accept(listen_fd, nullptr, nullptr);
    if (c < 0) return;
    std::string got;
    char buf[4096];
    while (got.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    if (request != nullptr) *request = got;
    ssize_t ignored = ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
    (void)ignored;
    ::close(c);
  });
}

}  // namespace

TEST_CASE("the response parser reads micro_http's status line without a reason phrase") {
  HttpResponseParser p;
  CHECK(p.Feed("HTTP/1.1 204 \r\nServer: Cloud Hypervisor API\r\n") == State::kIncomplete);
  CHECK(p.Feed("Connection: keep-alive\r\n\r\n") == State::kComplete);
  CHECK(p.response().status == 204);
  CHECK(p.response().reason.empty());
  REQUIRE(p.response().Header("server") != nullptr);
  CHECK(*p.response().Header("SERVER") == "Cloud Hypervisor API");
  CHECK(p.response().body.empty());
}

TEST_CASE("the response parser waits for Content-Length bytes of body fed in pieces") {
  HttpResponseParser p;
  CHECK(p.Feed("HTTP/1.1 500 Internal\r\nContent-Length: 13\r\n\r\n[\"Err") == State::kIncomplete);
  CHECK(p.Feed("or\",\"x\"") == State::kIncomplete);
  CHECK(p.Feed("]") == State::kComplete);
  CHECK(p.response().status == 500);
  CHECK(p.response().reason == "Internal");
  CHECK(p.response().body == "[\"Error\",\"x\"]");
}

TEST_CASE("the response parser rejects malformed responses with a sentence") {
  struct Case {
    const char* bytes;
    const char* says;
  };
  const Case cases[] = {
      {"SSH-2.0-OpenSSH\r\n\r\n", "does not start with an HTTP status line"},
      {"HTTP/2 200\r\n\r\n", "unsupported HTTP version"},
      {"HTTP/1.1 2x0 OK\r\n\r\n", "three-digit status code"},
      {"HTTP/1.1 200OK\r\n\r\n", "three-digit status code"},
      {"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", "Content-Length is not a number"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
       "two different Content-Length"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "Transfer-Encoding"},
      {"HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n", "without a name and a colon"},
      {"HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n", "folding"},
      {"HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", "without CR"},
      {"HTTP/1.1 204 \r\nContent-Length: 3\r\n\r\nabc", "announces a body"},
      {"HTTP/1.1 100 Continue\r\n\r\n", "interim"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab", "more bytes than its Content-Length"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.bytes);
    HttpResponseParser p;
    CHECK(p.Feed(c.bytes) == State::kError);
    CHECK(p.error().find(c.says) != std::string::npos);
    CHECK(p.error().back() == '.');
  }
}

TEST_CASE("the response parser refuses a header section without end") {
  HttpResponseParser p;
  std::string junk = "HTTP/1.1 200 OK\r\n";
  State s = p.Feed(junk);
  std::string line = "X-Filler: " + std::string(1000, 'a') + "\r\n";
  for (int i = 0; i < 100 && s == State::kIncomplete; ++i) s = p.Feed(line);
  CHECK(s == State::kError);
  CHECK(p.error().find("larger than 64 KiB") != std::string::npos);
}

TEST_CASE("a request to a socket path that does not exist is unavailable") {
  ScratchDir dir;
  auto r = UnixHttpRequest(dir.File("missing.sock"), "GET", "/api/v1/vmm.ping", "");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kUnavailable);
  CHECK(r.status().message().find("There is no API socket at " + dir.File("missing.sock")) !=
        std::string::npos);
}

TEST_CASE("a request to a socket nobody listens on is refused and unavailable") {
  ScratchDir dir;
  std::string path = dir.File("stale.sock");
  int fd = Listen(path, /*do_listen=*/false);  // bound, never listening: a stale socket
  auto r = UnixHttpRequest(path, "GET", "/api/v1/vmm.ping", "");
  ::close(fd);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kUnavailable);
  CHECK(r.status().message().find("connection refused") != std::string::npos);
}

TEST_CASE("a request that gets no answer times out with DeadlineExceeded") {
  ScratchDir dir;
  std::string path = dir.File("silent.sock");
  int fd = Listen(path);  // the backlog takes the connection; nobody ever answers
  UnixHttpOptions options;
  options.timeout = std::chrono::milliseconds(150);
  auto started = std::chrono::steady_clock::now();
  auto r = UnixHttpRequest(path, "PUT", "/api/v1/vm.boot", "", options);
  auto took = std::chrono::steady_clock::now() - started;
  ::close(fd);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kDeadlineExceeded);
  CHECK(r.status().message().find("did not answer PUT /api/v1/vm.boot within 150 ms") !=
        std::string::npos);
  CHECK(took >= std::chrono::milliseconds(140));
  CHECK(took < std::chrono::seconds(5));
}

TEST_CASE("a malformed response is an internal error naming what was wrong") {
  ScratchDir dir;
  std::string path = dir.File("bad.sock");
  int fd = Listen(path);
  std::thread server = AnswerOnce(fd, "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n");
  auto r = UnixHttpRequest(path, "GET", "/api/v1/vm.info", "");
  server.join();
  ::close(fd);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kInternal);
  CHECK(r.status().message().find("malformed response to GET /api/v1/vm.info") !=
        std::string::npos);
  CHECK(r.status().message().find("Content-Length is not a number") != std::string::npos);
}

TEST_CASE("a connection closed before the whole body arrived is unavailable") {
  ScratchDir dir;
  std::string path = dir.File("short.sock");
  int fd = Listen(path);
  std::thread server = AnswerOnce(fd, "HTTP/1.1 200 \r\nContent-Length: 10\r\n\r\nabc");
  auto r = UnixHttpRequest(path, "GET", "/api/v1/vm.info", "");
  server.join();
  ::close(fd);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kUnavailable);
  CHECK(r.status().message().find("closed the connection before a whole response") !=
        std::string::npos);
}

TEST_CASE(
    "the request carries Host Accept Content-Type and Content-Length as the official client "
    "does") {
  ScratchDir dir;
  std::string path = dir.File("echo.sock");
  int fd = Listen(path);
  std::string request;
  std::thread server = AnswerOnce(fd, "HTTP/1.1 204 \r\nServer: x\r\n\r\n", &request);
  auto r = UnixHttpRequest(path, "PUT", "/api/v1/vm.create", "{\"a\":1}");
  server.join();
  ::close(fd);
  REQUIRE(r.ok());
  CHECK(r->status == 204);
  CHECK(request.rfind("PUT /api/v1/vm.create HTTP/1.1\r\n", 0) == 0);
  CHECK(request.find("\r\nHost: localhost\r\n") != std::string::npos);
  CHECK(request.find("\r\nAccept: */*\r\n") != std::string::npos);
  CHECK(request.find("\r\nContent-Type: application/json\r\n") != std::string::npos);
  CHECK(request.find("\r\nContent-Length: 7\r\n") != std::string::npos);
}

TEST_CASE("a socket path too long for sockaddr_un is an invalid argument") {
  auto r = UnixHttpRequest("/tmp/" + std::string(200, 'x'), "GET", "/api/v1/vmm.ping", "");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kInvalidArgument);
  CHECK(r.status().message().find("limit for a unix socket address") != std::string::npos);
}
