// PgEventStore: the event log in PostgreSQL (table `events`, schema/migrations/0001).
//
// Appends go through one writer thread that practises group commit: the requests waiting at
// that moment share one transaction, each keeping its own expected-version checks and result
// (a conflicting request fails alone). Inside the transaction a transaction-level advisory lock
// serialises appenders across processes, so global_position = last + 1 is gap-free and commits
// become visible in position order; the hash chain is extended in the same step.
// Reads use a small pool of connections. All public methods are thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "events/log/event_store.h"
#include "events/pg/pg.h"

namespace strato::events {

struct PgEventStoreOptions {
  size_t max_batch_events = 4000;  // events per group-commit transaction, at most
  size_t max_read_connections = 4;
  const Clock* clock = nullptr;  // null: the system clock
  // Tests only: rewrites each predicted payload text, to exercise the check that catches a
  // wrong prediction before commit.
  std::function<void(std::string&)> test_skew_prediction;
};

class PgEventStore final : public EventStore {
 public:
  static Result<std::unique_ptr<PgEventStore>> Open(const std::string& database_url,
                                                    PgEventStoreOptions options = {});
  ~PgEventStore() override;

  Result<AppendResult> Append(AppendRequest request) override;
  Result<std::vector<RecordedEvent>> ReadStream(const std::string& stream_id, int64_t from_version,
                                                size_t max_count) override;
  Result<std::vector<RecordedEvent>> ReadAll(int64_t after_position, size_t max_count) override;
  Result<int64_t> LastPosition() override;

  // A waiter that LISTENs for the store's append notifications on its own connection.
  Result<std::unique_ptr<AppendWaiter>> NewWaiter();

  // Group-commit figures, for benchmarks.
  int64_t batches_committed() const { return batches_.load(); }
  int64_t appends_committed() const { return appends_.load(); }

 private:
  struct Pending;
  PgEventStore(std::string url, PgEventStoreOptions options);
  void WriterLoop();
  void ProcessBatch(std::vector<Pending*>& batch);
  // Writes a batch in one transaction, its steps below (pg_event_store.cpp names them).
  struct Attempt;
  Status TryBatch(const std::vector<Pending*>& batch, bool lookup_all);
  Status ConnectWriter();
  Status NormalisePayloads(const std::vector<Pending*>& batch, Attempt& a);
  Status FindLogEnd(Attempt& a);
  Status LookUpVersionsAndCommands(const std::vector<Pending*>& batch, Attempt& a);
  bool DecideRequests(const std::vector<Pending*>& batch, Attempt& a);
  AppendResult AddRows(const AppendRequest& req, const std::string& cmd, Attempt& a);
  Status WriteAccepted(const std::vector<Pending*>& batch, Attempt& a);
  Status RetryFailedWrite(const std::vector<Pending*>& batch, Attempt& a, Status failure);
  void RememberLogEnd(const Attempt& a);
  Result<std::unique_ptr<PgConnection>> AcquireReader();
  void ReleaseReader(std::unique_ptr<PgConnection> conn);
  Result<std::vector<RecordedEvent>> Query(std::string_view sql,
                                           const std::vector<std::string>& params);

  const std::string url_;
  const PgEventStoreOptions options_;
  const Clock& clock_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending*> queue_;
  bool stopping_ = false;
  // Writer thread only:
  std::unique_ptr<PgConnection> writer_conn_;
  bool distrust_prediction_ = false;  // redoing a batch whose jsonb text prediction failed
  std::map<std::string, int64_t, std::less<>> stream_cache_;  // stream -> version we committed
  // Where the log ended after our last commit; trusted (and checked) while end_known_.
  bool end_known_ = false;
  int64_t cached_through_ = -1;
  Hash cached_hash_{};
  int64_t cached_recorded_us_ = 0;
  static constexpr size_t kMaxCachedStreams = 100000;
  std::thread writer_;

  std::mutex read_mu_;
  std::condition_variable read_cv_;
  std::vector<std::unique_ptr<PgConnection>> idle_readers_;
  size_t open_readers_ = 0;

  std::atomic<int64_t> batches_{0};
  std::atomic<int64_t> appends_{0};
};

// The NOTIFY channel appends signal on.
inline constexpr const char* kAppendChannel = "strato_events";

}  // namespace strato::events
