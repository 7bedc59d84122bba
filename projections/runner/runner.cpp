#include "projections/runner/runner.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <set>

#include "core/log.h"

namespace strato::projections {

using events::PgConnection;
using events::PgResult;
using events::PgStatement;
using events::RecordedEvent;

namespace {

constexpr const char* kLockCheckpointSql =
    "SELECT position, coalesce(error, ''), coalesce(error_position, 0) "
    "FROM projection_checkpoints WHERE name = $1 FOR UPDATE";
constexpr const char* kUpdateCheckpointSql =
    "UPDATE projection_checkpoints SET position = $2, updated_at = now(), "
    "error = nullif($3, ''), error_position = nullif($4::bigint, 0) WHERE name = $1";
constexpr const char* kEnsureCheckpointsSql =
    "INSERT INTO projection_checkpoints (name, position, updated_at) "
    "SELECT n, 0, now() FROM unnest($1::text[]) AS n ON CONFLICT (name) DO NOTHING";
constexpr const char* kLoadCheckpointsSql =
    "SELECT name, position, coalesce(error, ''), coalesce(error_position, 0) "
    "FROM projection_checkpoints WHERE name = ANY($1::text[])";

// How long the waker blocks in the AppendWaiter before checking whether to stop.
constexpr std::chrono::milliseconds kWakerSlice{250};

std::string Ms(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + " ms";
}

}  // namespace

Status Projection::ApplyBatch(PgConnection& tx, std::span<const RecordedEvent> es) {
  for (const RecordedEvent& e : es) STRATO_RETURN_IF_ERROR(Apply(tx, e));
  return Status::Ok();
}

Status Projection::Reset(PgConnection& tx) {
  return TruncateTables(tx, tables());
}

Status TruncateTables(PgConnection& tx, const std::vector<std::string>& tables) {
  if (tables.empty()) return Status::Ok();
  std::string sql = "TRUNCATE ";
  for (size_t i = 0; i < tables.size(); ++i) {
    if (i > 0) sql += ", ";
    sql += events::QuoteIdentifier(tables[i]);
  }
  return tx.Run(sql);
}

// A projection and its checkpoint: the worker's copy, and the copy other threads read.
struct ProjectionRunner::Slot {
  std::unique_ptr<Projection> projection;
  // Worker (or CatchUp, Start, Reset while stopped) only:
  int64_t position = 0;
  bool stopped = false;
  std::string error;
  int64_t error_position = 0;
  // Under mu_:
  ProjectionState published;
};

// Where a projection stands after its part of a batch (effective once the batch commits).
struct ProjectionRunner::Outcome {
  int64_t position = 0;
  bool stopped = false;
  std::string error;
  int64_t error_position = 0;
  bool moved = false;  // the checkpoint row was not where we left it: adopted, nothing applied
};

// One try at applying a span under a savepoint.
struct ProjectionRunner::Attempt {
  enum class Kind {
    kDone,              // applied (or adopted) and the checkpoint updated; savepoint released
    kProjectionFailed,  // the projection refused an event; rolled back to the savepoint
    kAborted,           // transient, or the runner's own statements failed: abort the batch
  };
  Kind kind = Kind::kDone;
  Status status;
  size_t index = 0;  // kProjectionFailed: the failing event's index, or the span size if unknown
  Outcome outcome;
};

struct ProjectionRunner::ResetRequest {
  Slot* slot = nullptr;
  bool done = false;
  Status status;
};

Result<std::unique_ptr<ProjectionRunner>> ProjectionRunner::Create(
    events::EventStore& store, std::unique_ptr<events::AppendWaiter> waiter,
    std::vector<std::unique_ptr<Projection>> projections, RunnerOptions options) {
  if (options.database_url.empty()) {
    return Status::InvalidArgument("the projection runner needs a database URL");
  }
  if (options.batch_size == 0) options.batch_size = 1;
  std::set<std::string> names;
  for (const auto& p : projections) {
    assert(p != nullptr);
    if (p->name().empty()) return Status::InvalidArgument("a projection has an empty name");
    if (p->name() == kAllProjections) {
      return Status::InvalidArgument("\"*\" is reserved and cannot name a projection");
    }
    if (!names.insert(p->name()).second) {
      return Status::InvalidArgument("two projections are named " + p->name());
    }
  }
  return std::unique_ptr<ProjectionRunner>(
      new ProjectionRunner(store, std::move(waiter), std::move(projections), std::move(options)));
}

ProjectionRunner::ProjectionRunner(events::EventStore& store,
                                   std::unique_ptr<events::AppendWaiter> waiter,
                                   std::vector<std::unique_ptr<Projection>> projections,
                                   RunnerOptions options)
    : store_(store), waiter_(std::move(waiter)), options_(std::move(options)) {
  for (auto& p : projections) {
    auto slot = std::make_unique<Slot>();
    slot->published.name = p->name();
    slot->projection = std::move(p);
    slots_.push_back(std::move(slot));
  }
}

ProjectionRunner::~ProjectionRunner() {
  Stop();
}

ProjectionRunner::Slot* ProjectionRunner::Find(std::string_view name) {
  for (auto& s : slots_) {
    if (s->projection->name() == name) return s.get();
  }
  return nullptr;
}

const ProjectionRunner::Slot* ProjectionRunner::Find(std::string_view name) const {
  for (const auto& s : slots_) {
    if (s->projection->name() == name) return s.get();
  }
  return nullptr;
}

Status ProjectionRunner::Connect() {
  conn_.reset();
  auto c = PgConnection::Connect(options_.database_url);
  if (!c.ok()) return c.status().WithContext("projections");
  conn_ = std::move(*c);
  return Status::Ok();
}

Status ProjectionRunner::LoadCheckpoints() {
  events::PgArray names;
  for (const auto& s : slots_) names.Add(s->projection->name());
  auto ensured = conn_->Exec(kEnsureCheckpointsSql, {names.Literal()});
  if (!ensured.ok()) return ensured.status().WithContext("creating projection checkpoints");
  auto rows = conn_->Exec(kLoadCheckpointsSql, {names.Literal()});
  if (!rows.ok()) return rows.status().WithContext("reading projection checkpoints");
  for (int i = 0; i < rows->rows(); ++i) {
    Slot* slot = Find(rows->Get(i, 0));
    if (slot == nullptr) continue;
    slot->position = rows->GetInt64(i, 1);
    slot->stopped = false;  // a Start tries a stopped projection again
    slot->error = std::string(rows->Get(i, 2));
    slot->error_position = rows->GetInt64(i, 3);
  }
  return Status::Ok();
}

void ProjectionRunner::Publish() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& s : slots_) {
      s->published.position = s->position;
      s->published.stopped = s->stopped;
      s->published.error = s->error;
      s->published.error_position = s->error_position;
    }
  }
  changed_.notify_all();
}

bool ProjectionRunner::IsTransient(const Status& s) const {
  if (s.code() == Code::kUnavailable) return true;
  if (conn_ == nullptr || !conn_->Healthy()) return true;
  const std::string& state = conn_->last_sqlstate();
  // Connection exceptions, serialization failures and deadlocks, insufficient resources,
  // operator intervention (a shutdown): retrying can succeed.
  for (const char* cls : {"08", "40", "53", "57"}) {
    if (state.rfind(cls, 0) == 0) return true;
  }
  return false;
}

void ProjectionRunner::RollbackQuietly() {
  if (conn_ == nullptr) return;
  if (!conn_->Healthy() || !conn_->Run("ROLLBACK").ok()) conn_.reset();
}

ProjectionRunner::Attempt ProjectionRunner::TrySpan(Slot& slot, std::span<const RecordedEvent> span,
                                                    bool one_by_one, const Outcome* failure) {
  Attempt a;
  const std::string& name = slot.projection->name();
  auto aborted = [&](const Status& s, std::string_view context) {
    a.kind = Attempt::Kind::kAborted;
    a.status = s.WithContext(context);
    return a;
  };

  auto locked = conn_->ExecPipeline({{"", "SAVEPOINT strato_projection", {}},
                                     {"strato_checkpoint_lock", kLockCheckpointSql, {name}}});
  if (!locked.ok()) return aborted(locked.status(), "locking the checkpoint of " + name);
  const PgResult& row = (*locked)[1];
  if (row.rows() != 1) {
    return aborted(Status::Internal("its checkpoint row is missing"), "projection " + name);
  }
  const int64_t db_position = row.GetInt64(0, 0);
  if (db_position != slot.position) {
    // Another runner applied events (or our previous COMMIT succeeded without our seeing the
    // answer): take its checkpoint and apply nothing; the next batch starts from there.
    Status released = conn_->Run("RELEASE SAVEPOINT strato_projection");
    if (!released.ok()) return aborted(released, "projection " + name);
    a.outcome.position = db_position;
    a.outcome.error = std::string(row.Get(0, 1));
    a.outcome.error_position = row.GetInt64(0, 2);
    a.outcome.moved = true;
    return a;
  }

  auto refused = [&](const Status& s, size_t index) {
    if (IsTransient(s)) return aborted(s, "projection " + name);
    Status rolled = conn_->Run("ROLLBACK TO SAVEPOINT strato_projection");
    if (!rolled.ok()) return aborted(rolled, "projection " + name);
    a.kind = Attempt::Kind::kProjectionFailed;
    a.status = s;
    a.index = index;
    return a;
  };
  if (!span.empty() && !one_by_one) {
    Status s = slot.projection->ApplyBatch(*conn_, span);
    if (!s.ok()) return refused(s, span.size());
  } else {
    for (size_t i = 0; i < span.size(); ++i) {
      Status s = slot.projection->Apply(*conn_, span[i]);
      if (!s.ok()) return refused(s, i);
    }
  }

  a.outcome.position = span.empty() ? slot.position : span.back().position;
  if (failure != nullptr) {
    a.outcome.stopped = true;
    a.outcome.error = failure->error;
    a.outcome.error_position = failure->error_position;
  }
  auto updated = conn_->ExecPipeline({{"strato_checkpoint_update",
                                       kUpdateCheckpointSql,
                                       {name, std::to_string(a.outcome.position), a.outcome.error,
                                        std::to_string(a.outcome.error_position)}},
                                      {"", "RELEASE SAVEPOINT strato_projection", {}}});
  if (!updated.ok()) return aborted(updated.status(), "updating the checkpoint of " + name);
  return a;
}

Result<ProjectionRunner::Outcome> ProjectionRunner::FoldProjection(
    Slot& slot, std::span<const RecordedEvent> batch) {
  auto first = std::upper_bound(
      batch.begin(), batch.end(), slot.position,
      [](int64_t position, const RecordedEvent& e) { return position < e.position; });
  std::span<const RecordedEvent> span(first, batch.end());
  bool one_by_one = false;
  std::optional<Outcome> failure;
  size_t end = span.size();
  for (;;) {
    Attempt a = TrySpan(slot, span.first(end), one_by_one, failure ? &*failure : nullptr);
    switch (a.kind) {
      case Attempt::Kind::kDone:
        return a.outcome;
      case Attempt::Kind::kAborted:
        return a.status;
      case Attempt::Kind::kProjectionFailed:
        if (!one_by_one) {
          one_by_one = true;  // find out which event it was
          continue;
        }
        // Commit what comes before the failing event, with the error, and stop there.
        const RecordedEvent& e = span[a.index];
        failure = Outcome{};
        failure->error = "applying " + e.type + " (stream " + e.stream_id + ", position " +
                         std::to_string(e.position) + "): " + a.status.ToString();
        failure->error_position = e.position;
        end = a.index;
        continue;
    }
  }
}

Result<bool> ProjectionRunner::Step() {
  int64_t from = std::numeric_limits<int64_t>::max();
  for (const auto& s : slots_) {
    if (!s->stopped) from = std::min(from, s->position);
  }
  if (from == std::numeric_limits<int64_t>::max()) return false;  // all stopped
  auto batch = store_.ReadAll(from, options_.batch_size);
  if (!batch.ok()) return batch.status().WithContext("reading the log for projections");
  if (batch->empty()) return false;
  if (conn_ == nullptr || !conn_->Healthy()) STRATO_RETURN_IF_ERROR(Connect());

  Status begun = conn_->Run("BEGIN");
  if (!begun.ok()) {
    RollbackQuietly();
    return begun.WithContext("projections");
  }
  const int64_t last = batch->back().position;
  std::vector<std::pair<Slot*, Outcome>> outcomes;
  for (auto& s : slots_) {
    if (s->stopped || s->position >= last) continue;
    auto outcome = FoldProjection(*s, *batch);
    if (!outcome.ok()) {
      RollbackQuietly();
      return outcome.status();
    }
    outcomes.emplace_back(s.get(), std::move(*outcome));
  }
  Status committed = conn_->Run("COMMIT");
  if (!committed.ok()) {
    RollbackQuietly();
    return committed.WithContext("committing projections");
  }
  for (auto& [slot, o] : outcomes) {
    slot->position = o.position;
    slot->error = o.error;
    slot->error_position = o.error_position;
    if (o.stopped && !slot->stopped) {
      log::Error("projection stopped on an event it could not apply",
                 {{"projection", slot->projection->name()},
                  {"position", o.error_position},
                  {"error", o.error}});
    }
    slot->stopped = o.stopped;
  }
  Publish();
  return true;
}

Status ProjectionRunner::ResetNow(PgConnection& conn, Slot& slot) {
  const std::string& name = slot.projection->name();
  auto fail = [&](const Status& s) {
    if (conn.Healthy()) (void)conn.Run("ROLLBACK");
    return s.WithContext("resetting projection " + name);
  };
  STRATO_RETURN_IF_ERROR(conn.Run("BEGIN").WithContext("resetting projection " + name));
  events::PgArray names;
  names.Add(name);
  auto ensured = conn.Exec(kEnsureCheckpointsSql, {names.Literal()});
  if (!ensured.ok()) return fail(ensured.status());
  auto locked = conn.Exec(kLockCheckpointSql, {name});
  if (!locked.ok()) return fail(locked.status());
  Status s = slot.projection->Reset(conn);
  if (!s.ok()) return fail(s);
  auto updated = conn.Exec(kUpdateCheckpointSql, {name, "0", "", "0"});
  if (!updated.ok()) return fail(updated.status());
  Status committed = conn.Run("COMMIT");
  if (!committed.ok()) return fail(committed);
  slot.position = 0;
  slot.stopped = false;
  slot.error.clear();
  slot.error_position = 0;
  log::Info("projection reset: it folds again from position 1", {{"projection", name}});
  return Status::Ok();
}

void ProjectionRunner::HandleResets() {
  std::vector<ResetRequest*> requests;
  {
    std::lock_guard<std::mutex> lock(mu_);
    requests.swap(resets_);
  }
  if (requests.empty()) return;
  for (ResetRequest* r : requests) {
    Status s;
    if (conn_ == nullptr || !conn_->Healthy()) s = Connect();
    if (s.ok()) s = ResetNow(*conn_, *r->slot);
    r->status = s;
  }
  Publish();  // also under mu_: mark them done
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (ResetRequest* r : requests) r->done = true;
  }
  changed_.notify_all();
}

Status ProjectionRunner::Reset(const std::string& name) {
  Slot* slot = Find(name);
  if (slot == nullptr) return Status::NotFound("there is no projection named " + name);
  std::lock_guard<std::mutex> lifecycle(lifecycle_mu_);
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (running_) {
      ResetRequest request;
      request.slot = slot;
      resets_.push_back(&request);
      wake_cv_.notify_all();
      changed_.wait(lock, [&] { return request.done; });
      return request.status;
    }
  }
  auto conn = PgConnection::Connect(options_.database_url);
  if (!conn.ok()) return conn.status().WithContext("resetting projection " + name);
  Status s = ResetNow(**conn, *slot);
  Publish();
  return s;
}

void ProjectionRunner::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake_ = true;
  }
  wake_cv_.notify_all();
}

void ProjectionRunner::WakerLoop() {
  const auto slice = std::min(options_.idle_wait, kWakerSlice);
  while (!stop_waker_.load()) {
    auto started = std::chrono::steady_clock::now();
    Status s = waiter_->Wait(0, slice);
    if (stop_waker_.load()) break;
    if (!s.ok()) {
      Wake();  // a notification may have been missed while the waiter was away
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    // Returning before the slice ended means a notification (or a reconnect): wake the worker.
    if (std::chrono::steady_clock::now() - started < slice - std::chrono::milliseconds(5)) Wake();
  }
}

void ProjectionRunner::WorkerLoop() {
  bool outage = false;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) break;
      wake_ = false;  // what arrives from here on is read by the Step below or wakes us again
    }
    HandleResets();
    auto stepped = Step();
    if (!stepped.ok()) {
      if (!outage) {
        log::Warn("projections cannot fold now; retrying",
                  {{"error", stepped.status().ToString()}});
        outage = true;
      }
      std::unique_lock<std::mutex> lock(mu_);
      wake_cv_.wait_for(lock, options_.retry_wait, [&] { return stop_ || !resets_.empty(); });
      continue;
    }
    if (outage) {
      log::Info("projections folding again");
      outage = false;
    }
    if (*stepped) continue;  // there may be more
    std::unique_lock<std::mutex> lock(mu_);
    wake_cv_.wait_for(lock, options_.idle_wait, [&] { return stop_ || wake_ || !resets_.empty(); });
  }
}

Status ProjectionRunner::Start() {
  std::lock_guard<std::mutex> lifecycle(lifecycle_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_) return Status::FailedPrecondition("the projection runner is already running");
  }
  STRATO_RETURN_IF_ERROR(Connect());
  STRATO_RETURN_IF_ERROR(LoadCheckpoints());
  Publish();
  for (const auto& s : slots_) {
    if (s->error.empty()) continue;
    log::Warn("projection had stopped on an event it could not apply; trying it again",
              {{"projection", s->projection->name()},
               {"position", s->error_position},
               {"error", s->error}});
  }
  if (options_.bus != nullptr) {
    events::SubscriptionOptions sub;
    sub.stream = options_.bus_stream;
    auto end = store_.LastPosition();
    sub.after_position = end.ok() ? *end : 0;
    auto started =
        events::EventSubscription::Start(*options_.bus, sub, [this](events::BusEvent) { Wake(); });
    if (started.ok()) {
      bus_sub_ = std::move(*started);
    } else {
      log::Warn(
          "projections: no wake-ups from the bus; PostgreSQL notifications and polling "
          "remain",
          {{"error", started.status().ToString()}});
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = false;
    wake_ = true;
    running_ = true;
  }
  stop_waker_ = false;
  if (waiter_ != nullptr) waker_ = std::thread([this] { WakerLoop(); });
  worker_ = std::thread([this] { WorkerLoop(); });
  std::string names;
  for (const auto& s : slots_) names += (names.empty() ? "" : ",") + s->projection->name();
  log::Info("projections started", {{"projections", names}});
  return Status::Ok();
}

void ProjectionRunner::Stop() {
  std::lock_guard<std::mutex> lifecycle(lifecycle_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running_) return;
    stop_ = true;
  }
  wake_cv_.notify_all();
  stop_waker_ = true;
  if (worker_.joinable()) worker_.join();
  if (waker_.joinable()) waker_.join();
  bus_sub_.reset();
  conn_.reset();
  std::lock_guard<std::mutex> lock(mu_);
  running_ = false;
}

bool ProjectionRunner::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

Status ProjectionRunner::CatchUp(const std::function<void(int64_t)>& on_batch) {
  std::lock_guard<std::mutex> lifecycle(lifecycle_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_) return Status::FailedPrecondition("CatchUp while the runner is running");
  }
  STRATO_RETURN_IF_ERROR(Connect());
  STRATO_RETURN_IF_ERROR(LoadCheckpoints());
  Publish();
  auto target = store_.LastPosition();
  if (!target.ok()) return target.status().WithContext("reading the end of the log");
  for (;;) {
    int64_t lowest = std::numeric_limits<int64_t>::max();
    for (const auto& s : slots_) {
      if (!s->stopped) lowest = std::min(lowest, s->position);
    }
    if (lowest >= *target) break;
    auto stepped = Step();
    if (!stepped.ok()) return stepped.status();
    if (!*stepped) break;
    if (on_batch) on_batch(lowest);
  }
  conn_.reset();
  std::string stopped;
  for (const auto& s : slots_) {
    if (s->stopped) {
      stopped += (stopped.empty() ? "" : "; ") + s->projection->name() + " stopped at position " +
                 std::to_string(s->error_position) + ": " + s->error;
    }
  }
  if (!stopped.empty()) return Status::FailedPrecondition(stopped);
  return Status::Ok();
}

Result<int64_t> ProjectionRunner::Position(std::string_view name) const {
  const Slot* slot = Find(name);
  if (slot == nullptr) return Status::NotFound("there is no projection named " + std::string(name));
  std::lock_guard<std::mutex> lock(mu_);
  return slot->published.position;
}

std::vector<ProjectionState> ProjectionRunner::States() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ProjectionState> out;
  for (const auto& s : slots_) out.push_back(s->published);
  return out;
}

Status ProjectionRunner::WaitFor(std::string_view name, int64_t position,
                                 std::chrono::milliseconds timeout) const {
  std::vector<const Slot*> watched;
  if (name == kAllProjections) {
    for (const auto& s : slots_) watched.push_back(s.get());
  } else {
    const Slot* slot = Find(name);
    if (slot == nullptr) {
      return Status::NotFound("there is no projection named " + std::string(name));
    }
    watched.push_back(slot);
  }
  // Under mu_: OK when all reached it, an error when one stopped before it, nullopt to wait.
  auto verdict = [&]() -> std::optional<Status> {
    bool all = true;
    for (const Slot* s : watched) {
      const ProjectionState& st = s->published;
      if (st.position >= position) continue;
      if (st.stopped && st.error_position <= position) {
        return Status::FailedPrecondition(
            "projection " + st.name + " stopped at position " + std::to_string(st.position) +
            " and will not reach position " + std::to_string(position) + ": " + st.error);
      }
      all = false;
    }
    if (all) return Status::Ok();
    return std::nullopt;
  };
  std::unique_lock<std::mutex> lock(mu_);
  std::optional<Status> v;
  changed_.wait_for(lock, timeout, [&] { return (v = verdict()).has_value(); });
  if (v.has_value()) return *v;
  std::string behind;
  for (const Slot* s : watched) {
    if (s->published.position >= position) continue;
    behind += (behind.empty() ? "" : ", ") + s->published.name + " is at position " +
              std::to_string(s->published.position);
  }
  return Status::DeadlineExceeded("position " + std::to_string(position) +
                                  " was not applied within " + Ms(timeout) + ": projection " +
                                  behind);
}

}  // namespace strato::projections
