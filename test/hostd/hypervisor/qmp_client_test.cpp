// QmpClient against a real QEMU (paused before boot: no guest runs, no CPU is spent) and
// against scripted fake peers for what QEMU does not do on demand (never greeting, greeting
// wrongly, an event between a command and its answer).
#include "hostd/hypervisor/qmp_client.h"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <thread>

#include "test/hostd/hypervisor/sim_process.h"

namespace strato::hostd {
namespace {

using hypervisor_test::ScratchDir;
using hypervisor_test::SimProcess;
using namespace std::chrono_literals;

// A listening unix socket at `path` whose one connection is served by `script` on a thread.
class FakePeer {
 public:
  FakePeer(const std::string& path, std::function<void(int)> script) {
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listen_fd_, 1) == 0);
    thread_ = std::thread([this, script] {
      int c = ::accept(listen_fd_, nullptr, nullptr);
      if (c >= 0) {
        script(c);
        ::close(c);
      }
    });
  }
  ~FakePeer() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    ::close(listen_fd_);
  }

 private:
  int listen_fd_ = -1;
  std::thread thread_;
};

void Say(int fd, const std::string& line) {
  std::string l = line + "\r\n";
  REQUIRE(::send(fd, l.data(), l.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(l.size()));
}

// Reads one line the client sent (its command).
std::string Hear(int fd) {
  std::string line;
  char ch = 0;
  while (::recv(fd, &ch, 1, 0) == 1 && ch != '\n') line += ch;
  return line;
}

constexpr const char* kGreeting =
    R"({"QMP": {"version": {"qemu": {"micro": 3, "minor": 2, "major": 7}, "package": ""}, )"
    R"("capabilities": ["oob"]}})";

TEST_CASE("QmpClient talks to a real QEMU paused before boot") {
  ScratchDir dir;
  const std::string sock = dir.File("qmp.sock");
  auto qemu = SimProcess::Spawn(
      {"/usr/bin/qemu-system-x86_64", "-S", "-nodefaults", "-display", "none", "-machine", "pc",
       "-accel", "tcg", "-m", "64", "-qmp", "unix:" + sock + ",server=on,wait=off"},
      dir.File("qemu.log"));
  REQUIRE_MESSAGE(qemu.ok(), qemu.status().ToString());
  Result<QmpClient> client = Status::Unavailable("not yet");
  for (int i = 0; i < 100 && !client.ok(); ++i) {
    client = QmpClient::Connect(sock, 2s);
    if (!client.ok()) std::this_thread::sleep_for(50ms);
  }
  REQUIRE_MESSAGE(client.ok(), (client.status().ToString() + "\n" + (*qemu)->Log()));
  CHECK(client->version().major >= 7);

  auto status = client->Execute("query-status");
  REQUIRE_MESSAGE(status.ok(), status.status().ToString());
  CHECK(status->find(R"("status":"prelaunch")") != std::string::npos);
  CHECK(status->find(R"("running":false)") != std::string::npos);

  auto unknown = client->Execute("no-such-command");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().code() == Code::kFailedPrecondition);
  CHECK(unknown.status().reason() == "CommandNotFound");
  CHECK(unknown.status().message().rfind("QMP no-such-command: ", 0) == 0);

  // A command with arguments, refused by QEMU with its own sentence.
  auto bad = client->Execute("device_del", R"({"id":"no-such-device"})");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("no-such-device") != std::string::npos);

  auto quit = client->Execute("quit");
  CHECK_MESSAGE(quit.ok(), quit.status().ToString());
  auto exited = (*qemu)->Wait(5s);
  REQUIRE_MESSAGE(exited.ok(), exited.status().ToString());
  CHECK(*exited == 0);
  auto after = client->Execute("query-status", "", 1s);
  REQUIRE_FALSE(after.ok());
  CHECK(after.status().code() == Code::kUnavailable);
}

TEST_CASE("QmpClient names a missing socket and a peer that never greets") {
  ScratchDir dir;
  auto missing = QmpClient::Connect(dir.File("none.sock"), 500ms);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == Code::kUnavailable);
  CHECK(missing.status().message().find("There is no QMP socket at " + dir.File("none.sock")) !=
        std::string::npos);

  const std::string sock = dir.File("silent.sock");
  FakePeer silent(sock, [](int fd) { Hear(fd); });
  auto start = std::chrono::steady_clock::now();
  auto never = QmpClient::Connect(sock, 300ms);
  REQUIRE_FALSE(never.ok());
  CHECK(never.status().code() == Code::kDeadlineExceeded);
  CHECK(std::chrono::steady_clock::now() - start < 3s);
}

TEST_CASE("QmpClient refuses a peer that does not speak QMP") {
  ScratchDir dir;
  const std::string sock = dir.File("http.sock");
  FakePeer http(sock, [](int fd) { Say(fd, "HTTP/1.1 200 OK"); });
  auto c = QmpClient::Connect(sock, 1s);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == Code::kInternal);
  CHECK(c.status().message().find("did not greet with a QMP object") != std::string::npos);
}

TEST_CASE("QmpClient keeps events that arrive before an answer and reads the version") {
  ScratchDir dir;
  const std::string sock = dir.File("qmp.sock");
  std::string heard_caps, heard_cmd;
  {
    FakePeer peer(sock, [&](int fd) {
      Say(fd, kGreeting);
      heard_caps = Hear(fd);
      Say(fd, R"({"return": {}})");
      heard_cmd = Hear(fd);
      Say(fd, R"({"timestamp": {"seconds": 1, "microseconds": 2}, "event": "STOP"})");
      Say(fd, R"({"event": "SHUTDOWN", "data": {"guest": true, "reason": "guest-shutdown"}})");
      Say(fd, R"({"return": {"status": "paused", "running": false}})");
      Hear(fd);  // until the client goes away
    });
    auto c = QmpClient::Connect(sock, 2s);
    REQUIRE_MESSAGE(c.ok(), c.status().ToString());
    CHECK(c->version().ToString() == "7.2.3");
    auto r = c->Execute("query-status");
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(*r == R"({"status":"paused","running":false})");
    auto events = c->TakeEvents();
    REQUIRE(events.size() == 2);
    CHECK(events[0].name == "STOP");
    CHECK(events[0].data == "{}");
    CHECK(events[1].name == "SHUTDOWN");
    CHECK(events[1].data == R"({"guest":true,"reason":"guest-shutdown"})");
    CHECK(c->TakeEvents().empty());
  }
  CHECK(heard_caps == R"({"execute":"qmp_capabilities"})");
  CHECK(heard_cmd == R"({"execute":"query-status"})");
}

TEST_CASE("QmpClient refuses a line without end rather than buffering it") {
  ScratchDir dir;
  const std::string sock = dir.File("flood.sock");
  FakePeer flood(sock, [](int fd) {
    std::string chunk(64 * 1024, 'x');
    for (size_t sent = 0; sent <= QmpClient::kMaxLineBytes + chunk.size(); sent += chunk.size()) {
      if (::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) < 0) break;
    }
  });
  auto c = QmpClient::Connect(sock, 5s);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == Code::kInternal);
  CHECK(c.status().message().find("longer than") != std::string::npos);
}

}  // namespace
}  // namespace strato::hostd
