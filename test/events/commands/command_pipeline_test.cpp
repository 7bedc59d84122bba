#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include "events/commands/command_pipeline.h"
#include "events/log/memory_event_store.h"

using namespace strato;
using namespace strato::events;

namespace {

// A toy aggregate: a counter that refuses to go above 3.
CommandPipeline::Decide Increment() {
  return [](const std::vector<RecordedEvent>& history) -> Result<Decision> {
    if (history.size() >= 3) return Status::FailedPrecondition("counter c-1 is full");
    Decision d;
    d.events.push_back({"Incremented", "{\"to\":" + std::to_string(history.size() + 1) + "}"});
    return d;
  };
}

std::string Field(const std::string& json, const char* key) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  if (!d.IsObject() || !d.HasMember(key) || !d[key].IsString()) return "";
  return d[key].GetString();
}

}  // namespace

TEST_CASE("the pipeline appends what the decision returns and stamps the metadata") {
  MemoryEventStore store;
  CommandPipeline pipeline(store);
  CommandContext ctx;
  ctx.command_id = Uuid::NewV4();
  ctx.actor = "user-42";
  ctx.client_address = "127.0.0.1";
  auto out = pipeline.Execute("counter-c1", ctx, Increment());
  REQUIRE(out.ok());
  CHECK(out->position == 1);
  CHECK(out->stream_version == 1);
  REQUIRE(out->events.size() == 1);
  const std::string& meta = out->events[0].metadata;
  CHECK(Field(meta, "actor") == "user-42");
  CHECK(Field(meta, "command_id") == ctx.command_id.ToString());
  CHECK(Field(meta, "correlation_id") == ctx.command_id.ToString());
  CHECK(Field(meta, "client_address") == "127.0.0.1");
  CHECK(Field(meta, "causation_id").empty());
  CHECK_FALSE(Field(meta, "issued_at").empty());
}

TEST_CASE("the decision sees the history and its domain errors come back unchanged") {
  MemoryEventStore store;
  CommandPipeline pipeline(store);
  for (int i = 0; i < 3; ++i) REQUIRE(pipeline.Execute("counter-c1", {}, Increment()).ok());
  auto full = pipeline.Execute("counter-c1", {}, Increment());
  REQUIRE_FALSE(full.ok());
  CHECK(full.status().code() == Code::kFailedPrecondition);
  CHECK(full.status().message() == "counter c-1 is full");
  CHECK(*store.LastPosition() == 3);
}

TEST_CASE("a command that changes nothing appends nothing and returns the stream position") {
  MemoryEventStore store;
  CommandPipeline pipeline(store);
  REQUIRE(pipeline.Execute("counter-c1", {}, Increment()).ok());
  auto none = pipeline.Execute("counter-c1", {}, [](const std::vector<RecordedEvent>&) {
    return Result<Decision>(Decision{});
  });
  REQUIRE(none.ok());
  CHECK(none->events.empty());
  CHECK(none->position == 1);
  CHECK(*store.LastPosition() == 1);
}

TEST_CASE("the same command id executed twice appends once") {
  MemoryEventStore store;
  CommandPipeline pipeline(store);
  CommandContext ctx;
  ctx.command_id = Uuid::NewV4();
  auto first = pipeline.Execute("counter-c1", ctx, Increment());
  auto second = pipeline.Execute("counter-c1", ctx, Increment());
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(second->duplicate);
  CHECK(second->position == first->position);
  CHECK(*store.LastPosition() == 1);
}

TEST_CASE("a taken reservation is refused with the decision's sentence and nothing is written") {
  MemoryEventStore store;
  CommandPipeline pipeline(store);
  auto reserve = [](const std::string& user) {
    return [user](const std::vector<RecordedEvent>&) -> Result<Decision> {
      Decision d;
      d.events.push_back({"UserRegistered", "{\"username\":\"alice\"}"});
      d.also.push_back({"username-alice",
                        ExpectedVersion::NoStream(),
                        {{"UsernameReserved", "{\"user_id\":\"" + user + "\"}"}},
                        "the username alice is taken"});
      return d;
    };
  };
  REQUIRE(pipeline.Execute("user-1", {}, reserve("user-1")).ok());
  auto taken = pipeline.Execute("user-2", {}, reserve("user-2"));
  REQUIRE_FALSE(taken.ok());
  CHECK(taken.status().code() == Code::kAlreadyExists);
  CHECK(taken.status().message() == "the username alice is taken");
  CHECK(*store.LastPosition() == 2);
  auto user2 = store.ReadStream("user-2", 1, 10);
  REQUIRE(user2.ok());
  CHECK(user2->empty());
}

TEST_CASE("a concurrent change to the stream makes the pipeline decide again") {
  MemoryEventStore store;
  CommandPipeline pipeline(store);
  int calls = 0;
  auto racing = [&](const std::vector<RecordedEvent>& history) -> Result<Decision> {
    if (++calls == 1) {
      // Another writer appends between our read and our append.
      AppendRequest other;
      other.streams.push_back(
          {"counter-c1", ExpectedVersion::Any(), {{"Incremented", "{}", "{}"}}});
      REQUIRE(store.Append(other).ok());
    }
    Decision d;
    d.events.push_back({"Incremented", "{\"seen\":" + std::to_string(history.size()) + "}"});
    return d;
  };
  auto out = pipeline.Execute("counter-c1", {}, racing);
  REQUIRE(out.ok());
  CHECK(out->attempts == 2);
  CHECK(out->stream_version == 2);
  CHECK(out->events[0].data.find("\"seen\":1") != std::string::npos);

  PipelineOptions two;
  two.max_attempts = 2;
  CommandPipeline impatient(store, two);
  auto always = [&](const std::vector<RecordedEvent>&) -> Result<Decision> {
    AppendRequest other;
    other.streams.push_back({"counter-c1", ExpectedVersion::Any(), {{"Incremented", "{}", "{}"}}});
    REQUIRE(store.Append(other).ok());
    Decision d;
    d.events.push_back({"Incremented", "{}"});
    return d;
  };
  auto gave_up = impatient.Execute("counter-c1", {}, always);
  REQUIRE_FALSE(gave_up.ok());
  CHECK(gave_up.status().code() == Code::kConflict);
  CHECK(gave_up.status().message().find("counter-c1 kept changing") == 0);
}

TEST_CASE("VM events carry their host in the metadata so the bus subject names it") {
  MemoryEventStore store;
  CommandPipeline pipeline(store);
  auto out = pipeline.Execute("vm-abc", {}, [](const std::vector<RecordedEvent>&) {
    Decision d;
    d.events.push_back({"VmStartRequested", "{}"});
    d.host_id = "h-7";
    return Result<Decision>(d);
  });
  REQUIRE(out.ok());
  REQUIRE(out->events.size() == 1);
  CHECK(SubjectFor(out->events[0]) == "strato.events.vm.h-7.abc.VmStartRequested");
}

TEST_CASE("an expected version equal to the stream's lets the command run") {
  MemoryEventStore store;
  CommandPipeline pipeline(store);
  CommandContext fresh;
  fresh.expected_version = 0;  // no stream yet
  auto first = pipeline.Execute("counter-c1", fresh, Increment());
  REQUIRE_MESSAGE(first.ok(), first.status().ToString());
  CommandContext at_one;
  at_one.expected_version = 1;
  auto second = pipeline.Execute("counter-c1", at_one, Increment());
  REQUIRE_MESSAGE(second.ok(), second.status().ToString());
  CHECK(second->stream_version == 2);
  CHECK(*store.LastPosition() == 2);
}

TEST_CASE("an expected version other than the stream's is refused and appends nothing") {
  MemoryEventStore store;
  CommandPipeline pipeline(store);
  REQUIRE(pipeline.Execute("counter-c1", {}, Increment()).ok());
  REQUIRE(pipeline.Execute("counter-c1", {}, Increment()).ok());
  int decided = 0;
  auto counted = [&](const std::vector<RecordedEvent>& history) {
    ++decided;
    return Increment()(history);
  };
  for (int64_t stale : {int64_t{0}, int64_t{1}, int64_t{3}}) {
    CommandContext ctx;
    ctx.command_id = Uuid::NewV4();
    ctx.expected_version = stale;
    auto refused = pipeline.Execute("counter-c1", ctx, counted);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().code() == Code::kConflict);
    CHECK(refused.status().message() ==
          "stream counter-c1 is at version 2; the command expected "
          "version " +
              std::to_string(stale));
    auto parsed = ReadStaleVersion(refused.status());
    REQUIRE(parsed.has_value());
    CHECK(parsed->stream_id == "counter-c1");
    CHECK(parsed->expected == stale);
    CHECK(parsed->actual == 2);
  }
  CHECK(decided == 0);
  CHECK(*store.LastPosition() == 2);
}

TEST_CASE("a write landing after the read and before the append makes an expected version stale") {
  MemoryEventStore store;
  CommandPipeline pipeline(store);
  REQUIRE(pipeline.Execute("counter-c1", {}, Increment()).ok());
  int calls = 0;
  auto racing = [&](const std::vector<RecordedEvent>& history) -> Result<Decision> {
    if (++calls == 1) {
      // Another writer appends between our read (version 1) and our append.
      AppendRequest other;
      other.streams.push_back(
          {"counter-c1", ExpectedVersion::Any(), {{"Incremented", "{}", "{}"}}});
      REQUIRE(store.Append(other).ok());
    }
    return Increment()(history);
  };
  CommandContext ctx;
  ctx.command_id = Uuid::NewV4();
  ctx.expected_version = 1;
  auto refused = pipeline.Execute("counter-c1", ctx, racing);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Code::kConflict);
  auto parsed = ReadStaleVersion(refused.status());
  REQUIRE(parsed.has_value());
  CHECK(parsed->expected == 1);
  CHECK(parsed->actual == 2);
  CHECK(calls == 1);                  // the second attempt refused before deciding
  CHECK(*store.LastPosition() == 2);  // only the other writer's event
}

TEST_CASE("a retried command id with a now stale expected version gets its first outcome") {
  MemoryEventStore store;
  CommandPipeline pipeline(store);
  CommandContext ctx;
  ctx.command_id = Uuid::NewV4();
  ctx.expected_version = 0;
  auto first = pipeline.Execute("counter-c1", ctx, Increment());
  REQUIRE_MESSAGE(first.ok(), first.status().ToString());
  REQUIRE(first->stream_version == 1);
  // The stream is at version 1 now, moved by the command itself.
  auto again = pipeline.Execute("counter-c1", ctx, Increment());
  REQUIRE_MESSAGE(again.ok(), again.status().ToString());
  CHECK(again->duplicate);
  CHECK(again->position == first->position);
  CHECK(again->stream_version == 1);
  REQUIRE(again->events.size() == 1);
  CHECK(again->events[0].command_id == ctx.command_id);
  CHECK(*store.LastPosition() == 1);
}

TEST_CASE("ReadStaleVersion reads the details StaleVersionStatus writes and never a sentence") {
  Status s = StaleVersionStatus({"vm-abc", 4, 7});
  CHECK(s.code() == Code::kConflict);
  CHECK(s.message() == "stream vm-abc is at version 7; the command expected version 4");
  CHECK(s.reason() == "stale_version");
  auto parsed = ReadStaleVersion(s);
  REQUIRE(parsed.has_value());
  CHECK(parsed->stream_id == "vm-abc");
  CHECK(parsed->expected == 4);
  CHECK(parsed->actual == 7);
  // Context added on the way up keeps the details.
  auto wrapped = ReadStaleVersion(s.WithContext("starting web-1"));
  REQUIRE(wrapped.has_value());
  CHECK(wrapped->actual == 7);
  // The same sentence without the details, the store's own conflict and other codes are not it.
  CHECK_FALSE(ReadStaleVersion(Status::Conflict(s.message())));
  CHECK_FALSE(ReadStaleVersion(
      Status::Conflict("stream vm-abc is at version 7; the append expected version 4")));
  CHECK_FALSE(ReadStaleVersion(Status::FailedPrecondition(s.message())
                                   .WithReason("stale_version")
                                   .WithDetail("stream_id", "vm-abc")
                                   .WithDetail("expected_version", 4)
                                   .WithDetail("current_version", 7)));
  // Details that are not numbers are not read as numbers.
  CHECK_FALSE(ReadStaleVersion(Status::Conflict("x")
                                   .WithReason("stale_version")
                                   .WithDetail("stream_id", "vm-abc")
                                   .WithDetail("expected_version", "4x")
                                   .WithDetail("current_version", 7)));
}
