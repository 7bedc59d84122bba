// hostd's retry helper (hostd/retry.h) and its back-off, driven by a manual steady clock
// (hostd/clock.h): no loop, no services.
#include <doctest/doctest.h>

#include "hostd/clock.h"
#include "hostd/retry.h"

using namespace strato::hostd;
using std::chrono::milliseconds;

TEST_CASE("back-off doubles from the first wait up to the cap") {
  CHECK(Backoff(0, milliseconds(500), milliseconds(30000)) == milliseconds(500));
  CHECK(Backoff(1, milliseconds(500), milliseconds(30000)) == milliseconds(500));
  CHECK(Backoff(2, milliseconds(500), milliseconds(30000)) == milliseconds(1000));
  CHECK(Backoff(3, milliseconds(500), milliseconds(30000)) == milliseconds(2000));
  CHECK(Backoff(7, milliseconds(500), milliseconds(30000)) == milliseconds(30000));  // 32 s
  CHECK(Backoff(1000000, milliseconds(1000), milliseconds(30000)) == milliseconds(30000));
  CHECK(Backoff(5, milliseconds(1000), milliseconds(1000)) == milliseconds(1000));  // fixed
  CHECK(Backoff(1000000, milliseconds(0), milliseconds(0)) == milliseconds(0));
  CHECK(Backoff(1000000, milliseconds(0), milliseconds(30000)) == milliseconds(0));
}

TEST_CASE("a retrying request has one in flight and waits its back-off after a failure") {
  ManualSteadyClock clock;
  RetryingRequest req(milliseconds(500), milliseconds(2000));
  CHECK(req.Due(clock.Now()));
  req.Start();
  CHECK(req.in_flight());
  CHECK_FALSE(req.Due(clock.Now()));  // one at a time

  CHECK(req.Failed(clock.Now()) == milliseconds(500));
  CHECK_FALSE(req.in_flight());
  CHECK(req.failures() == 1);
  CHECK(req.next_attempt() == clock.Now() + milliseconds(500));
  clock.Advance(milliseconds(499));
  CHECK_FALSE(req.Due(clock.Now()));
  clock.Advance(milliseconds(1));
  CHECK(req.Due(clock.Now()));

  // Failures in a row double the wait, up to the cap.
  req.Start();
  CHECK(req.Failed(clock.Now()) == milliseconds(1000));
  req.Start();
  CHECK(req.Failed(clock.Now()) == milliseconds(2000));
  req.Start();
  CHECK(req.Failed(clock.Now()) == milliseconds(2000));
  CHECK(req.failures() == 4);
  CHECK_FALSE(req.Due(clock.Now() + milliseconds(1999)));
  CHECK(req.Due(clock.Now() + milliseconds(2000)));

  // A success forgets the failures: the next failure waits the first wait again.
  clock.Advance(milliseconds(2000));
  req.Start();
  req.Succeeded();
  CHECK(req.failures() == 0);
  CHECK(req.Due(clock.Now()));
  req.Start();
  CHECK(req.Failed(clock.Now()) == milliseconds(500));
}

TEST_CASE("a retrying request asked again in part waits without counting a failure") {
  ManualSteadyClock clock;
  RetryingRequest req(milliseconds(1000), milliseconds(1000));
  req.Start();
  req.Succeeded();
  req.RetryAfter(clock.Now(), milliseconds(200));
  CHECK(req.failures() == 0);
  CHECK_FALSE(req.Due(clock.Now() + milliseconds(199)));
  CHECK(req.Due(clock.Now() + milliseconds(200)));
  CHECK(req.Backoff() == milliseconds(1000));
}

TEST_CASE("a zero back-off retries at the next chance") {
  ManualSteadyClock clock;
  RetryingRequest req(milliseconds(0), milliseconds(0));
  req.Start();
  CHECK(req.Failed(clock.Now()) == milliseconds(0));
  CHECK(req.Due(clock.Now()));
}
