// A thin libpq wrapper: one PgConnection is one PostgreSQL session, used by one thread at a
// time (the owner serialises). Results are owned values (PQclear on destruction). Every
// statement is parameterized: values travel as text parameters, never spliced into SQL.
// This file and pg.cpp are the only ones that include libpq-fe.h.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

struct pg_conn;
struct pg_result;

namespace strato::events {

class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(pg_result* r);
  int rows() const;
  int columns() const;
  bool IsNull(int row, int col) const;
  std::string_view Get(int row, int col) const;
  int64_t GetInt64(int row, int col) const;

 private:
  struct Deleter {
    void operator()(pg_result* r) const;
  };
  std::unique_ptr<pg_result, Deleter> res_;
};

// One statement of a pipeline. With a name, it is prepared once per session and reused.
struct PgStatement {
  std::string name;
  std::string sql;
  std::vector<std::string> params;
};

class PgConnection {
 public:
  ~PgConnection();
  static Result<std::unique_ptr<PgConnection>> Connect(const std::string& url);
  // Connect with libpq connection parameters that override the URL's, e.g. {"keepalives_idle",
  // "2"} or {"connect_timeout", "5"} (libpq's keywords; later ones win).
  static Result<std::unique_ptr<PgConnection>> Connect(
      const std::string& url, const std::vector<std::pair<std::string, std::string>>& overrides);

  // Runs one statement with text parameters ($1, $2, ...).
  Result<PgResult> Exec(std::string_view sql, const std::vector<std::string>& params = {});
  // Prepares a named statement once per session (later calls with the same name are no-ops)
  // and runs it: the plan is made once, not per call.
  Result<PgResult> ExecPrepared(const std::string& name, std::string_view sql,
                                const std::vector<std::string>& params);
  // Sends the statements in one pipeline (one round trip) and returns their results. At the
  // first error the server skips the rest; the error is returned (see last_sqlstate()).
  Result<std::vector<PgResult>> ExecPipeline(const std::vector<PgStatement>& statements);
  // Runs several statements without parameters (simple protocol); returns the last result.
  Result<PgResult> ExecScript(std::string_view sql);
  // For statements without rows; "BEGIN", "COMMIT", DDL (several statements are allowed when
  // there are no parameters).
  Status Run(std::string_view sql, const std::vector<std::string>& params = {});

  // COPY ... FROM STDIN: sends `data` (rows in COPY's text format, e.g. built with PgCopyText)
  // for `copy_sql` ("COPY t (a, b) FROM STDIN") and waits for the server's verdict.
  Status CopyIn(std::string_view copy_sql, std::string_view data);
  // COPY ... TO STDOUT: calls `data` with each message the server sends (one row each; in
  // binary format the first also holds the header, the last is the trailer) and waits for the
  // server's verdict. When `data` fails, the COPY is cancelled and that failure returned.
  Status CopyOut(std::string_view copy_sql, const std::function<Status(std::string_view)>& data);

  // Runs SELECT 1 and waits at most `timeout` for the answer, measured here, so it fails in
  // time also when the server or the network is silent (a server-side statement_timeout
  // cannot). Unavailable when the session is gone or the answer is late; after any failure the
  // session is unusable and should be dropped. For watching a session (the leader's lock).
  Status CheckAlive(std::chrono::milliseconds timeout);

  // True when the session is still usable (false after the server went away).
  bool Healthy() const;
  // Healthy and outside any transaction (nothing left open by the last user).
  bool Idle() const;
  // SQLSTATE of the last failed statement ("" when none).
  const std::string& last_sqlstate() const { return last_sqlstate_; }

  // LISTEN on a channel; WaitForNotify returns true when a notification arrived in time.
  Status Listen(const std::string& channel);
  Result<bool> WaitForNotify(std::chrono::milliseconds timeout);

 private:
  explicit PgConnection(pg_conn* c) : conn_(c) {}
  // Takes a connection attempt's result (PQfinish on failure) and prepares the session.
  static Result<std::unique_ptr<PgConnection>> Adopt(pg_conn* c);
  Status ErrorFrom(pg_result* r, std::string_view sql);
  // After a COPY's data: reads the server's results; the first one's error, if any.
  Status CopyVerdict(std::string_view copy_sql);
  Status EnsurePrepared(const std::string& name, std::string_view sql, int nparams);
  pg_conn* conn_;
  std::string last_sqlstate_;
  std::vector<std::string> prepared_;
};

// Builds the text form of a PostgreSQL array ({"a","b\"c",NULL}) to pass as ONE parameter,
// cast in SQL ($1::text[], $1::jsonb[], $1::uuid[], ...). Every element is quoted and escaped,
// so any string is safe; this is how a batch travels in a single parameterized statement.
class PgArray {
 public:
  void Add(std::string_view element);
  void Add(int64_t n) { Add(std::string_view(std::to_string(n))); }
  void AddNull();
  size_t size() const { return size_; }
  std::string Literal() const { return text_ + "}"; }

 private:
  std::string text_ = "{";
  size_t size_ = 0;
};

// Rows in COPY's text format: fields separated by tabs, rows ended by newlines, \N for NULL,
// and backslash, tab, newline and carriage return escaped. Any string is safe.
class PgCopyText {
 public:
  PgCopyText& Add(std::string_view field);
  PgCopyText& Add(int64_t n);
  PgCopyText& AddBool(bool b) { return Raw(b ? "t" : "f"); }
  PgCopyText& AddNull() { return Raw("\\N"); }
  void EndRow();
  size_t rows() const { return rows_; }
  const std::string& data() const { return text_; }

 private:
  PgCopyText& Raw(std::string_view field);
  std::string text_;
  bool row_started_ = false;
  size_t rows_ = 0;
};

// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01T00:00:00Z), from which its
// binary timestamps count.
inline constexpr int64_t kPgEpochUnixMicros = 946684800LL * 1000000;

// Rows in COPY's binary format ("COPY t (a, b) FROM STDIN (FORMAT binary)"): cheaper for the
// server to read than text (nothing to parse: integers and times are sent as they are stored).
// Each field must match its column's type: Add(int64_t) a bigint, AddTime a timestamptz, Add
// text a text column (UTF-8), AddBool a boolean. Take() gives one COPY's data (header, rows,
// trailer) and starts over.
class PgCopyBinary {
 public:
  PgCopyBinary() { Start(); }
  PgCopyBinary& Add(std::string_view text);
  PgCopyBinary& Add(int64_t n);
  PgCopyBinary& AddTime(std::chrono::system_clock::time_point t);
  PgCopyBinary& AddBool(bool b);
  PgCopyBinary& AddNull();
  void EndRow();
  size_t rows() const { return rows_; }
  std::string Take();

 private:
  void Start();
  void Field(int64_t length);
  std::string data_;
  size_t row_start_ = 0;  // where the current row's field count goes
  int fields_ = 0;
  size_t rows_ = 0;
};

// Quotes a name as a SQL identifier ("my db" -> "\"my db\""). For DDL that cannot take
// parameters, such as CREATE DATABASE; never for values.
std::string QuoteIdentifier(std::string_view name);

}  // namespace strato::events
