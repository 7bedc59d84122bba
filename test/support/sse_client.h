// SseClient: a server-sent events reader for tests and benchmarks — one GET of the live-update
// stream (/api/v1/events/stream) on its own thread, parsed into messages as they arrive, with
// the time each arrived. Thread-safe; Stop (or the destructor) closes the connection.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace strato::test {

struct SseMessage {
  std::string id;
  std::string event = "message";
  std::string data;
  std::chrono::steady_clock::time_point received;
};

class SseClient {
 public:
  SseClient(int port, httplib::Headers headers, std::string path = "/api/v1/events/stream");
  ~SseClient();
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  // The first message that satisfies `match` (looking at every message so far, then waiting).
  std::optional<SseMessage> WaitFor(const std::function<bool(const SseMessage&)>& match,
                                    std::chrono::milliseconds timeout);
  // Waits until the response's status is known (0 on timeout) and returns it.
  int WaitStatus(std::chrono::milliseconds timeout);
  // Waits until the stream has ended (the server closed it); false on timeout.
  bool WaitEnded(std::chrono::milliseconds timeout);
  std::vector<SseMessage> Messages() const;
  std::string body() const;  // the body of a refused request (status other than 200)
  void Stop();

 private:
  void Feed(const char* data, size_t size);

  httplib::Client client_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::vector<SseMessage> messages_;
  std::string buffer_;
  SseMessage current_;
  int status_ = 0;
  bool ended_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace strato::test
