#include "projections/runner/rebuild.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <span>
#include <thread>

#include "core/domain/domain_event.h"
#include "core/log.h"
#include "events/pg/log_scan.h"
#include "events/pg/pg.h"

namespace strato::projections {

using events::PgConnection;
using events::QuoteIdentifier;
using events::RecordedEvent;
using Steady = std::chrono::steady_clock;

namespace {

// Serialises rebuilds across processes (they share the strato_rebuild schema).
constexpr int64_t kRebuildLockKey = 0x5354524154'4f0004;

// Events the swap transaction may still have to fold; more than this is caught up first.
constexpr int64_t kMaxLockedCatchUp = 20000;

// Sessions writing the bulk fold's rows and building its indexes at once, and the memory each
// may sort an index's keys in before spilling them to disk.
constexpr int kWriters = 2;
constexpr const char* kWriterSettings = "SET maintenance_work_mem = '512MB';";

constexpr const char* kEnsureCheckpointsSql =
    "INSERT INTO projection_checkpoints (name, position, updated_at) "
    "SELECT n, 0, now() FROM unnest($1::text[]) AS n ON CONFLICT (name) DO NOTHING";
constexpr const char* kLockCheckpointSql =
    "SELECT position, coalesce(error, ''), coalesce(error_position, 0) "
    "FROM projection_checkpoints WHERE name = $1 FOR UPDATE";
constexpr const char* kSetCheckpointSql =
    "UPDATE projection_checkpoints SET position = $2, updated_at = now(), error = NULL, "
    "error_position = NULL WHERE name = $1";
// An index's definition without its own name and its table's (to match copies by shape).
constexpr const char* kIndexesSql =
    "SELECT c.relname, regexp_replace(pg_get_indexdef(i.indexrelid), "
    "'^(CREATE (UNIQUE )?INDEX )\\S+ ON \\S+ ', '\\1ON ') "
    "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = $1::regclass "
    "ORDER BY c.relname";

std::string Qualified(const std::string& schema, const std::string& table) {
  return QuoteIdentifier(schema) + "." + QuoteIdentifier(table);
}

struct Table {
  std::string name;
  size_t projection = 0;  // index of its owner
};

// A table's row count and the sum of its rows' hashes, as text (Rebuilder::DigestColumns).
using Digest = std::pair<std::string, std::string>;

// The sessions that write a bulk fold's rows into the fresh tables and build their indexes,
// kWriters at once (so that PostgreSQL copies one table while it indexes another, and copies
// rows while the log is still being folded). Tasks run in queue order, each on whichever
// session is free; a task may queue more. Each COPY and each index is its own transaction:
// nothing is visible before the swap. After the first failure no further task starts.
// Thread-safe; the tasks run on the writers' own threads.
class Writers {
 public:
  using Task = std::function<Status(PgConnection&)>;

  ~Writers() { (void)Finish(Status::Internal("the bulk fold stopped")); }

  // Connects the sessions (running `settings` on each) and starts their threads.
  Status Start(const std::string& url, const std::string& settings) {
    for (int i = 0; i < kWriters; ++i) {
      auto c = PgConnection::Connect(url);
      if (!c.ok()) return c.status().WithContext("rebuild: a writer session");
      STRATO_RETURN_IF_ERROR((*c)->Run(settings));
      sessions_.push_back(std::move(*c));
    }
    for (auto& c : sessions_) threads_.emplace_back([this, &c] { Work(*c); });
    return Status::Ok();
  }
  void Push(Task t) { Queue(std::move(t), /*front=*/false); }
  void PushFront(Task t) { Queue(std::move(t), /*front=*/true); }
  // The first failure so far (OK when none).
  Status status() {
    std::lock_guard lock(mu_);
    return failed_;
  }
  // Runs what is queued (and what it queues) to the end, then stops the sessions' threads;
  // with a non-OK `stop`, drops what is queued instead.
  Status Finish(Status stop = Status::Ok()) {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
      if (!stop.ok() && failed_.ok()) failed_ = stop;
      changed_.notify_all();
    }
    for (std::thread& t : threads_) t.join();
    threads_.clear();
    return status();
  }

 private:
  void Queue(Task t, bool front) {
    std::lock_guard lock(mu_);
    if (front) {
      tasks_.push_front(std::move(t));
    } else {
      tasks_.push_back(std::move(t));
    }
    changed_.notify_one();
  }
  void Work(PgConnection& c) {
    std::unique_lock lock(mu_);
    for (;;) {
      // An empty queue is the end only once no more tasks can come: closed, none running.
      changed_.wait(
          lock, [&] { return !failed_.ok() || !tasks_.empty() || (closing_ && running_ == 0); });
      if (!failed_.ok() || tasks_.empty()) {
        changed_.notify_all();
        return;
      }
      Task task = std::move(tasks_.front());
      tasks_.pop_front();
      ++running_;
      lock.unlock();
      Status s = task(c);
      lock.lock();
      --running_;
      if (!s.ok() && failed_.ok()) failed_ = s;
      changed_.notify_all();
    }
  }

  std::vector<std::unique_ptr<PgConnection>> sessions_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Task> tasks_;
  int running_ = 0;
  bool closing_ = false;
  Status failed_;
};

class Rebuilder {
 public:
  Rebuilder(events::EventStore& store, std::vector<std::unique_ptr<Projection>> projections,
            const RebuildOptions& options)
      : store_(store), projections_(std::move(projections)), options_(options) {
    if (options_.batch_size == 0) options_.batch_size = 1;
  }
  Rebuilder(const Rebuilder&) = delete;
  Rebuilder& operator=(const Rebuilder&) = delete;
  ~Rebuilder() {
    if (retire_.joinable()) retire_.join();
  }

  Result<RebuildReport> Run() {
    start_ = phase_start_ = Steady::now();
    STRATO_RETURN_IF_ERROR(Prepare());
    Phase("prepare");
    auto total = store_.LastPosition();
    if (!total.ok()) return total.status().WithContext("rebuild");
    total_ = *total;
    report_.path = "batch";
    if (Status bulk = BulkFold(); bulk.ok()) {
      report_.path = "bulk";
    } else {
      if (bulk.code() == Code::kUnavailable) return bulk.WithContext("rebuild");
      report_.bulk_fallback = bulk.message();
      log::Warn("rebuild: the bulk fold failed, folding batch by batch",
                {{"error", bulk.message()}});
      STRATO_RETURN_IF_ERROR(CreateFreshTables());
      position_ = 0;
      stage_.clear();  // folding again
    }
    if (position_ < total_) {
      STRATO_RETURN_IF_ERROR(Fold(total_, /*own_transactions=*/true));
      Phase("fold");
    }
    // Appends went on meanwhile: catch up outside the lock until little is left.
    Stage("catching up");
    for (int pass = 0; pass < 5; ++pass) {
      auto last = store_.LastPosition();
      if (!last.ok()) return last.status().WithContext("rebuild");
      if (*last - position_ <= kMaxLockedCatchUp) break;
      total_ = *last;
      STRATO_RETURN_IF_ERROR(Fold(total_, /*own_transactions=*/true));
    }
    Phase("catch up");
    Status swapped = Swap();
    if (!swapped.ok()) {
      if (conn_->Healthy()) (void)conn_->Run("ROLLBACK");
      return swapped.WithContext("rebuild (the live read models are unchanged)");
    }
    report_.projections = projections_.size();
    report_.position = position_;
    report_.events = position_;
    report_.elapsed = Steady::now() - start_;
    return report_;
  }

 private:
  Status Prepare() {
    std::set<std::string> seen;
    for (size_t i = 0; i < projections_.size(); ++i) {
      for (const std::string& t : projections_[i]->tables()) {
        if (!seen.insert(t).second) {
          return Status::InvalidArgument("two projections own the table " + t);
        }
        tables_.push_back({t, i});
        report_.tables.push_back(t);
      }
    }
    auto c = PgConnection::Connect(options_.database_url);
    if (!c.ok()) return c.status().WithContext("rebuild");
    conn_ = std::move(*c);
    auto locked =
        conn_->Exec("SELECT pg_try_advisory_lock($1::bigint)", {std::to_string(kRebuildLockKey)});
    if (!locked.ok()) return locked.status().WithContext("rebuild");
    if (locked->Get(0, 0) != "t") {
      return Status::FailedPrecondition("another strato replay is rebuilding the read models");
    }
    auto schema = conn_->Exec("SELECT current_schema()");
    if (!schema.ok()) return schema.status().WithContext("rebuild");
    if (schema->IsNull(0, 0)) return Status::FailedPrecondition("no current schema");
    live_ = std::string(schema->Get(0, 0));
    if (live_ == kRebuildSchema) return Status::FailedPrecondition("search_path is the rebuild's");

    events::PgArray regclasses;
    for (const Table& t : tables_) {
      auto exists = conn_->Exec("SELECT to_regclass($1) IS NOT NULL", {Qualified(live_, t.name)});
      if (!exists.ok()) return exists.status().WithContext("rebuild");
      if (exists->Get(0, 0) != "t") {
        return Status::FailedPrecondition("the read model table " + live_ + "." + t.name +
                                          " does not exist (run strato migrate)");
      }
      regclasses.Add(Qualified(live_, t.name));
    }
    auto fks = conn_->Exec(
        "SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE contype = 'f' AND "
        "(conrelid = ANY($1::regclass[]) OR confrelid = ANY($1::regclass[]))",
        {regclasses.Literal()});
    if (!fks.ok()) return fks.status().WithContext("rebuild");
    if (fks->rows() > 0) {
      return Status::FailedPrecondition("the read model table " + std::string(fks->Get(0, 0)) +
                                        " has the foreign key " + std::string(fks->Get(0, 1)) +
                                        ", which a rebuild into fresh tables cannot keep");
    }

    STRATO_RETURN_IF_ERROR(CreateFreshTables());
    return conn_->Run(SessionSettings()).WithContext("rebuild");
  }

  // An empty strato_rebuild schema with a copy of every live table, indexes included.
  Status CreateFreshTables() {
    std::string ddl = "SET client_min_messages = warning; DROP SCHEMA IF EXISTS " +
                      QuoteIdentifier(kRebuildSchema) + " CASCADE; CREATE SCHEMA " +
                      QuoteIdentifier(kRebuildSchema) + ";";
    for (const Table& t : tables_) {
      // Without autovacuum until the swap: its VACUUM of a table being filled would only hold up
      // the index builds (which wait for it to give way).
      ddl += "CREATE TABLE " + Qualified(kRebuildSchema, t.name) + " (LIKE " +
             Qualified(live_, t.name) + " INCLUDING ALL) WITH (autovacuum_enabled = false);";
    }
    return conn_->Run(ddl).WithContext("rebuild: creating the fresh tables");
  }

  // What every session of the rebuild runs with: unqualified names are the fresh tables, and
  // nothing is visible (or needs to be durable) before the swap.
  std::string SessionSettings() const {
    return "SET search_path = " + QuoteIdentifier(kRebuildSchema) + ", " + QuoteIdentifier(live_) +
           "; SET synchronous_commit = off; SET statement_timeout = 0;";
  }

  // The initial fold through every projection's BulkFold (rebuild.h), of the whole log the
  // reading session's snapshot sees (at least up to total_). Not OK (with the fresh tables in
  // an unknown state) when a projection has none or one fails.
  //
  // The fresh tables' indexes and constraints are dropped first. The log is read with one COPY
  // (events/pg/log_scan.h); each event's data is parsed once and folded by every projection in
  // turn; rows a fold says are final go to the writers every batch. At the end each fold
  // writes the rest, and each index is built again (same definition, same name) as soon as
  // its table is complete.
  Status BulkFold() {
    std::vector<std::unique_ptr<projections::BulkFold>> folds;
    for (const auto& p : projections_) {
      folds.push_back(p->StartBulk());
      if (!folds.back())
        return Status::FailedPrecondition("projection " + p->name() + " has no bulk fold");
    }
    auto indexes = DropIndexes();  // per projection: ADD CONSTRAINT ..., CREATE INDEX ...
    if (!indexes.ok()) return indexes.status();
    Writers writers;
    STRATO_RETURN_IF_ERROR(
        writers.Start(options_.database_url, SessionSettings() + kWriterSettings));
    auto copy = [](CopyChunk chunk) {
      return [chunk = std::move(chunk)](PgConnection& c) {
        return c.CopyIn(chunk.copy_sql, chunk.rows);
      };
    };

    // The log is read on a session of its own (a failed fold cancels its COPY there).
    auto reader = PgConnection::Connect(options_.database_url);
    if (!reader.ok()) return reader.status().WithContext("rebuild: the reading session");
    // One statement reads the whole log: no statement_timeout of the role's applies.
    STRATO_RETURN_IF_ERROR((*reader)->Run("SET search_path = " + QuoteIdentifier(live_) +
                                          "; SET statement_timeout = 0"));
    const int64_t batch = static_cast<int64_t>(std::max<size_t>(options_.batch_size, 20000));
    auto hand_over = [&] {
      for (auto& fold : folds) {
        for (CopyChunk& chunk : fold->TakeFinal()) writers.Push(copy(std::move(chunk)));
      }
    };
    domain::JsonParser parser;
    int64_t at = 0;
    Status scanned = events::ScanLog(**reader, [&](const RecordedEvent& e) -> Status {
      if (e.position <= at) {
        return Status::Internal("rebuild: the log went back from position " + std::to_string(at) +
                                " to " + std::to_string(e.position));
      }
      const FoldEvent fold_event{e, parser.Parse(e.data)};
      for (size_t i = 0; i < folds.size(); ++i) {
        Status added = folds[i]->Add(fold_event);
        if (!added.ok()) {
          return added.WithContext("projection " + projections_[i]->name() + " at position " +
                                   std::to_string(e.position));
        }
      }
      at = e.position;
      if (at % batch == 0) {
        hand_over();
        STRATO_RETURN_IF_ERROR(writers.status());
        position_ = at;  // for the progress report; reset by the caller on failure
        Progress();
      }
      return Status::Ok();
    });
    STRATO_RETURN_IF_ERROR(scanned);
    hand_over();
    if (position_ != at) {
      position_ = at;
      Progress();
    }
    Phase("fold");
    Stage("writing the tables and building their indexes");
    for (size_t i = 0; i < folds.size(); ++i) {
      writers.Push([&, i](PgConnection& c) -> Status {
        STRATO_RETURN_IF_ERROR(c.Run("BEGIN"));
        Status s = folds[i]->Write(c);
        if (!s.ok()) return s.WithContext("projection " + projections_[i]->name());
        STRATO_RETURN_IF_ERROR(c.Run("COMMIT"));
        // At the front of the queue, in their order: a constraint (which locks its table
        // against the index builds) goes first.
        const auto& ddls = (*indexes)[i];
        for (auto ddl = ddls.rbegin(); ddl != ddls.rend(); ++ddl) {
          writers.PushFront([ddl = *ddl](PgConnection& c2) { return c2.Run(ddl); });
        }
        // The comparison's digest of each fresh table, now that it is written, while the
        // other session builds indexes (Compare uses it if nothing is folded after this).
        for (const Table& t : tables_) {
          if (t.projection != i) continue;
          writers.Push([this, table = t.name](PgConnection& c2) -> Status {
            auto d = c2.Exec("SELECT " + DigestColumns() + " FROM " +
                             Qualified(kRebuildSchema, table) + " x");
            if (!d.ok()) return d.status().WithContext("summing up the rows of " + table);
            std::lock_guard lock(digests_mu_);
            fresh_digests_[table] = {std::string(d->Get(0, 0)), std::string(d->Get(0, 1))};
            return Status::Ok();
          });
        }
        return Status::Ok();
      });
    }
    STRATO_RETURN_IF_ERROR(writers.Finish());
    digested_at_ = at;
    // Freeing a fold's rows (hundreds of thousands of small allocations) takes a while: not
    // on a writer between its table's COPY and its indexes, but while the comparison runs.
    retire_ = std::thread([retired = std::move(folds)]() mutable { retired.clear(); });
    Phase("write");
    position_ = at;
    return Status::Ok();
  }

  // Drops every index of the fresh tables, so that COPY only appends rows and each index is
  // built once by sorting: the primary keys and unique constraints (whose checks then happen
  // when they are added again) and the plain indexes. Returns, per projection, the statements
  // that make them again, under the same names, constraints first. Exclusion constraints stay.
  Result<std::vector<std::vector<std::string>>> DropIndexes() {
    std::vector<std::vector<std::string>> out(projections_.size());
    for (const Table& t : tables_) {
      const std::string table = Qualified(kRebuildSchema, t.name);
      auto constraints = conn_->Exec(
          "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
          "WHERE conrelid = $1::regclass AND contype IN ('p', 'u') ORDER BY conname",
          {table});
      if (!constraints.ok()) {
        return constraints.status().WithContext("listing the constraints of " + t.name);
      }
      for (int i = 0; i < constraints->rows(); ++i) {
        const std::string name = QuoteIdentifier(std::string(constraints->Get(i, 0)));
        STRATO_RETURN_IF_ERROR(conn_->Run("ALTER TABLE " + table + " DROP CONSTRAINT " + name));
        out[t.projection].push_back("ALTER TABLE " + table + " ADD CONSTRAINT " + name + " " +
                                    std::string(constraints->Get(i, 1)));
      }
      auto indexes = conn_->Exec(
          "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
          "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = $1::regclass "
          "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
          "ORDER BY c.relname",
          {table});
      if (!indexes.ok()) return indexes.status().WithContext("listing the indexes of " + t.name);
      for (int i = 0; i < indexes->rows(); ++i) {
        STRATO_RETURN_IF_ERROR(
            conn_->Run("DROP INDEX " + Qualified(kRebuildSchema, std::string(indexes->Get(i, 0)))));
        out[t.projection].emplace_back(indexes->Get(i, 1));
      }
    }
    return out;
  }

  Status UseSchema(const std::string& schema, bool local) {
    std::string sql = std::string(local ? "SET LOCAL" : "SET") + " search_path = ";
    if (schema == kRebuildSchema) sql += QuoteIdentifier(kRebuildSchema) + ", ";
    sql += QuoteIdentifier(live_);
    return conn_->Run(sql);
  }

  // Names the event a projection refuses, by trying the batch one event at a time.
  Status Pinpoint(Projection& p, std::span<const RecordedEvent> batch, const Status& batch_error) {
    (void)conn_->Run("ROLLBACK");
    if (!conn_->Run("BEGIN").ok()) return batch_error;
    Status result = batch_error.WithContext("projection " + p.name());
    for (const RecordedEvent& e : batch) {
      Status s = p.Apply(*conn_, e);
      if (!s.ok()) {
        result = s.WithContext("projection " + p.name() + " cannot apply " + e.type +
                               " at position " + std::to_string(e.position));
        break;
      }
    }
    (void)conn_->Run("ROLLBACK");
    return result;
  }

  // Applies `batch` to the projections in `which` (all when empty), on the open transaction.
  Status Apply(std::span<const RecordedEvent> batch, const std::vector<size_t>& which,
               bool pinpoint) {
    auto apply_one = [&](size_t i) -> Status {
      Status s = projections_[i]->ApplyBatch(*conn_, batch);
      if (s.ok()) return s;
      if (pinpoint) return Pinpoint(*projections_[i], batch, s);
      return s.WithContext("projection " + projections_[i]->name() + " (positions " +
                           std::to_string(batch.front().position) + " to " +
                           std::to_string(batch.back().position) + ")");
    };
    if (which.empty()) {
      for (size_t i = 0; i < projections_.size(); ++i) STRATO_RETURN_IF_ERROR(apply_one(i));
    } else {
      for (size_t i : which) STRATO_RETURN_IF_ERROR(apply_one(i));
    }
    return Status::Ok();
  }

  // Folds the events after `*from` up to `to` into the tables the search_path names; with
  // own_transactions one transaction per batch, else on the transaction already open.
  Status FoldRange(int64_t* from, int64_t to, bool own_transactions,
                   const std::vector<size_t>& which, bool report_progress) {
    auto read = [this, to](int64_t after) {
      size_t n = static_cast<size_t>(std::min<int64_t>(to - after, options_.batch_size));
      return store_.ReadAll(after, n);
    };
    if (*from >= to) return Status::Ok();
    auto next = std::async(std::launch::async, read, *from);
    while (*from < to) {
      auto batch = next.get();
      if (!batch.ok()) return batch.status().WithContext("rebuild: reading the log");
      if (batch->empty()) break;  // the log ended before `to` (cannot happen: positions are dense)
      const int64_t last = batch->back().position;
      if (last < to) next = std::async(std::launch::async, read, last);
      if (own_transactions) STRATO_RETURN_IF_ERROR(conn_->Run("BEGIN"));
      Status s = Apply(*batch, which, own_transactions);
      if (s.ok() && own_transactions) s = conn_->Run("COMMIT");
      if (!s.ok()) {
        if (next.valid()) (void)next.get();
        return s;
      }
      *from = last;
      if (report_progress) Progress();
    }
    if (next.valid()) (void)next.get();
    return Status::Ok();
  }

  Status Fold(int64_t to, bool own_transactions) {
    return FoldRange(&position_, to, own_transactions, {}, /*report_progress=*/true);
  }

  // Adds the time since the last call to the phase `name` of the report.
  void Phase(const std::string& name) {
    const Steady::time_point now = Steady::now();
    auto it = std::find_if(report_.phases.begin(), report_.phases.end(),
                           [&](const RebuildPhase& p) { return p.name == name; });
    if (it == report_.phases.end()) it = report_.phases.insert(it, RebuildPhase{name, {}});
    it->elapsed += now - phase_start_;
    phase_start_ = now;
  }

  // Says that `what` begins (RebuildProgress::stage).
  void Stage(std::string what) {
    stage_ = std::move(what);
    Progress();
  }

  void Progress() {
    if (!options_.on_progress) return;
    RebuildProgress p;
    p.stage = stage_;
    p.done = position_;
    p.total = std::max(total_, position_);
    double secs = std::chrono::duration<double>(Steady::now() - start_).count();
    p.events_per_second = secs > 0 ? static_cast<double>(p.done) / secs : 0;
    if (p.events_per_second > 0 && p.total > p.done) {
      p.eta_seconds = static_cast<double>(p.total - p.done) / p.events_per_second;
    }
    options_.on_progress(p);
  }

  // The rows of `live.T` and `strato_rebuild.T` that the other lacks (as multisets). Each
  // side is first summed up in one scan: its row count and the sum of its rows' 64-bit hashes.
  // A row's hash is hash_record_extended (each column hashed by its type's hash function, so
  // equal values hash alike) hashed again: hash_record_extended is a linear mix of the
  // columns' hashes, so the plain sum would only compare each column's values as a multiset
  // and miss values swapped between rows. Only when the sums differ are the rows' texts
  // matched up (EXCEPT ALL, which sorts both sides) to count the rows each side lacks.
  //
  // The fresh side's digest was summed up by a writer as soon as its table was written, when
  // nothing was folded into the fresh tables since (`at` is where the fresh tables are); the
  // live side's may have been summed up by another session already (`live`, LiveDigests).
  Result<TableDifference> Compare(const std::string& table, int64_t at, const Digest* live) {
    const std::string a = Qualified(live_, table), b = Qualified(kRebuildSchema, table);
    auto digest = [](const std::string& t) {
      return "(SELECT " + DigestColumns() + " FROM " + t + " x)";
    };
    auto known = fresh_digests_.find(table);
    const bool fresh_known = at == digested_at_ && known != fresh_digests_.end();
    bool equal = false;
    if (live != nullptr && fresh_known) {
      equal = *live == known->second;  // both as sum() and count() print them
    } else {
      auto same =
          live != nullptr ? conn_->Exec("SELECT r.n = $1::bigint AND r.h = $2::numeric FROM " +
                                            digest(b) + " r",
                                        {live->first, live->second})
          : fresh_known   ? conn_->Exec("SELECT l.n = $1::bigint AND l.h = $2::numeric FROM " +
                                            digest(a) + " l",
                                        {known->second.first, known->second.second})
                        : conn_->Exec("SELECT l.n = r.n AND l.h = r.h FROM " + digest(a) + " l, " +
                                      digest(b) + " r");
      if (!same.ok()) return same.status().WithContext("comparing " + table);
      equal = same->Get(0, 0) == "t";
    }
    if (equal) return TableDifference{table, 0, 0};
    auto r = conn_->Exec("SELECT (SELECT count(*) FROM (SELECT x::text FROM " + a +
                         " x EXCEPT ALL SELECT y::text FROM " + b +
                         " y) d), (SELECT count(*) FROM (SELECT y::text FROM " + b +
                         " y EXCEPT ALL SELECT x::text FROM " + a + " x) d)");
    if (!r.ok()) return r.status().WithContext("comparing " + table);
    return TableDifference{table, r->GetInt64(0, 0), r->GetInt64(0, 1)};
  }

  // A table's row count (n) and the sum of its rows' hashes (h), as Compare says, over `x`.
  static std::string DigestColumns() {
    return "count(*) AS n, coalesce(sum(hashint8extended(hash_record_extended(x, 0), 0)), 0) AS "
           "h";
  }

  // Index name -> shape, for the indexes of `schema.table`.
  Result<std::map<std::string, std::string>> Indexes(const std::string& schema,
                                                     const std::string& table) {
    auto r = conn_->Exec(kIndexesSql, {Qualified(schema, table)});
    if (!r.ok()) return r.status().WithContext("listing the indexes of " + table);
    std::map<std::string, std::string> out;
    for (int i = 0; i < r->rows(); ++i) out[std::string(r->Get(i, 0))] = std::string(r->Get(i, 1));
    return out;
  }

  // Replaces live.T by strato_rebuild.T, giving the fresh indexes (and the constraints they
  // back) the live ones' names, so later migrations find them.
  Status Replace(const std::string& table) {
    auto old_indexes = Indexes(live_, table);
    if (!old_indexes.ok()) return old_indexes.status();
    STRATO_RETURN_IF_ERROR(conn_->Run("DROP TABLE " + Qualified(live_, table)));
    STRATO_RETURN_IF_ERROR(conn_->Run("ALTER TABLE " + Qualified(kRebuildSchema, table) +
                                      " SET SCHEMA " + QuoteIdentifier(live_)));
    STRATO_RETURN_IF_ERROR(
        conn_->Run("ALTER TABLE " + Qualified(live_, table) + " RESET (autovacuum_enabled)"));
    auto new_indexes = Indexes(live_, table);
    if (!new_indexes.ok()) return new_indexes.status();
    std::vector<std::pair<std::string, std::string>> renames;  // fresh name -> live name
    std::set<std::string> taken;
    for (const auto& [fresh, shape] : *new_indexes) {
      for (const auto& [old, old_shape] : *old_indexes) {
        if (old_shape == shape && !taken.count(old)) {
          taken.insert(old);
          if (old != fresh) renames.emplace_back(fresh, old);
          break;
        }
      }
    }
    // Two steps, in case a fresh name is another index's live name.
    for (size_t i = 0; i < renames.size(); ++i) {
      STRATO_RETURN_IF_ERROR(conn_->Run("ALTER INDEX " + Qualified(live_, renames[i].first) +
                                        " RENAME TO " +
                                        QuoteIdentifier("strato_rebuild_" + std::to_string(i))));
    }
    for (size_t i = 0; i < renames.size(); ++i) {
      STRATO_RETURN_IF_ERROR(conn_->Run("ALTER INDEX " +
                                        Qualified(live_, "strato_rebuild_" + std::to_string(i)) +
                                        " RENAME TO " + QuoteIdentifier(renames[i].second)));
    }
    return Status::Ok();
  }

  // The digests of the live tables `tables` (committed, unchanged while the checkpoints are
  // locked), summed up by this session and a second one at once, each taking the next table.
  Result<std::map<std::string, Digest>> LiveDigests(const std::vector<std::string>& tables) {
    std::map<std::string, Digest> out;
    std::mutex mu;
    std::atomic<size_t> next{0};
    auto work = [&](PgConnection& c) -> Status {
      for (size_t i; (i = next.fetch_add(1)) < tables.size();) {
        auto d =
            c.Exec("SELECT " + DigestColumns() + " FROM " + Qualified(live_, tables[i]) + " x");
        if (!d.ok()) return d.status().WithContext("summing up the rows of " + tables[i]);
        std::lock_guard lock(mu);
        out[tables[i]] = {std::string(d->Get(0, 0)), std::string(d->Get(0, 1))};
      }
      return Status::Ok();
    };
    std::future<Status> other;
    if (tables.size() > 1 && helper_ != nullptr) {
      other = std::async(std::launch::async, [&] { return work(*helper_); });
    }
    Status mine = work(*conn_);
    Status theirs = other.valid() ? other.get() : Status::Ok();
    STRATO_RETURN_IF_ERROR(mine);
    STRATO_RETURN_IF_ERROR(theirs);
    return out;
  }

  Status Swap() {
    // The second session LiveDigests uses (without one, this session sums up every table).
    if (auto c = PgConnection::Connect(options_.database_url); c.ok()) {
      if ((*c)->Run("SET statement_timeout = 0").ok()) helper_ = std::move(*c);
    }
    STRATO_RETURN_IF_ERROR(conn_->Run("BEGIN"));
    STRATO_RETURN_IF_ERROR(conn_->Run("SET LOCAL synchronous_commit = on"));
    events::PgArray names;
    for (const auto& p : projections_) names.Add(p->name());
    auto ensured = conn_->Exec(kEnsureCheckpointsSql, {names.Literal()});
    if (!ensured.ok()) return ensured.status().WithContext("creating checkpoints");
    // In registry order, as the runner takes them: its transactions wait, none deadlocks.
    struct Live {
      int64_t position = 0;
      std::string error;
      int64_t error_position = 0;
    };
    std::vector<Live> live;
    for (const auto& p : projections_) {
      auto row = conn_->Exec(kLockCheckpointSql, {p->name()});
      if (!row.ok()) return row.status().WithContext("locking the checkpoint of " + p->name());
      if (row->rows() != 1) return Status::Internal("the checkpoint of " + p->name() + " is gone");
      live.push_back({row->GetInt64(0, 0), std::string(row->Get(0, 1)), row->GetInt64(0, 2)});
    }
    // With every checkpoint row locked no runner can change the live tables (it locks a
    // projection's checkpoint row before it writes its tables, and holds it to its COMMIT), so
    // they are only locked against readers when they are replaced, after the comparison.
    auto end = conn_->Exec("SELECT coalesce(max(global_position), 0) FROM events");
    if (!end.ok()) return end.status().WithContext("reading the end of the log");
    int64_t target = end->GetInt64(0, 0);
    for (const Live& l : live) target = std::max(target, l.position);
    total_ = std::max(total_, target);
    STRATO_RETURN_IF_ERROR(Fold(target, /*own_transactions=*/false));
    Phase("catch up");

    Stage("comparing with the live tables");
    // The live tables of the projections already at the target are summed up on two sessions
    // at once (this one and another), before the rest is compared here.
    std::vector<std::string> ready;
    for (const Table& t : tables_) {
      const Live& l = live[t.projection];
      if (l.position != 0 && l.position == target) ready.push_back(t.name);
    }
    auto live_digests = LiveDigests(ready);
    if (!live_digests.ok()) return live_digests.status();
    Phase("compare");
    for (size_t i = 0; i < projections_.size(); ++i) {
      const std::string& name = projections_[i]->name();
      if (live[i].position == 0) {
        report_.not_compared.push_back("projection " + name + " had not run yet");
        continue;
      }
      if (live[i].position < target) {
        // Bring the live tables to the same position, with the same code the runner runs.
        STRATO_RETURN_IF_ERROR(UseSchema(live_, /*local=*/true));
        STRATO_RETURN_IF_ERROR(conn_->Run("SAVEPOINT strato_live"));
        int64_t from = live[i].position;
        Status s = FoldRange(&from, target, false, {i}, /*report_progress=*/false);
        if (!s.ok()) {
          STRATO_RETURN_IF_ERROR(conn_->Run("ROLLBACK TO SAVEPOINT strato_live"));
          std::string why =
              live[i].error.empty()
                  ? s.message()
                  : live[i].error + " (at position " + std::to_string(live[i].error_position) + ")";
          report_.not_compared.push_back("projection " + name + " had stopped at position " +
                                         std::to_string(live[i].position) + ": " + why);
        }
        STRATO_RETURN_IF_ERROR(conn_->Run("RELEASE SAVEPOINT strato_live"));
        STRATO_RETURN_IF_ERROR(UseSchema(kRebuildSchema, /*local=*/true));
        Phase("catch up");
        if (!s.ok()) continue;
      }
      for (const Table& t : tables_) {
        if (t.projection != i) continue;
        auto known = live_digests->find(t.name);
        auto d = Compare(t.name, target, known == live_digests->end() ? nullptr : &known->second);
        if (!d.ok()) return d.status();
        if (d->only_live != 0 || d->only_rebuilt != 0) report_.differences.push_back(*d);
      }
      Phase("compare");
    }

    Stage("swapping the tables in");
    if (!tables_.empty()) {
      std::string lock = "LOCK TABLE ";
      for (size_t i = 0; i < tables_.size(); ++i) {
        lock += (i ? ", " : "") + Qualified(live_, tables_[i].name);
      }
      STRATO_RETURN_IF_ERROR(conn_->Run(lock + " IN ACCESS EXCLUSIVE MODE"));
    }
    for (const Table& t : tables_) {
      Status s = Replace(t.name);
      if (!s.ok()) return s.WithContext("replacing " + t.name);
    }
    for (const auto& p : projections_) {
      auto r = conn_->Exec(kSetCheckpointSql, {p->name(), std::to_string(target)});
      if (!r.ok()) return r.status().WithContext("setting the checkpoint of " + p->name());
    }
    STRATO_RETURN_IF_ERROR(conn_->Run("DROP SCHEMA " + QuoteIdentifier(kRebuildSchema)));
    STRATO_RETURN_IF_ERROR(conn_->Run("COMMIT").WithContext("committing the swap"));
    (void)UseSchema(kRebuildSchema, /*local=*/false);  // as before; the session ends soon
    position_ = target;
    Phase("swap");
    log::Info("read models rebuilt and swapped in", {{"position", target}});
    return Status::Ok();
  }

  events::EventStore& store_;
  std::vector<std::unique_ptr<Projection>> projections_;
  RebuildOptions options_;
  std::thread retire_;  // frees the bulk folds' rows (BulkFold)
  // Each fresh table's digest (n, h as text) summed up by a writer (BulkFold), and the
  // position the fresh tables were at then (-1: none).
  std::mutex digests_mu_;
  std::map<std::string, Digest> fresh_digests_;
  int64_t digested_at_ = -1;
  std::vector<Table> tables_;
  std::unique_ptr<PgConnection> conn_;
  std::unique_ptr<PgConnection> helper_;  // Swap's second session (LiveDigests)
  std::string live_;
  int64_t position_ = 0;  // the fresh tables hold every event up to here
  int64_t total_ = 0;
  Steady::time_point start_;
  Steady::time_point phase_start_;  // when the phase being timed began
  std::string stage_;               // RebuildProgress::stage
  RebuildReport report_;
};

}  // namespace

Result<RebuildReport> Rebuild(events::EventStore& store,
                              std::vector<std::unique_ptr<Projection>> projections,
                              const RebuildOptions& options) {
  if (options.database_url.empty()) {
    return Status::InvalidArgument("a rebuild needs a database URL");
  }
  Rebuilder r(store, std::move(projections), options);
  return r.Run();
}

}  // namespace strato::projections
