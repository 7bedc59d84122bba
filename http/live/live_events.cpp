#include "http/live/live_events.h"

#include "core/log.h"

namespace strato::http {

namespace {
constexpr size_t kBatch = 1000;
}

LiveHub::LiveHub(events::EventStore& store, const projections::TupleFeed& feed,
                 std::function<Status(int64_t)> ready, Options options)
    : store_(store), feed_(feed), ready_(std::move(ready)), options_(options) {}

LiveHub::~LiveHub() {
  Stop();
}

Status LiveHub::Start() {
  auto end = store_.LastPosition();
  if (!end.ok()) return end.status().WithContext("live updates: reading the log's end");
  {
    std::lock_guard<std::mutex> lock(mu_);
    head_ = *end;
  }
  thread_ = std::thread([this] { Follow(); });
  return Status::Ok();
}

void LiveHub::Stop() {
  stop_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int64_t LiveHub::head() const {
  std::lock_guard<std::mutex> lock(mu_);
  return head_;
}

void LiveHub::Follow() {
  int64_t position = head();
  bool warned = false;
  while (!stop_.load()) {
    // The tuple feed follows the log too; once it has passed `position` there is more to read.
    if (feed_.position() <= position) {
      (void)feed_.WaitFor(position + 1, std::chrono::milliseconds(500));
      continue;
    }
    auto events = store_.ReadAll(position, kBatch);
    if (!events.ok()) {
      log::Warn("live updates: reading the log failed", {{"error", events.status().message()}});
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    if (events->empty()) continue;
    int64_t last = events->back().position;
    // Publish only what the read models show, so a page re-fetched on this event shows it.
    Status ready = ready_(last);
    if (!ready.ok() && !warned) {
      log::Warn("live updates: read models lag; publishing anyway",
                {{"position", last}, {"error", ready.message()}});
    }
    warned = !ready.ok();
    auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const events::RecordedEvent& e : *events) {
        ring_.push_back(LiveEvent{e.position, e.stream_id, e.type, now});
      }
      while (ring_.size() > options_.ring) ring_.pop_front();
      head_ = last;
    }
    published_ += events->size();
    changed_.notify_all();
    position = last;
  }
}

LiveBatch LiveHub::WaitAfter(int64_t after, std::chrono::milliseconds timeout) const {
  LiveBatch batch;
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait_for(lock, timeout, [&] { return stopped_ || head_ > after; });
  batch.stopped = stopped_;
  if (head_ <= after) return batch;
  // Positions have no gaps, so the ring holds `after + 1` exactly when its first event is at or
  // before it.
  if (ring_.empty() || ring_.front().position > after + 1) {
    batch.gap = true;
    return batch;
  }
  size_t from = static_cast<size_t>(after + 1 - ring_.front().position);
  for (size_t i = from; i < ring_.size() && batch.events.size() < kBatch; ++i) {
    batch.events.push_back(ring_[i]);
  }
  return batch;
}

LiveHub::Admission LiveHub::AddClient(const std::string& user_id) {
  std::lock_guard<std::mutex> lock(clients_mu_);
  auto it = per_user_.find(user_id);
  if (it != per_user_.end() && it->second >= options_.max_clients_per_user) {
    return Admission::kUserFull;
  }
  if (clients_.load() >= options_.max_clients) return Admission::kServerFull;
  ++per_user_[user_id];
  ++clients_;
  return Admission::kAdmitted;
}

void LiveHub::RemoveClient(const std::string& user_id) {
  std::lock_guard<std::mutex> lock(clients_mu_);
  auto it = per_user_.find(user_id);
  if (it == per_user_.end()) return;  // never admitted: nothing to give back
  if (--it->second == 0) per_user_.erase(it);
  --clients_;
}

size_t LiveHub::clients_of(const std::string& user_id) const {
  std::lock_guard<std::mutex> lock(clients_mu_);
  auto it = per_user_.find(user_id);
  return it == per_user_.end() ? 0 : it->second;
}

}  // namespace strato::http
