#include "core/status.h"

#include "core/parse.h"

namespace strato {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kInvalidArgument:
      return "invalid_argument";
    case Code::kNotFound:
      return "not_found";
    case Code::kAlreadyExists:
      return "already_exists";
    case Code::kConflict:
      return "conflict";
    case Code::kFailedPrecondition:
      return "failed_precondition";
    case Code::kPermissionDenied:
      return "permission_denied";
    case Code::kUnauthenticated:
      return "unauthenticated";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kDeadlineExceeded:
      return "deadline_exceeded";
    case Code::kInternal:
      return "internal";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out(CodeName(code_));
  out += ": ";
  out += message_;
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string m(context);
  m += ": ";
  m += message_;
  Status out = *this;
  out.message_ = std::move(m);
  return out;
}

std::optional<std::string_view> Status::Detail(std::string_view key) const {
  for (const auto& [k, v] : details_) {
    if (k == key) return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<int64_t> Status::DetailInt(std::string_view key) const {
  auto text = Detail(key);
  if (!text) return std::nullopt;
  return ParseInt(*text);
}

}  // namespace strato
