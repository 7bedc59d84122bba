// PgPool: a small pool of PostgreSQL sessions for request handlers, which run on many threads.
// Acquire() lends a connection (opening one when none is idle and the pool is below its size,
// else waiting, bounded); the lease gives it back when destroyed, or drops it when it is no
// longer healthy, so a restarted server costs one failed request, not a broken pool.
//
// Thread-safe. The pool owns idle connections; a lease owns its connection while it lives and
// must not outlive the pool.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "events/pg/pg.h"

namespace strato::events {

class PgPool {
 public:
  class Lease {
   public:
    Lease(Lease&& other) noexcept : pool_(other.pool_), conn_(std::move(other.conn_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    PgConnection* operator->() const { return conn_.get(); }
    PgConnection& operator*() const { return *conn_; }

   private:
    friend class PgPool;
    Lease(PgPool* pool, std::unique_ptr<PgConnection> conn) : pool_(pool), conn_(std::move(conn)) {}
    PgPool* pool_;
    std::unique_ptr<PgConnection> conn_;
  };

  PgPool(std::string url, size_t max_size,
         std::chrono::milliseconds wait = std::chrono::seconds(5));

  // kUnavailable when the database cannot be reached, kDeadlineExceeded when every connection
  // stayed busy for the whole wait.
  Result<Lease> Acquire();

 private:
  void Return(std::unique_ptr<PgConnection> conn);

  const std::string url_;
  const size_t max_size_;
  const std::chrono::milliseconds wait_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConnection>> idle_;
  size_t open_ = 0;  // idle + lent out
};

}  // namespace strato::events
