#include <doctest/doctest.h>

#include <atomic>
#include <set>
#include <thread>

#include "events/commands/command_pipeline.h"
#include "test/support/test_env.h"

using namespace strato;
using namespace strato::events;

TEST_CASE("concurrent commands on one stream through PostgreSQL all land once each in order") {
  test::TestDatabase db;
  PipelineOptions options;
  options.max_attempts = 100;
  CommandPipeline pipeline(db.store(), options);
  // Each command appends the next number: a lost update would repeat one.
  auto next = [](const std::vector<RecordedEvent>& history) -> Result<Decision> {
    Decision d;
    d.events.push_back({"Counted", "{\"n\": " + std::to_string(history.size() + 1) + "}"});
    return d;
  };
  std::atomic<int> retried{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        CommandContext ctx;
        ctx.command_id = Uuid::NewV4();
        ctx.actor = "user-1";
        auto out = pipeline.Execute("counter-shared", ctx, next);
        REQUIRE(out.ok());
        if (out->attempts > 1) retried++;
        // Retrying the same command id is harmless.
        auto again = pipeline.Execute("counter-shared", ctx, next);
        REQUIRE(again.ok());
        CHECK(again->duplicate);
      }
    });
  }
  for (auto& t : threads) t.join();
  auto events = db.store().ReadStream("counter-shared", 1, 100);
  REQUIRE(events.ok());
  REQUIRE(events->size() == 40);
  for (size_t i = 0; i < events->size(); ++i) {
    CHECK((*events)[i].data == "{\"n\": " + std::to_string(i + 1) + "}");
  }
  MESSAGE(retried.load() << " of 40 commands were decided again after a concurrent change");
}
