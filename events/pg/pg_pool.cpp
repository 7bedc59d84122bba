#include "events/pg/pg_pool.h"

namespace strato::events {

PgPool::PgPool(std::string url, size_t max_size, std::chrono::milliseconds wait)
    : url_(std::move(url)), max_size_(max_size == 0 ? 1 : max_size), wait_(wait) {}

PgPool::Lease::~Lease() {
  if (conn_ && pool_) pool_->Return(std::move(conn_));
}

Result<PgPool::Lease> PgPool::Acquire() {
  std::unique_lock lock(mu_);
  bool free_slot = cv_.wait_for(lock, wait_, [&] { return !idle_.empty() || open_ < max_size_; });
  if (!free_slot) {
    return Status::DeadlineExceeded("every database connection stayed busy for " +
                                    std::to_string(wait_.count()) + " ms");
  }
  if (!idle_.empty()) {
    std::unique_ptr<PgConnection> conn = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(conn));
  }
  ++open_;
  lock.unlock();
  auto conn = PgConnection::Connect(url_);
  if (!conn.ok()) {
    std::lock_guard relock(mu_);
    --open_;
    cv_.notify_one();
    return conn.status();
  }
  return Lease(this, std::move(*conn));
}

void PgPool::Return(std::unique_ptr<PgConnection> conn) {
  // A connection left inside a transaction (an early return between BEGIN and COMMIT) is
  // rolled back before anyone else gets it; one that cannot be is dropped.
  if (conn->Healthy() && !conn->Idle()) (void)conn->Run("ROLLBACK");
  std::lock_guard lock(mu_);
  if (conn->Idle()) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
  cv_.notify_one();
}

}  // namespace strato::events
