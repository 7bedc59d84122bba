// ProjectionRunner: keeps a set of projections folded up to the end of the event log.
//
// Each projection has a row in projection_checkpoints (schema/migrations/0002): the position of
// the last event it applied, and the error and position it stopped at, if it did. The runner
// reads the log in batches from the lowest checkpoint + 1 and applies each batch in ONE
// transaction: per projection a savepoint, its checkpoint row locked (FOR UPDATE), its events
// applied, its checkpoint set to the batch's last position; then one COMMIT. Rows and
// checkpoints therefore commit together: after a crash, a lost connection or Stop, folding
// resumes after the last committed position and nothing is applied twice. The row lock also
// makes two runners (two `strato serve` instances) safe: the second one sees the new
// checkpoint and skips what the first applied.
//
// A projection that fails on an event (a non-OK Status other than kUnavailable, or an SQL
// error other than a lost connection, a serialization failure or a deadlock) stops there: the
// events before it are committed, its checkpoint stays at the position before the failing
// event, error and error_position are recorded, an error is logged, and the runner goes on with
// the other projections. It never skips the event. The next Start tries it again; a projection
// that then passes the event has its error cleared. Transient failures (PostgreSQL down) roll
// the batch back and are retried after retry_wait, logged once per outage.
//
// Where events come from, and why: the runner READS THE LOG (EventStore::ReadAll), and uses
// notifications only as wake-ups: PostgreSQL's append NOTIFY (an AppendWaiter) and, optionally,
// the NATS bus (an EventSubscription on strato.events.>, whose messages only say "the log has
// grown"). The log is the source of truth and sits in the same database as the read models, so
//   - a batch is one indexed range scan of hundreds of events, where a push consumer hands
//     over one message at a time, each to decode; rebuilds from position 0 need the log anyway;
//   - read models stay current while NATS is down or the relay lags (the bus is one hop behind
//     the log), and there is no second source to reconcile for gaps or duplicates;
//   - positions are gap-free and commit-ordered in the log, so "checkpoint + 1" is always the
//     next event to apply, with no reordering buffer.
// Without any waiter the runner polls every idle_wait; a wake-up that comes too early only
// costs an empty read.
//
// Threading: Start runs a worker thread (and a waker thread when there is an AppendWaiter);
// Stop joins them. Position, States, WaitFor and Reset are thread-safe and may be called from
// any thread, also while running. CatchUp runs on the caller's thread and only while the
// runner is not started. Ownership: the runner owns its projections and waiter; the store and
// the bus connection are borrowed and must outlive it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/status.h"
#include "events/bus/nats_bus.h"
#include "events/log/event_store.h"
#include "events/pg/pg.h"
#include "projections/runner/projection.h"

namespace strato::projections {

// WaitFor(kAllProjections, ...) waits for every projection of the runner.
inline constexpr std::string_view kAllProjections = "*";

struct RunnerOptions {
  std::string database_url;  // the database of the log, the read models and the checkpoints
  size_t batch_size = 1000;  // events per ReadAll and per transaction, at most
  std::chrono::milliseconds idle_wait{1000};  // re-read the log this often without a wake-up
  std::chrono::milliseconds retry_wait{500};  // after a transient failure
  events::NatsConnection* bus = nullptr;      // optional wake-ups from the bus; borrowed
  std::string bus_stream = events::kEventStreamName;
};

// One projection as the runner sees it.
struct ProjectionState {
  std::string name;
  int64_t position = 0;  // last position applied and committed
  bool stopped = false;  // stopped on an event it could not apply (until the next Start)
  std::string error;     // the last recorded error ("" when none)
  int64_t error_position = 0;
};

class ProjectionRunner {
 public:
  // Names must be unique and non-empty (kInvalidArgument otherwise). `waiter` may be null (the
  // runner then polls); with a PgEventStore pass store.NewWaiter().
  static Result<std::unique_ptr<ProjectionRunner>> Create(
      events::EventStore& store, std::unique_ptr<events::AppendWaiter> waiter,
      std::vector<std::unique_ptr<Projection>> projections, RunnerOptions options);
  ~ProjectionRunner();  // Stop()
  ProjectionRunner(const ProjectionRunner&) = delete;
  ProjectionRunner& operator=(const ProjectionRunner&) = delete;

  // Connects, creates missing checkpoint rows, loads the checkpoints and starts folding on a
  // thread of its own. kUnavailable when PostgreSQL cannot be reached; kFailedPrecondition when
  // already started. A bus that cannot be subscribed to is logged and done without.
  Status Start();
  // Finishes (commits or rolls back) the batch in hand and joins the threads. Idempotent.
  void Stop();
  bool running() const;

  // Folds on the caller's thread until every projection has reached the position the log
  // ended at when called (or stopped on an error). on_batch, if given, is called after each
  // committed batch with the lowest position of the projections still folding. Returns the
  // first transient error instead of retrying. kFailedPrecondition while started.
  Status CatchUp(const std::function<void(int64_t)>& on_batch = nullptr);

  // Truncates the projection's tables and sets its checkpoint to 0 with its error cleared, in
  // one transaction; the runner then folds it again from position 1 (a rebuild). While running
  // the worker does it between batches and this call waits for it.
  Status Reset(const std::string& name);

  // The committed position of a projection (kNotFound for an unknown name).
  Result<int64_t> Position(std::string_view name) const;
  std::vector<ProjectionState> States() const;

  // Read-your-writes: returns OK once `name` (or every projection, for kAllProjections) has
  // applied `position`. kDeadlineExceeded after the timeout, kFailedPrecondition at once when
  // the projection stopped on an error at or before `position`, kNotFound for an unknown name;
  // each with a sentence saying where the projection is.
  Status WaitFor(std::string_view name, int64_t position, std::chrono::milliseconds timeout) const;

 private:
  struct Slot;
  struct Outcome;
  struct Attempt;
  struct ResetRequest;
  ProjectionRunner(events::EventStore& store, std::unique_ptr<events::AppendWaiter> waiter,
                   std::vector<std::unique_ptr<Projection>> projections, RunnerOptions options);

  Status Connect();
  Status LoadCheckpoints();
  // One batch of the log for every projection behind it, in one transaction. True when it
  // read events; false when every folding projection is at the end of the log.
  Result<bool> Step();
  Result<Outcome> FoldProjection(Slot& slot, std::span<const events::RecordedEvent> batch);
  Attempt TrySpan(Slot& slot, std::span<const events::RecordedEvent> span, bool one_by_one,
                  const Outcome* failure);
  Status ResetNow(events::PgConnection& conn, Slot& slot);
  void HandleResets();
  void Publish();
  void WorkerLoop();
  void WakerLoop();
  void Wake();
  void RollbackQuietly();
  bool IsTransient(const Status& s) const;
  Slot* Find(std::string_view name);
  const Slot* Find(std::string_view name) const;

  events::EventStore& store_;
  std::unique_ptr<events::AppendWaiter> waiter_;
  const RunnerOptions options_;
  std::vector<std::unique_ptr<Slot>> slots_;

  // The worker thread's (or CatchUp's caller's):
  std::unique_ptr<events::PgConnection> conn_;

  std::mutex lifecycle_mu_;  // Start, Stop, CatchUp, Reset: one at a time

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;  // a published state changed, or a reset is done
  std::condition_variable wake_cv_;          // the worker has something to do
  bool wake_ = false;
  bool stop_ = false;
  bool running_ = false;
  std::vector<ResetRequest*> resets_;

  std::atomic<bool> stop_waker_{false};
  std::thread worker_;
  std::thread waker_;
  std::unique_ptr<events::EventSubscription> bus_sub_;
};

}  // namespace strato::projections
