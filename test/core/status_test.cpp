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
