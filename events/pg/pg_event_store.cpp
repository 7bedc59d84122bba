#include "events/pg/pg_event_store.h"

#include <map>
#include <optional>

#include "core/log.h"
#include "events/log/hash_chain.h"
#include "events/pg/jsonb_text.h"
#include "events/pg/migrator.h"

namespace strato::events {

struct PgEventStore::Pending {
  AppendRequest request;
  std::promise<Result<AppendResult>> promise;
  std::optional<Result<AppendResult>> result;  // filled by TryBatch
  size_t event_count = 0;
};

namespace {

// A timestamp literal PostgreSQL parses exactly, to the microsecond.
std::string MicrosToSql(int64_t us) {
  return FormatRfc3339(FromUnixMicros(us));
}

constexpr const char* kSelectColumns =
    "SELECT global_position, stream_id, stream_version, event_id::text, type, data::text, "
    "metadata::text, (extract(epoch FROM recorded_at) * 1000000)::bigint, encode(hash, 'hex'), "
    "command_id::text "
    "FROM events ";

Result<std::vector<RecordedEvent>> RowsToEvents(const PgResult& r) {
  std::vector<RecordedEvent> out;
  out.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    RecordedEvent e;
    e.position = r.GetInt64(i, 0);
    e.stream_id = std::string(r.Get(i, 1));
    e.stream_version = r.GetInt64(i, 2);
    auto id = Uuid::Parse(r.Get(i, 3));
    if (!id.ok()) return id.status();
    e.event_id = *id;
    e.type = std::string(r.Get(i, 4));
    e.data = std::string(r.Get(i, 5));
    e.metadata = std::string(r.Get(i, 6));
    e.recorded_at = FromUnixMicros(r.GetInt64(i, 7));
    auto h = HashFromHex(r.Get(i, 8));
    if (!h.ok()) return h.status();
    e.hash = *h;
    if (!r.IsNull(i, 9)) {
      auto cmd = Uuid::Parse(r.Get(i, 9));
      if (!cmd.ok()) return cmd.status();
      e.command_id = *cmd;
    }
    out.push_back(std::move(e));
  }
  return out;
}

// LISTENs on kAppendChannel; reconnects on its own when the connection drops.
class PgAppendWaiter final : public AppendWaiter {
 public:
  explicit PgAppendWaiter(std::string url) : url_(std::move(url)) {}
  Status Connect() {
    auto c = PgConnection::Connect(url_);
    if (!c.ok()) return c.status();
    STRATO_RETURN_IF_ERROR((*c)->Listen(kAppendChannel));
    conn_ = std::move(*c);
    return Status::Ok();
  }
  Status Wait(int64_t, std::chrono::milliseconds timeout) override {
    if (!conn_ || !conn_->Healthy()) {
      conn_.reset();
      Status s = Connect();
      if (!s.ok()) {
        std::this_thread::sleep_for(timeout);
        return s;
      }
      return Status::Ok();  // we may have missed a notification while away: let the caller read
    }
    auto r = conn_->WaitForNotify(timeout);
    if (!r.ok()) {
      conn_.reset();
      return r.status();
    }
    return Status::Ok();
  }

 private:
  std::string url_;
  std::unique_ptr<PgConnection> conn_;
};

}  // namespace

PgEventStore::PgEventStore(std::string url, PgEventStoreOptions options)
    : url_(std::move(url)),
      options_(options),
      clock_(options.clock ? *options.clock : SystemClock::Instance()) {}

Result<std::unique_ptr<PgEventStore>> PgEventStore::Open(const std::string& database_url,
                                                         PgEventStoreOptions options) {
  auto conn = PgConnection::Connect(database_url);
  if (!conn.ok()) return conn.status();
  STRATO_RETURN_IF_ERROR(CheckMigrated(**conn));
  auto store = std::unique_ptr<PgEventStore>(new PgEventStore(database_url, options));
  store->writer_conn_ = std::move(*conn);
  store->writer_ = std::thread([s = store.get()] { s->WriterLoop(); });
  return store;
}

PgEventStore::~PgEventStore() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

Result<AppendResult> PgEventStore::Append(AppendRequest request) {
  STRATO_RETURN_IF_ERROR(ValidateAppendRequest(request));
  Pending p;
  for (const auto& s : request.streams) p.event_count += s.events.size();
  p.request = std::move(request);
  auto fut = p.promise.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Status::Unavailable("the event store is shutting down");
    queue_.push_back(&p);
  }
  cv_.notify_one();
  return fut.get();
}

void PgEventStore::WriterLoop() {
  std::vector<Pending*> batch;
  for (;;) {
    batch.clear();
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      size_t events = 0;
      while (!queue_.empty()) {
        Pending* p = queue_.front();
        if (!batch.empty() && events + p->event_count > options_.max_batch_events) break;
        events += p->event_count;
        batch.push_back(p);
        queue_.pop_front();
      }
    }
    ProcessBatch(batch);
  }
}

void PgEventStore::ProcessBatch(std::vector<Pending*>& batch) {
  Status st = TryBatch(batch, /*lookup_all=*/false);
  if (st.ok()) {
    batches_.fetch_add(1);
    appends_.fetch_add(static_cast<int64_t>(batch.size()));
    for (Pending* p : batch) p->promise.set_value(std::move(*p->result));
    return;
  }
  if (st.code() == Code::kUnavailable || batch.size() == 1) {
    if (st.code() == Code::kUnavailable) {
      log::Warn("append failed: PostgreSQL unavailable", {{"error", st.message()}});
      st = Status::Unavailable(st.message() +
                               "; the append may not have been stored: retry with the same "
                               "command id");
    }
    for (Pending* p : batch) p->promise.set_value(st);
    return;
  }
  // Something in the batch broke the transaction (e.g. a duplicate event id): isolate it by
  // appending the requests one by one.
  for (Pending* p : batch) {
    std::vector<Pending*> one{p};
    ProcessBatch(one);
  }
}

// One attempt at writing a batch: what TryBatch's steps hand each other.
struct PgEventStore::Attempt {
  Attempt(PgConnection& connection, bool all) : db(connection), lookup_all(all) {}

  // Rolls back the transaction if one is open; returns `s`.
  Status Fail(Status s) {
    if (in_txn && db.Healthy()) (void)db.Run("ROLLBACK");
    in_txn = false;
    return s;
  }

  PgConnection& db;
  const bool lookup_all;
  bool in_txn = false;
  // 1. Each event's payload and metadata as jsonb gives them back, in batch order.
  std::vector<std::string> norm_data, norm_meta;
  // 2. Where the log ends (and ended before this batch), and whether that came from our cache.
  bool known_end = false;
  int64_t last_position = 0;
  Hash previous = kGenesisHash;
  int64_t last_recorded_us = 0;
  int64_t start_position = 0;
  Hash start_hash = kGenesisHash;
  // 3. Each stream's current version; the results of command ids used before.
  std::map<std::string, int64_t, std::less<>> versions;
  std::map<std::string, AppendResult, std::less<>> commands;
  // 4. The rows of the accepted requests, one array per column.
  int64_t now_us = 0;
  int normalized_row = 0;
  PgArray col_pos, col_stream, col_version, col_id, col_type, col_data, col_meta, col_cmd,
      col_first, col_hash;
};

namespace {

// Why a stream's expected version does not hold at `current`; nullopt when it does.
std::optional<Status> ExpectationConflict(const StreamAppend& s, int64_t current) {
  if (s.expected.kind == ExpectedVersion::Kind::kNoStream && current != 0) {
    return Status::Conflict("stream " + s.stream_id + " already exists (at version " +
                            std::to_string(current) + "); the append expected no stream");
  }
  if (s.expected.kind == ExpectedVersion::Kind::kExact && current != s.expected.version) {
    return Status::Conflict("stream " + s.stream_id + " is at version " + std::to_string(current) +
                            "; the append expected version " + std::to_string(s.expected.version));
  }
  return std::nullopt;
}

size_t EventsIn(const AppendRequest& req) {
  size_t n = 0;
  for (const auto& s : req.streams) n += s.events.size();
  return n;
}

}  // namespace

Status PgEventStore::TryBatch(const std::vector<Pending*>& batch, bool lookup_all) {
  STRATO_RETURN_IF_ERROR(ConnectWriter());
  Attempt a(*writer_conn_, lookup_all);
  STRATO_RETURN_IF_ERROR(NormalisePayloads(batch, a));
  STRATO_RETURN_IF_ERROR(FindLogEnd(a));
  STRATO_RETURN_IF_ERROR(LookUpVersionsAndCommands(batch, a));
  if (!DecideRequests(batch, a)) {
    // A retry of an append that succeeded conflicts with its own events: find out whether
    // the command id was used before deciding.
    (void)a.Fail(Status::Ok());
    return TryBatch(batch, /*lookup_all=*/true);
  }
  return WriteAccepted(batch, a);
}

Status PgEventStore::ConnectWriter() {
  if (!writer_conn_ || !writer_conn_->Healthy()) {
    writer_conn_.reset();
    auto c = PgConnection::Connect(url_);
    if (!c.ok()) return c.status();
    writer_conn_ = std::move(*c);
  }
  return Status::Ok();
}

// 1. The hash covers exactly the text jsonb gives back for each payload. JsonbText predicts
//    it (and the insert checks the prediction); what it cannot predict, or everything after a
//    failed prediction, PostgreSQL normalises in one query.
Status PgEventStore::NormalisePayloads(const std::vector<Pending*>& batch, Attempt& a) {
  PgArray ask_data, ask_meta;
  std::vector<size_t> asked;
  for (const Pending* p : batch) {
    for (const auto& s : p->request.streams) {
      for (const auto& e : s.events) {
        std::optional<std::string> d, m;
        if (!distrust_prediction_) {
          d = JsonbText(e.data);
          m = JsonbText(e.metadata);
          if (d && options_.test_skew_prediction) options_.test_skew_prediction(*d);
        }
        if (!d || !m) {
          asked.push_back(a.norm_data.size());
          ask_data.Add(e.data);
          ask_meta.Add(e.metadata);
        }
        a.norm_data.push_back(d ? std::move(*d) : std::string());
        a.norm_meta.push_back(m ? std::move(*m) : std::string());
      }
    }
  }
  if (asked.empty()) return Status::Ok();
  auto r = a.db.ExecPrepared("strato_normalize",
                             "SELECT d::text, m::text FROM unnest($1::jsonb[], $2::jsonb[]) "
                             "WITH ORDINALITY AS t(d, m, i) ORDER BY i",
                             {ask_data.Literal(), ask_meta.Literal()});
  if (!r.ok()) return r.status();
  for (size_t k = 0; k < asked.size(); ++k) {
    a.norm_data[asked[k]] = std::string(r->Get(static_cast<int>(k), 0));
    a.norm_meta[asked[k]] = std::string(r->Get(static_cast<int>(k), 1));
  }
  return Status::Ok();
}

// 2. Where the log ends. After our own commit we know it, and the transaction checks it
//    under the append lock (strato_expect_log_end): one round trip for the whole batch.
//    Otherwise take the lock first and read it.
Status PgEventStore::FindLogEnd(Attempt& a) {
  a.known_end = !a.lookup_all && end_known_;
  if (a.known_end) {
    a.last_position = cached_through_;
    a.previous = cached_hash_;
    a.last_recorded_us = cached_recorded_us_;
  } else {
    end_known_ = false;
    auto tail =
        a.db.ExecScript("BEGIN; SELECT pg_advisory_xact_lock(" + std::to_string(kAppendLockKey) +
                        "); SELECT global_position, encode(hash, 'hex'), "
                        "(extract(epoch FROM recorded_at) * 1000000)::bigint "
                        "FROM events ORDER BY global_position DESC LIMIT 1");
    a.in_txn = true;
    if (!tail.ok()) return a.Fail(tail.status());
    if (tail->rows() == 1) {
      a.last_position = tail->GetInt64(0, 0);
      auto h = HashFromHex(tail->Get(0, 1));
      if (!h.ok()) return a.Fail(h.status());
      a.previous = *h;
      a.last_recorded_us = tail->GetInt64(0, 2);
    }
  }
  a.start_position = a.last_position;
  a.start_hash = a.previous;
  return Status::Ok();
}

// 3. What must be known before deciding: the current version of each stream, and whether
//    a command id was used before. Checks are optimistic where a unique index backs them:
//    a stream expected not to exist is assumed absent (events' (stream_id, stream_version)
//    key refuses it otherwise) and command ids are assumed new (the command key refuses a
//    reused one). A refusal rolls the batch back and it is decided again with `lookup_all`.
//    Versions this writer committed itself are cached, and still true when nobody else
//    appended since (the log ends where our last commit ended it).
Status PgEventStore::LookUpVersionsAndCommands(const std::vector<Pending*>& batch, Attempt& a) {
  if (a.lookup_all || a.last_position != cached_through_ ||
      stream_cache_.size() > kMaxCachedStreams) {
    stream_cache_.clear();
  }
  PgArray stream_ids, command_ids;
  for (const Pending* p : batch) {
    for (const auto& s : p->request.streams) {
      if (auto it = stream_cache_.find(s.stream_id); it != stream_cache_.end()) {
        a.versions[s.stream_id] = it->second;
      } else if (!a.lookup_all && s.expected.kind == ExpectedVersion::Kind::kNoStream) {
        a.versions.emplace(s.stream_id, 0);
      } else {
        stream_ids.Add(s.stream_id);
      }
    }
    if (a.lookup_all && !p->request.command_id.IsNil()) {
      command_ids.Add(p->request.command_id.ToString());
    }
  }
  if (stream_ids.size() == 0 && command_ids.size() == 0) return Status::Ok();
  // Planned per call: a generic plan made while the table was small would keep scanning
  // it whole as it grows.
  auto known = a.db.Exec(
      "SELECT 'v', s, (SELECT stream_version FROM events WHERE stream_id = s "
      "                ORDER BY stream_version DESC LIMIT 1), "
      "       NULL::text, NULL::bigint, NULL::bigint, NULL::bigint "
      "FROM unnest($1::text[]) AS s "
      "UNION ALL "
      "SELECT 'c', f.command_id::text, min(e.stream_version), e.stream_id, "
      "       max(e.stream_version), min(e.global_position), max(e.global_position) "
      "FROM events f JOIN events e ON e.command_id = f.command_id "
      "  AND e.global_position BETWEEN f.global_position AND f.global_position + $3 "
      "WHERE f.first_of_command AND f.command_id = ANY($2::uuid[]) "
      "GROUP BY f.command_id, e.stream_id",
      {stream_ids.Literal(), command_ids.Literal(), std::to_string(kMaxEventsPerAppend)});
  if (!known.ok()) return a.Fail(known.status());
  for (int i = 0; i < known->rows(); ++i) {
    std::string key(known->Get(i, 1));
    if (known->Get(i, 0) == "v") {
      a.versions[key] = known->IsNull(i, 2) ? 0 : known->GetInt64(i, 2);
      continue;
    }
    AppendResult& r = a.commands[key];
    r.streams.push_back(
        {std::string(known->Get(i, 3)), known->GetInt64(i, 2), known->GetInt64(i, 4)});
    int64_t first = known->GetInt64(i, 5), last = known->GetInt64(i, 6);
    r.first_position = r.first_position == 0 ? first : std::min(r.first_position, first);
    r.last_position = std::max(r.last_position, last);
  }
  return Status::Ok();
}

// 4. Decide each request on its own: a command id used before answers with its first result,
//    an expectation that does not hold with a conflict, and the rest become rows. False when a
//    request with a command id conflicts before command ids were looked up (decide again with
//    `lookup_all`).
bool PgEventStore::DecideRequests(const std::vector<Pending*>& batch, Attempt& a) {
  a.now_us = std::max(UnixMicros(clock_.Now()), a.last_recorded_us);
  for (Pending* p : batch) {
    const AppendRequest& req = p->request;
    const int events_in_request = static_cast<int>(EventsIn(req));
    std::string cmd = req.command_id.IsNil() ? "" : req.command_id.ToString();
    if (!cmd.empty()) {
      if (auto it = a.commands.find(cmd); it != a.commands.end()) {
        AppendResult dup = it->second;
        dup.duplicate = true;
        p->result = dup;
        a.normalized_row += events_in_request;
        continue;
      }
    }
    std::optional<Status> conflict;
    for (const auto& s : req.streams) {
      conflict = ExpectationConflict(s, a.versions[s.stream_id]);
      if (conflict) break;
    }
    if (conflict && !cmd.empty() && !a.lookup_all) return false;
    if (conflict) {
      p->result = *conflict;
      a.normalized_row += events_in_request;
      continue;
    }
    AppendResult result = AddRows(req, cmd, a);
    if (!cmd.empty() && result.last_position != 0) a.commands[cmd] = result;
    p->result = result;
  }
  return true;
}

// 4b. An accepted request's events: positions, versions, ids, the hash chain, and their rows.
AppendResult PgEventStore::AddRows(const AppendRequest& req, const std::string& cmd, Attempt& a) {
  AppendResult result;
  for (const auto& s : req.streams) {
    StreamAppendResult sr{s.stream_id, 0, a.versions[s.stream_id]};
    for (const auto& ne : s.events) {
      RecordedEvent e;
      e.position = ++a.last_position;
      e.stream_id = s.stream_id;
      e.stream_version = ++a.versions[s.stream_id];
      e.event_id = ne.event_id.IsNil() ? Uuid::NewV7At(a.now_us / 1000) : ne.event_id;
      e.type = ne.type;
      e.data = std::move(a.norm_data[a.normalized_row]);
      e.metadata = std::move(a.norm_meta[a.normalized_row]);
      ++a.normalized_row;
      e.recorded_at = FromUnixMicros(a.now_us);
      e.command_id = req.command_id;
      e.hash = ChainHash(a.previous, e);
      a.previous = e.hash;
      if (sr.first_version == 0) sr.first_version = e.stream_version;
      sr.last_version = e.stream_version;
      if (result.first_position == 0) result.first_position = e.position;
      result.last_position = e.position;
      a.col_pos.Add(e.position);
      a.col_stream.Add(e.stream_id);
      a.col_version.Add(e.stream_version);
      a.col_id.Add(e.event_id.ToString());
      a.col_type.Add(e.type);
      a.col_data.Add(e.data);
      a.col_meta.Add(e.metadata);
      if (cmd.empty()) {
        a.col_cmd.AddNull();
      } else {
        a.col_cmd.Add(cmd);
      }
      a.col_first.Add(!cmd.empty() && e.position == result.first_position ? "t" : "f");
      a.col_hash.Add(HexEncode(e.hash.data(), e.hash.size()));
    }
    result.streams.push_back(sr);
  }
  return result;
}

// 5. Write everything accepted, check the predicted payload text, signal followers and
//    commit, in one pipeline.
Status PgEventStore::WriteAccepted(const std::vector<Pending*>& batch, Attempt& a) {
  if (a.col_pos.size() == 0) {
    (void)a.Fail(Status::Ok());
    return Status::Ok();
  }
  std::vector<PgStatement> pipeline;
  if (a.known_end) {
    pipeline.push_back({"", "BEGIN", {}});
    pipeline.push_back({"strato_lock",
                        "SELECT pg_advisory_xact_lock($1::bigint)",
                        {std::to_string(kAppendLockKey)}});
    pipeline.push_back(
        {"strato_expect_end",
         "SELECT strato_expect_log_end($1, decode($2, 'hex'))",
         {std::to_string(a.start_position), HexEncode(a.start_hash.data(), a.start_hash.size())}});
  }
  pipeline.push_back(
      {"strato_insert",
       "WITH ins AS (INSERT INTO events (global_position, stream_id, stream_version, event_id, "
       "  type, data, metadata, recorded_at, command_id, first_of_command, hash) "
       "  SELECT p, s, v, id, t, d::jsonb, m::jsonb, $8::timestamptz, c, f, decode(h, 'hex') "
       "  FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::uuid[], $5::text[], "
       "              $6::text[], $7::text[], $9::uuid[], $13::boolean[], $10::text[]) "
       "       AS r(p, s, v, id, t, d, m, c, f, h) "
       "  RETURNING global_position, data::text AS dt, metadata::text AS mt) "
       "SELECT strato_expect_payload_text(count(*) FILTER (WHERE ins.dt <> x.d OR ins.mt <> x.m)),"
       "       pg_notify($11, $12) "
       "FROM ins JOIN unnest($1::bigint[], $6::text[], $7::text[]) AS x(p, d, m) "
       "  ON x.p = ins.global_position",
       {a.col_pos.Literal(), a.col_stream.Literal(), a.col_version.Literal(), a.col_id.Literal(),
        a.col_type.Literal(), a.col_data.Literal(), a.col_meta.Literal(), MicrosToSql(a.now_us),
        a.col_cmd.Literal(), a.col_hash.Literal(), kAppendChannel, std::to_string(a.last_position),
        a.col_first.Literal()}});
  pipeline.push_back({"", "COMMIT", {}});
  a.in_txn = true;
  auto done = a.db.ExecPipeline(pipeline);
  if (!done.ok()) return RetryFailedWrite(batch, a, done.status());
  RememberLogEnd(a);
  return Status::Ok();
}

// 6. A write that failed: PostgreSQL unavailable (the caller answers), another writer appended
//    since our last commit, the jsonb text prediction was wrong, or an optimistic assumption
//    was; the last three decide the batch again.
Status PgEventStore::RetryFailedWrite(const std::vector<Pending*>& batch, Attempt& a,
                                      Status failure) {
  const std::string state = a.db.last_sqlstate();
  Status error = a.Fail(std::move(failure));
  if (error.code() == Code::kUnavailable) return error;
  end_known_ = false;
  stream_cache_.clear();
  if (state == "SX001") {
    // Another writer appended since our last commit: decide again from where the log ends.
    return TryBatch(batch, a.lookup_all);
  }
  if (state == "SX002") {
    log::Warn("jsonb text prediction differed; redoing the batch with PostgreSQL's text");
    distrust_prediction_ = true;
    Status again = TryBatch(batch, a.lookup_all);
    distrust_prediction_ = false;
    return again;
  }
  if (error.code() == Code::kConflict && !a.lookup_all) {
    // An optimistic assumption was wrong (a stream exists, a command id was used before):
    // decide the batch again knowing everything.
    return TryBatch(batch, /*lookup_all=*/true);
  }
  return error;
}

// 7. After a commit: the versions and the log's end as this writer left them, for the next
//    batch.
void PgEventStore::RememberLogEnd(const Attempt& a) {
  for (const auto& [stream, version] : a.versions) stream_cache_[stream] = version;
  cached_through_ = a.last_position;
  cached_hash_ = a.previous;
  cached_recorded_us_ = a.now_us;
  end_known_ = true;
}

Result<std::unique_ptr<PgConnection>> PgEventStore::AcquireReader() {
  std::unique_lock<std::mutex> lock(read_mu_);
  read_cv_.wait(lock, [this] {
    return !idle_readers_.empty() || open_readers_ < options_.max_read_connections;
  });
  if (!idle_readers_.empty()) {
    auto c = std::move(idle_readers_.back());
    idle_readers_.pop_back();
    return c;
  }
  ++open_readers_;
  lock.unlock();
  auto c = PgConnection::Connect(url_);
  if (!c.ok()) {
    std::lock_guard<std::mutex> relock(read_mu_);
    --open_readers_;
    read_cv_.notify_one();
  }
  return c;
}

void PgEventStore::ReleaseReader(std::unique_ptr<PgConnection> conn) {
  std::lock_guard<std::mutex> lock(read_mu_);
  if (conn && conn->Healthy()) {
    idle_readers_.push_back(std::move(conn));
  } else {
    --open_readers_;
  }
  read_cv_.notify_one();
}

Result<std::vector<RecordedEvent>> PgEventStore::Query(std::string_view sql,
                                                       const std::vector<std::string>& params) {
  auto conn = AcquireReader();
  if (!conn.ok()) return conn.status();
  auto r = (*conn)->Exec(sql, params);
  ReleaseReader(std::move(*conn));
  if (!r.ok()) return r.status();
  return RowsToEvents(*r);
}

Result<std::vector<RecordedEvent>> PgEventStore::ReadStream(const std::string& stream_id,
                                                            int64_t from_version,
                                                            size_t max_count) {
  STRATO_RETURN_IF_ERROR(ValidateStreamId(stream_id));
  return Query(std::string(kSelectColumns) +
                   "WHERE stream_id = $1 AND stream_version >= $2 ORDER BY stream_version "
                   "LIMIT $3",
               {stream_id, std::to_string(from_version), std::to_string(max_count)});
}

Result<std::vector<RecordedEvent>> PgEventStore::ReadAll(int64_t after_position, size_t max_count) {
  return Query(
      std::string(kSelectColumns) + "WHERE global_position > $1 ORDER BY global_position LIMIT $2",
      {std::to_string(after_position), std::to_string(max_count)});
}

Result<int64_t> PgEventStore::LastPosition() {
  auto conn = AcquireReader();
  if (!conn.ok()) return conn.status();
  auto r = (*conn)->Exec("SELECT coalesce(max(global_position), 0) FROM events");
  ReleaseReader(std::move(*conn));
  if (!r.ok()) return r.status();
  return r->GetInt64(0, 0);
}

Result<std::unique_ptr<AppendWaiter>> PgEventStore::NewWaiter() {
  auto w = std::make_unique<PgAppendWaiter>(url_);
  STRATO_RETURN_IF_ERROR(w->Connect());
  return std::unique_ptr<AppendWaiter>(std::move(w));
}

}  // namespace strato::events
