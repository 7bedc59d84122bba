#include "test/support/sse_client.h"

namespace strato::test {

SseClient::SseClient(int port, httplib::Headers headers, std::string path)
    : client_("127.0.0.1", port) {
  client_.set_read_timeout(std::chrono::seconds(60));
  thread_ = std::thread([this, headers = std::move(headers), path = std::move(path)] {
    auto result = client_.Get(
        path, headers,
        [this](const httplib::Response& r) {
          std::lock_guard<std::mutex> lock(mu_);
          status_ = r.status;
          changed_.notify_all();
          return true;
        },
        [this](const char* data, size_t size) {
          Feed(data, size);
          std::lock_guard<std::mutex> lock(mu_);
          return !stopping_;
        });
    std::lock_guard<std::mutex> lock(mu_);
    if (!result && status_ == 0) status_ = -1;
    ended_ = true;
    changed_.notify_all();
  });
}

SseClient::~SseClient() {
  Stop();
}

void SseClient::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  client_.stop();
  if (thread_.joinable()) thread_.join();
}

void SseClient::Feed(const char* data, size_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  if (status_ != 200) {
    buffer_.append(data, size);
    return;
  }
  buffer_.append(data, size);
  size_t eol;
  while ((eol = buffer_.find('\n')) != std::string::npos) {
    std::string line = buffer_.substr(0, eol);
    buffer_.erase(0, eol + 1);
    if (line.empty()) {  // the end of a message
      if (!current_.data.empty() || current_.event != "message") {
        current_.received = std::chrono::steady_clock::now();
        messages_.push_back(current_);
        changed_.notify_all();
      }
      std::string last_id = current_.id;
      current_ = SseMessage{};
      current_.id = last_id;  // the id carries over, as in EventSource
      continue;
    }
    if (line[0] == ':') continue;  // a comment (keep-alive)
    size_t colon = line.find(':');
    std::string field = line.substr(0, colon);
    std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    if (field == "id") current_.id = value;
    if (field == "event") current_.event = value;
    if (field == "data") current_.data += (current_.data.empty() ? "" : "\n") + value;
  }
}

std::optional<SseMessage> SseClient::WaitFor(const std::function<bool(const SseMessage&)>& match,
                                             std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  size_t seen = 0;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    for (; seen < messages_.size(); ++seen) {
      if (match(messages_[seen])) return messages_[seen];
    }
    if (ended_) return std::nullopt;
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout &&
        seen == messages_.size()) {
      return std::nullopt;
    }
  }
}

int SseClient::WaitStatus(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait_for(lock, timeout, [&] { return status_ != 0; });
  return status_;
}

bool SseClient::WaitEnded(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return ended_; });
}

std::vector<SseMessage> SseClient::Messages() const {
  std::lock_guard<std::mutex> lock(mu_);
  return messages_;
}

std::string SseClient::body() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buffer_;
}

}  // namespace strato::test
