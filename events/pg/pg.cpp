#include "events/pg/pg.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>

#include "core/clock.h"
#include "core/parse.h"

namespace strato::events {

void PgResult::Deleter::operator()(pg_result* r) const {
  PQclear(r);
}

PgResult::PgResult(pg_result* r) : res_(r) {}
int PgResult::rows() const {
  return res_ ? PQntuples(res_.get()) : 0;
}
int PgResult::columns() const {
  return res_ ? PQnfields(res_.get()) : 0;
}
bool PgResult::IsNull(int row, int col) const {
  return PQgetisnull(res_.get(), row, col) != 0;
}
std::string_view PgResult::Get(int row, int col) const {
  return std::string_view(PQgetvalue(res_.get(), row, col),
                          static_cast<size_t>(PQgetlength(res_.get(), row, col)));
}
int64_t PgResult::GetInt64(int row, int col) const {
  // PostgreSQL's text for an integer column; 0 for NULL or anything else (as before).
  return ParseInt(Get(row, col)).value_or(0);
}

PgConnection::~PgConnection() {
  PQfinish(conn_);
}

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& url) {
  return Adopt(PQconnectdb(url.c_str()));
}

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(
    const std::string& url, const std::vector<std::pair<std::string, std::string>>& overrides) {
  // The URL goes in as an expandable dbname first; the keywords after it override its values.
  std::vector<const char*> keywords{"dbname"};
  std::vector<const char*> values{url.c_str()};
  for (const auto& [k, v] : overrides) {
    keywords.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  return Adopt(PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1));
}

Result<std::unique_ptr<PgConnection>> PgConnection::Adopt(pg_conn* c) {
  if (c == nullptr) return Status::Unavailable("cannot allocate a PostgreSQL connection");
  if (PQstatus(c) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(c);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    PQfinish(c);
    return Status::Unavailable("cannot connect to PostgreSQL: " + msg);
  }
  auto conn = std::unique_ptr<PgConnection>(new PgConnection(c));
  // Timestamps are exchanged as Unix microseconds; the session zone only affects display.
  STRATO_RETURN_IF_ERROR(conn->Run("SET TIME ZONE 'UTC'"));
  return conn;
}

Status PgConnection::ErrorFrom(pg_result* r, std::string_view sql) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  last_sqlstate_ = state ? state : "";
  std::string msg = r ? PQresultErrorMessage(r) : PQerrorMessage(conn_);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  if (msg.rfind("ERROR:  ", 0) == 0) msg = msg.substr(8);
  if (r) PQclear(r);
  if (PQstatus(conn_) != CONNECTION_OK || last_sqlstate_.rfind("08", 0) == 0 ||
      last_sqlstate_ == "57P01") {
    return Status::Unavailable("PostgreSQL connection lost: " + msg);
  }
  if (last_sqlstate_ == "23505") return Status::Conflict("PostgreSQL: " + msg);
  if (last_sqlstate_ == "22P02" || last_sqlstate_ == "22023" || last_sqlstate_ == "22P05") {
    return Status::InvalidArgument("PostgreSQL: " + msg);
  }
  return Status::Internal("PostgreSQL: " + msg);
}

Result<PgResult> PgConnection::Exec(std::string_view sql, const std::vector<std::string>& params) {
  std::string q(sql);
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p.c_str());
  PGresult* r = PQexecParams(conn_, q.c_str(), static_cast<int>(params.size()), nullptr,
                             values.data(), nullptr, nullptr, 0);
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) return ErrorFrom(r, sql);
  last_sqlstate_.clear();
  return PgResult(r);
}

Status PgConnection::EnsurePrepared(const std::string& name, std::string_view sql, int nparams) {
  for (const auto& n : prepared_) {
    if (n == name) return Status::Ok();
  }
  std::string q(sql);
  PGresult* r = PQprepare(conn_, name.c_str(), q.c_str(), nparams, nullptr);
  if (r == nullptr || PQresultStatus(r) != PGRES_COMMAND_OK) return ErrorFrom(r, sql);
  PQclear(r);
  prepared_.push_back(name);
  return Status::Ok();
}

Result<PgResult> PgConnection::ExecPrepared(const std::string& name, std::string_view sql,
                                            const std::vector<std::string>& params) {
  STRATO_RETURN_IF_ERROR(EnsurePrepared(name, sql, static_cast<int>(params.size())));
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p.c_str());
  PGresult* r = PQexecPrepared(conn_, name.c_str(), static_cast<int>(params.size()), values.data(),
                               nullptr, nullptr, 0);
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) return ErrorFrom(r, sql);
  last_sqlstate_.clear();
  return PgResult(r);
}

Result<std::vector<PgResult>> PgConnection::ExecPipeline(
    const std::vector<PgStatement>& statements) {
  for (const auto& st : statements) {
    if (!st.name.empty()) {
      STRATO_RETURN_IF_ERROR(EnsurePrepared(st.name, st.sql, static_cast<int>(st.params.size())));
    }
  }
  if (PQenterPipelineMode(conn_) != 1) {
    return Status::Internal("PostgreSQL: cannot enter pipeline mode: " +
                            std::string(PQerrorMessage(conn_)));
  }
  bool sent = true;
  for (const auto& st : statements) {
    std::vector<const char*> values;
    values.reserve(st.params.size());
    for (const auto& p : st.params) values.push_back(p.c_str());
    int n = static_cast<int>(st.params.size());
    int ok = st.name.empty() ? PQsendQueryParams(conn_, st.sql.c_str(), n, nullptr, values.data(),
                                                 nullptr, nullptr, 0)
                             : PQsendQueryPrepared(conn_, st.name.c_str(), n, values.data(),
                                                   nullptr, nullptr, 0);
    if (ok != 1) {
      sent = false;
      break;
    }
  }
  if (!sent || PQpipelineSync(conn_) != 1) {
    Status s = Status::Unavailable("PostgreSQL: sending a pipeline failed: " +
                                   std::string(PQerrorMessage(conn_)));
    return s;
  }
  std::vector<PgResult> results;
  Status first_error;
  for (size_t i = 0; i < statements.size(); ++i) {
    PGresult* r = PQgetResult(conn_);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
      results.emplace_back(r);
    } else if (st == PGRES_PIPELINE_ABORTED) {
      PQclear(r);
    } else if (first_error.ok()) {
      first_error = ErrorFrom(r, statements[i].sql);  // takes ownership of r
      std::string state = last_sqlstate_;
      if (first_error.ok()) first_error = Status::Internal("PostgreSQL: statement failed");
      last_sqlstate_ = state;
    } else if (r) {
      PQclear(r);
    }
    if (r != nullptr) {
      // Each statement's results end with a null.
      while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
    }
    if (!Healthy()) break;
  }
  if (Healthy()) {
    PGresult* sync = PQgetResult(conn_);  // PGRES_PIPELINE_SYNC
    if (sync) PQclear(sync);
    while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
    PQexitPipelineMode(conn_);
  }
  if (!first_error.ok()) return first_error;
  if (!Healthy()) return Status::Unavailable("PostgreSQL connection lost during a pipeline");
  last_sqlstate_.clear();
  return results;
}

Result<PgResult> PgConnection::ExecScript(std::string_view sql) {
  std::string q(sql);
  PGresult* r = PQexec(conn_, q.c_str());
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) return ErrorFrom(r, sql);
  last_sqlstate_.clear();
  return PgResult(r);
}

Status PgConnection::Run(std::string_view sql, const std::vector<std::string>& params) {
  if (params.empty()) {
    std::string q(sql);
    PGresult* r = PQexec(conn_, q.c_str());
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) return ErrorFrom(r, sql);
    PQclear(r);
    last_sqlstate_.clear();
    return Status::Ok();
  }
  auto r = Exec(sql, params);
  return r.ok() ? Status::Ok() : r.status();
}

Status PgConnection::CopyVerdict(std::string_view copy_sql) {
  Status result;
  bool first = true;
  while (PGresult* done = PQgetResult(conn_)) {
    if (first && PQresultStatus(done) != PGRES_COMMAND_OK) {
      result = ErrorFrom(done, copy_sql);  // takes ownership
    } else {
      PQclear(done);
    }
    first = false;
  }
  return result;
}

Status PgConnection::CopyIn(std::string_view copy_sql, std::string_view data) {
  std::string q(copy_sql);
  PGresult* r = PQexec(conn_, q.c_str());
  if (r == nullptr || PQresultStatus(r) != PGRES_COPY_IN) return ErrorFrom(r, copy_sql);
  PQclear(r);
  constexpr size_t kChunk = 1 << 20;
  bool sent = true;
  for (size_t off = 0; off < data.size(); off += kChunk) {
    size_t n = std::min(kChunk, data.size() - off);
    if (PQputCopyData(conn_, data.data() + off, static_cast<int>(n)) != 1) {
      sent = false;
      break;
    }
  }
  if (PQputCopyEnd(conn_, sent ? nullptr : "sending the rows failed") != 1) {
    return Status::Unavailable("PostgreSQL: ending a COPY failed: " +
                               std::string(PQerrorMessage(conn_)));
  }
  Status result = CopyVerdict(copy_sql);
  if (result.ok()) last_sqlstate_.clear();
  return result;
}

Status PgConnection::CopyOut(std::string_view copy_sql,
                             const std::function<Status(std::string_view)>& data) {
  std::string q(copy_sql);
  PGresult* r = PQexec(conn_, q.c_str());
  if (r == nullptr || PQresultStatus(r) != PGRES_COPY_OUT) return ErrorFrom(r, copy_sql);
  PQclear(r);
  Status stopped;
  for (;;) {
    char* buf = nullptr;
    int n = PQgetCopyData(conn_, &buf, 0);
    if (n < 0) break;  // -1: done (the verdict follows), -2: failed (likewise)
    if (stopped.ok()) {
      stopped = data(std::string_view(buf, static_cast<size_t>(n)));
      if (!stopped.ok()) {
        // Ask the server to stop sending; what it sent meanwhile is read and dropped below.
        if (PGcancel* cancel = PQgetCancel(conn_)) {
          char err[256];
          (void)PQcancel(cancel, err, sizeof err);
          PQfreeCancel(cancel);
        }
      }
    }
    PQfreemem(buf);
  }
  Status result = CopyVerdict(copy_sql);
  if (!stopped.ok()) {
    last_sqlstate_.clear();  // the cancel's, not an error of the statement
    return stopped;
  }
  if (result.ok()) last_sqlstate_.clear();
  return result;
}

Status PgConnection::CheckAlive(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto lost = [this](const std::string& what) {
    std::string msg = PQerrorMessage(conn_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return Status::Unavailable("PostgreSQL session lost (" + what + ")" +
                               (msg.empty() ? "" : ": " + msg));
  };
  if (PQstatus(conn_) != CONNECTION_OK) return lost("before the check");
  if (PQsendQuery(conn_, "SELECT 1") != 1) return lost("sending the check");
  bool answered = false;
  for (;;) {
    if (PQconsumeInput(conn_) == 0) return lost("reading the check's answer");
    while (PQisBusy(conn_) == 0) {
      PGresult* r = PQgetResult(conn_);
      if (r == nullptr) {
        if (answered) return Status::Ok();
        return lost("the check had no answer");
      }
      if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        Status s = ErrorFrom(r, "SELECT 1");
        return Status::Unavailable("PostgreSQL session check failed: " + s.message());
      }
      PQclear(r);
      answered = true;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Status::Unavailable("PostgreSQL session did not answer a check within " +
                                 std::to_string(timeout.count()) + " ms");
    }
    pollfd pfd{PQsocket(conn_), POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) {
      return lost("waiting for the check's answer");
    }
  }
}

bool PgConnection::Healthy() const {
  return PQstatus(conn_) == CONNECTION_OK;
}

bool PgConnection::Idle() const {
  return Healthy() && PQtransactionStatus(conn_) == PQTRANS_IDLE;
}

Status PgConnection::Listen(const std::string& channel) {
  return Run("LISTEN " + QuoteIdentifier(channel));
}

Result<bool> PgConnection::WaitForNotify(std::chrono::milliseconds timeout) {
  auto drain = [this]() {
    bool got = false;
    while (PGnotify* n = PQnotifies(conn_)) {
      got = true;
      PQfreemem(n);
    }
    return got;
  };
  if (PQconsumeInput(conn_) == 0)
    return Status::Unavailable("PostgreSQL connection lost while waiting");
  if (drain()) return true;
  pollfd pfd{PQsocket(conn_), POLLIN, 0};
  int rc = poll(&pfd, 1, static_cast<int>(timeout.count()));
  if (rc <= 0) return false;
  if (PQconsumeInput(conn_) == 0)
    return Status::Unavailable("PostgreSQL connection lost while waiting");
  return drain();
}

void PgArray::Add(std::string_view element) {
  if (size_++ > 0) text_.push_back(',');
  text_.push_back('"');
  // Runs without a quote or backslash (ids, names: nearly everything) are copied in one go.
  size_t from = 0;
  for (size_t at; (at = element.find_first_of("\"\\", from)) != std::string_view::npos;
       from = at + 1) {
    text_.append(element.substr(from, at - from));
    text_.push_back('\\');
    text_.push_back(element[at]);
  }
  text_.append(element.substr(from));
  text_.push_back('"');
}

void PgArray::AddNull() {
  if (size_++ > 0) text_.push_back(',');
  text_ += "NULL";
}

PgCopyText& PgCopyText::Raw(std::string_view field) {
  if (row_started_) text_.push_back('\t');
  row_started_ = true;
  text_.append(field);
  return *this;
}

PgCopyText& PgCopyText::Add(std::string_view field) {
  if (row_started_) text_.push_back('\t');
  row_started_ = true;
  // Runs of plain bytes are appended whole; only backslash, tab, newline and CR are escaped.
  auto special = [](char c) { return c == '\\' || c == '\t' || c == '\n' || c == '\r'; };
  while (!field.empty()) {
    size_t plain = 0;
    while (plain < field.size() && !special(field[plain])) ++plain;
    text_.append(field.data(), plain);
    if (plain == field.size()) break;
    switch (field[plain]) {
      case '\\':
        text_ += "\\\\";
        break;
      case '\t':
        text_ += "\\t";
        break;
      case '\n':
        text_ += "\\n";
        break;
      default:
        text_ += "\\r";
    }
    field.remove_prefix(plain + 1);
  }
  return *this;
}

PgCopyText& PgCopyText::Add(int64_t n) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  return Raw(std::string_view(digits, static_cast<size_t>(end - digits)));
}

void PgCopyText::EndRow() {
  text_.push_back('\n');
  row_started_ = false;
  ++rows_;
}

namespace {

void PutBigEndian(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

}  // namespace

void PgCopyBinary::Start() {
  // The signature "PGCOPY\n\377\r\n\0", no flags, no header extension (PostgreSQL's COPY
  // documentation, "Binary Format").
  data_.assign("PGCOPY\n\377\r\n\0", 11);
  PutBigEndian(data_, 0, 4);
  PutBigEndian(data_, 0, 4);
  row_start_ = std::string::npos;
  fields_ = 0;
  rows_ = 0;
}

// A field's length (-1: NULL), after the row's field count when it is the first.
void PgCopyBinary::Field(int64_t length) {
  if (row_start_ == std::string::npos) {
    row_start_ = data_.size();
    PutBigEndian(data_, 0, 2);  // the field count, set by EndRow
  }
  ++fields_;
  PutBigEndian(data_, static_cast<uint32_t>(static_cast<int32_t>(length)), 4);
}

PgCopyBinary& PgCopyBinary::Add(std::string_view text) {
  Field(static_cast<int64_t>(text.size()));
  data_.append(text);
  return *this;
}

PgCopyBinary& PgCopyBinary::Add(int64_t n) {
  Field(8);
  PutBigEndian(data_, static_cast<uint64_t>(n), 8);
  return *this;
}

PgCopyBinary& PgCopyBinary::AddTime(std::chrono::system_clock::time_point t) {
  return Add(UnixMicros(t) - kPgEpochUnixMicros);
}

PgCopyBinary& PgCopyBinary::AddBool(bool b) {
  Field(1);
  data_.push_back(b ? 1 : 0);
  return *this;
}

PgCopyBinary& PgCopyBinary::AddNull() {
  Field(-1);
  return *this;
}

void PgCopyBinary::EndRow() {
  if (row_start_ == std::string::npos) {  // a row without fields
    row_start_ = data_.size();
    PutBigEndian(data_, 0, 2);
  }
  data_[row_start_] = static_cast<char>((fields_ >> 8) & 0xFF);
  data_[row_start_ + 1] = static_cast<char>(fields_ & 0xFF);
  row_start_ = std::string::npos;
  fields_ = 0;
  ++rows_;
}

std::string PgCopyBinary::Take() {
  PutBigEndian(data_, 0xFFFF, 2);  // the trailer: a field count of -1
  std::string out = std::move(data_);
  data_.clear();
  Start();
  return out;
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace strato::events
