#include <doctest/doctest.h>

#include "core/status.h"

using strato::Code;
using strato::Result;
using strato::Status;

TEST_CASE("a default Status is OK and prints ok") {
  Status s;
  CHECK(s.ok());
  CHECK(s.ToString() == "ok");
}

TEST_CASE("an error Status keeps its code and sentence and context is prefixed") {
  Status s = Status::Conflict("stream vm-1 is at version 3");
  CHECK_FALSE(s.ok());
  CHECK(s.code() == Code::kConflict);
  CHECK(s.ToString() == "conflict: stream vm-1 is at version 3");
  Status c = s.WithContext("appending");
  CHECK(c.code() == Code::kConflict);
  CHECK(c.message() == "appending: stream vm-1 is at version 3");
}

TEST_CASE("Result holds either a value or an error") {
  Result<int> good = 42;
  REQUIRE(good.ok());
  CHECK(*good == 42);
  Result<int> bad = Status::NotFound("no VM named web-1");
  CHECK_FALSE(bad.ok());
  CHECK(bad.status().code() == Code::kNotFound);
}

namespace {
Status FailsAt(int n, int* reached) {
  for (int i = 0; i < 3; ++i) {
    *reached = i;
    STRATO_RETURN_IF_ERROR(i == n ? Status::Internal("boom") : Status::Ok());
  }
  return Status::Ok();
}
}  // namespace

TEST_CASE("STRATO_RETURN_IF_ERROR returns the first error") {
  int reached = -1;
  CHECK(FailsAt(1, &reached).code() == Code::kInternal);
  CHECK(reached == 1);
  CHECK(FailsAt(7, &reached).ok());
  CHECK(reached == 2);
}

TEST_CASE("a status carries a reason and named details through context") {
  Status s = Status::Conflict("stream vm-1 moved")
                 .WithReason("stale_version")
                 .WithDetail("stream_id", "vm-1")
                 .WithDetail("current_version", 7);
  CHECK(s.reason() == "stale_version");
  CHECK(s.Is(Code::kConflict, "stale_version"));
  CHECK_FALSE(s.Is(Code::kNotFound, "stale_version"));
  CHECK(s.Detail("stream_id") == std::optional<std::string_view>("vm-1"));
  CHECK(s.DetailInt("current_version") == std::optional<int64_t>(7));
  CHECK_FALSE(s.Detail("missing").has_value());
  CHECK_FALSE(s.DetailInt("stream_id").has_value());  // not a number
  Status wrapped = s.WithContext("starting web-1");
  CHECK(wrapped.message() == "starting web-1: stream vm-1 moved");
  CHECK(wrapped.reason() == "stale_version");
  CHECK(wrapped.details().size() == 2);
  CHECK(Status::Conflict("plain").reason().empty());
  CHECK(Status::Conflict("plain").details().empty());
}
