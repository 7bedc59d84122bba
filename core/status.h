// Status and Result<T>: expected failures as values.
//
// A Status is a code plus a sentence meant for a person ("stream vm-1 is at version 3; the
// command expected version 2"), and optionally structured details for code that branches on
// more than the code: a stable reason ("stale_version", "challenge_mismatch") and named fields
// ("stream_id" = "vm-1", "expected_version" = "2"). Callers read details, never the sentence.
// Result<T> holds either a T or a non-OK Status. Both are plain values: copyable, movable, safe
// to pass between threads. Programmer errors assert instead.
#pragma once

#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace strato {

enum class Code {
  kOk,
  kInvalidArgument,     // the caller sent something malformed
  kNotFound,            // the thing named does not exist
  kAlreadyExists,       // creating something that exists
  kConflict,            // optimistic concurrency: expected version did not match
  kFailedPrecondition,  // legal input, illegal in the current state
  kPermissionDenied,
  kUnauthenticated,
  kUnavailable,  // a dependency (database, bus) cannot be reached right now
  kDeadlineExceeded,
  kInternal,  // a bug or an invariant broken by someone else (e.g. a tampered log)
};

std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
  static Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {Code::kFailedPrecondition, std::move(m)};
  }
  static Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
  static Status Unauthenticated(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status DeadlineExceeded(std::string m) { return {Code::kDeadlineExceeded, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "conflict: stream vm-1 ..." — for logs and command-line output.
  std::string ToString() const;

  // Returns a copy whose message is prefixed with context: "reading the log: <message>".
  // The reason and details are kept.
  Status WithContext(std::string_view context) const;

  // Structured details. A reason is a stable snake_case token naming the kind of failure within
  // its code; details are named fields in the order added. Setting them on an OK status is a
  // programmer error.
  Status&& WithReason(std::string reason) && {
    assert(!ok() && "an OK status has no reason");
    reason_ = std::move(reason);
    return std::move(*this);
  }
  Status&& WithDetail(std::string key, std::string value) && {
    assert(!ok() && "an OK status has no details");
    details_.emplace_back(std::move(key), std::move(value));
    return std::move(*this);
  }
  Status&& WithDetail(std::string key, int64_t value) && {
    return std::move(*this).WithDetail(std::move(key), std::to_string(value));
  }
  // "" when none was given.
  const std::string& reason() const { return reason_; }
  bool Is(Code code, std::string_view reason) const { return code_ == code && reason_ == reason; }
  // The first detail named `key`, or nullopt.
  std::optional<std::string_view> Detail(std::string_view key) const;
  // The detail as an integer; nullopt when absent or not an integer.
  std::optional<int64_t> DetailInt(std::string_view key) const;
  const std::vector<std::pair<std::string, std::string>>& details() const { return details_; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::string reason_;
  std::vector<std::pair<std::string, std::string>> details_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok() && "a Result built from a Status must carry an error");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace strato

// Returns early from the enclosing function when `expr` yields a non-OK Status.
#define STRATO_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::strato::Status strato_status_ = (expr);        \
    if (!strato_status_.ok()) return strato_status_; \
  } while (0)
