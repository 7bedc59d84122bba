#include <doctest/doctest.h>

#include "events/log/event.h"
#include "events/log/event_filter.h"

using namespace strato;
using namespace strato::events;

TEST_CASE("stream ids must be <category>-<id> with safe characters") {
  CHECK(ValidateStreamId("vm-7d1f0c2e-1111-4222-8333-444455556666").ok());
  CHECK(ValidateStreamId("org-a_b").ok());
  CHECK(ValidateStreamId("").message() == "the stream id is empty");
  CHECK_FALSE(ValidateStreamId("vm").ok());
  CHECK_FALSE(ValidateStreamId("-x").ok());
  CHECK_FALSE(ValidateStreamId("vm-").ok());
  CHECK_FALSE(ValidateStreamId("VM-1").ok());
  CHECK_FALSE(ValidateStreamId("vm-a.b").ok());  // a dot would split the NATS subject
  CHECK_FALSE(ValidateStreamId("vm-a b").ok());
  auto too_long = ValidateStreamId("vm-" + std::string(300, 'a'));
  CHECK(too_long.message().find("the limit is 200") != std::string::npos);
  auto bad_utf8 = ValidateStreamId(std::string("vm-\xff\xfe"));
  CHECK(bad_utf8.message().find("not valid UTF-8") != std::string::npos);
}

TEST_CASE("event types are capitalised letters and digits") {
  CHECK(ValidateEventType("VmCreated").ok());
  CHECK(ValidateEventType("V2Thing").ok());
  CHECK(ValidateEventType("").message() == "the event type is empty");
  CHECK_FALSE(ValidateEventType("vmCreated").ok());
  CHECK_FALSE(ValidateEventType("Vm.Created").ok());
  CHECK_FALSE(ValidateEventType("Vm Created").ok());
  CHECK(ValidateEventType(std::string(101, 'A')).message().find("the limit is 100") !=
        std::string::npos);
  CHECK(ValidateEventType(std::string("Vm\xc3\x28")).message().find("UTF-8") != std::string::npos);
}

TEST_CASE("payloads must be JSON objects in valid UTF-8") {
  CHECK(ValidateJsonObject("{\"a\": [1, 2, {\"b\": null}]}", "data").ok());
  CHECK(ValidateJsonObject("  {}  \n", "data").ok());
  CHECK(ValidateJsonObject("[]", "data").message() == "data must be a JSON object");
  CHECK(ValidateJsonObject("{\"a\":", "data").message().find("data is not valid JSON") == 0);
  CHECK(ValidateJsonObject("{} {}", "data").message().find("not valid JSON") != std::string::npos);
  CHECK(ValidateJsonObject(std::string("{\"a\":\"\xff\"}"), "data").message() ==
        "data is not valid UTF-8");
  CHECK(ValidateJsonObject("{\"a\":\"\\u0000\"}", "data").message().find("\\u0000") !=
        std::string::npos);
  CHECK_FALSE(ValidateJsonObject(std::string(kMaxPayloadBytes + 1, ' '), "data").ok());
  // overlong encoding and surrogates are not UTF-8
  CHECK_FALSE(ValidateJsonObject(std::string("{\"a\":\"\xc0\xaf\"}"), "d").ok());
  CHECK_FALSE(ValidateJsonObject(std::string("{\"a\":\"\xed\xa0\x80\"}"), "d").ok());
  CHECK(ValidateJsonObject(std::string("{\"a\":\"\xe2\x82\xac \xf0\x9f\x98\x80\"}"), "d").ok());
}

TEST_CASE("a request's errors name the stream and the event") {
  AppendRequest req;
  req.streams.push_back({"vm-1", ExpectedVersion::Any(), {{"VmCreated", "{}", "{}"}}});
  req.streams.push_back(
      {"vm-2", ExpectedVersion::Any(), {{"VmCreated", "{}", "{}"}, {"VmStarted", "{oops", "{}"}}});
  Status s = ValidateAppendRequest(req);
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK(s.message().find("event 2 of stream vm-2: its data is not valid JSON") == 0);

  AppendRequest twice;
  twice.streams.push_back({"vm-1", ExpectedVersion::Any(), {}});
  twice.streams.push_back({"vm-1", ExpectedVersion::Any(), {}});
  CHECK(ValidateAppendRequest(twice).message() == "the append names stream vm-1 twice");

  AppendRequest zero;
  zero.streams.push_back({"vm-1", ExpectedVersion::Exact(0), {}});
  CHECK_FALSE(ValidateAppendRequest(zero).ok());
  CHECK(ValidateAppendRequest(AppendRequest{}).message() == "the append names no stream");
}

TEST_CASE("subjects name category and id and VM events carry their host or 'unassigned'") {
  RecordedEvent e;
  e.stream_id = "org-42";
  e.type = "OrganizationCreated";
  e.metadata = "{}";
  CHECK(SubjectFor(e) == "strato.events.org.42.OrganizationCreated");
  e.stream_id = "vm-abc";
  e.type = "VmCreated";
  CHECK(SubjectFor(e) == "strato.events.vm.unassigned.abc.VmCreated");
  e.metadata = R"({"host_id": "h-1"})";
  CHECK(SubjectFor(e) == "strato.events.vm.h-1.abc.VmCreated");
  e.metadata = R"({"host_id": "bad.host"})";
  CHECK(SubjectFor(e) == "strato.events.vm.unassigned.abc.VmCreated");
}

TEST_CASE("an event survives the JSON line codec") {
  RecordedEvent e;
  e.position = 7;
  e.stream_id = "vm-abc";
  e.stream_version = 3;
  e.event_id = Uuid::NewV7();
  e.type = "VmStarted";
  e.data = R"({"a": 1, "b": "x"})";
  e.metadata = R"({"actor": "user-1"})";
  e.recorded_at = FromUnixMicros(1'790'000'000'123'456);
  e.hash[0] = 0xab;
  std::string line = ToJsonLine(e);
  CHECK(line.find("\"recorded_at\":\"2026-09-21T") != std::string::npos);
  auto back = FromJsonLine(line);
  REQUIRE(back.ok());
  CHECK(back->position == 7);
  CHECK(back->stream_id == "vm-abc");
  CHECK(back->stream_version == 3);
  CHECK(back->event_id == e.event_id);
  CHECK(back->type == "VmStarted");
  CHECK(back->data == R"({"a":1,"b":"x"})");
  CHECK(back->recorded_at == e.recorded_at);
  CHECK(back->hash == e.hash);
  CHECK_FALSE(FromJsonLine("{\"position\":1}").ok());
}

TEST_CASE("an event filter selects by type and actor and time range") {
  RecordedEvent e;
  e.type = "VmStarted";
  e.metadata = R"({"actor": "user-1"})";
  e.recorded_at = *ParseRfc3339("2026-11-27T10:00:00Z", "t");
  EventFilter none;
  CHECK(none.Matches(e));
  EventFilter by_type{std::string("VmStopped"), {}, {}, {}};
  CHECK_FALSE(by_type.Matches(e));
  EventFilter by_actor{{}, std::string("user-1"), {}, {}};
  CHECK(by_actor.Matches(e));
  e.metadata = "{}";
  CHECK_FALSE(by_actor.Matches(e));
  CHECK(ActorOf(e) == "system");
  EventFilter window{{},
                     {},
                     *ParseRfc3339("2026-11-27T09:00:00Z", "t"),
                     *ParseRfc3339("2026-11-27T10:00:00Z", "t")};
  CHECK_FALSE(window.Matches(e));  // until is exclusive
  CHECK(window.PastTheEnd(e));
  e.recorded_at -= std::chrono::microseconds(1);
  CHECK(window.Matches(e));
}

TEST_CASE("RFC 3339 times parse with fractions and offsets and bad ones are refused") {
  auto z = ParseRfc3339("2026-11-27T07:16:54.123456Z", "--since");
  REQUIRE(z.ok());
  CHECK(FormatRfc3339(*z) == "2026-11-27T07:16:54.123456Z");
  auto off = ParseRfc3339("2026-11-27T08:16:54.5+01:00", "--since");
  REQUIRE(off.ok());
  CHECK(FormatRfc3339(*off) == "2026-11-27T07:16:54.500000Z");
  auto bad = ParseRfc3339("yesterday", "--since");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("--since \"yesterday\" is not an RFC 3339 time") == 0);
  CHECK_FALSE(ParseRfc3339("2026-13-01T00:00:00Z", "t").ok());
  CHECK_FALSE(ParseRfc3339("2026-11-27T07:16:54", "t").ok());
}

TEST_CASE("RFC 3339 formatting writes every field with its zeros and handles times before 1970") {
  CHECK(FormatRfc3339(FromUnixMicros(0)) == "1970-01-01T00:00:00.000000Z");
  CHECK(FormatRfc3339(FromUnixMicros(951782400000001)) == "2000-02-29T00:00:00.000001Z");
  CHECK(FormatRfc3339(FromUnixMicros(1798761599999999)) == "2026-12-31T23:59:59.999999Z");
  CHECK(FormatRfc3339(FromUnixMicros(-1)) == "1969-12-31T23:59:59.999999Z");
  CHECK(FormatRfc3339(FromUnixMicros(-86400000000LL * 366)) == "1968-12-31T00:00:00.000000Z");
}

TEST_CASE("RFC 3339 years outside what the clock can hold are refused") {
  auto far = ParseRfc3339("2999-01-01T00:00:00Z", "--since");
  REQUIRE_FALSE(far.ok());
  CHECK(far.status().message().find("outside the years 1970 to 2200") != std::string::npos);
}
