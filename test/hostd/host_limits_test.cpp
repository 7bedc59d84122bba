// The limits on what a host may send the control plane (schema/host_protocol.md, "Limits"):
// each attack a host's NATS credentials allow, performed, and refused. Deeply nested and
// oversized payloads, out-of-range fields, a desired request waiting for a position the log
// has not reached, and one host flooding requests while another waits for its desired state
// (with a real nats-server and PostgreSQL, as the rest of the host RPC tests).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "core/ids.h"
#include "events/bus/nats_bus.h"
#include "events/bus/nats_link.h"
#include "events/hosts/host_protocol.h"
#include "events/hosts/host_rpc.h"
#include "events/log/memory_event_store.h"
#include "test/support/process.h"
#include "test/support/test_env.h"

using namespace strato;
using Steady = std::chrono::steady_clock;

namespace {

// 300 KB of '[' (what killed `strato serve` through the recursive parser), optionally behind a
// prefix such as {"reports":.
std::string Nested(size_t n = 300 * 1024, const std::string& prefix = "") {
  return prefix + std::string(n, '[');
}

bool Mentions(const Status& s, const std::string& words) {
  return s.message().find(words) != std::string::npos;
}

// HostControl over the in-memory store; the desired state comes from a fake reader.
struct MemoryControl {
  events::MemoryEventStore store;
  std::atomic<int> reads{0};
  events::HostControl control{store, Options()};

  events::HostControlOptions Options() {
    events::HostControlOptions o;
    o.desired_wait = std::chrono::milliseconds(5000);
    o.desired_reader = [this](const std::string&, const events::DesiredRequest&) {
      ++reads;
      return Result<events::DesiredReply>(events::DesiredReply{});
    };
    return o;
  }
};

std::unique_ptr<events::NatsLink> Link(const std::string& url, const std::string& name) {
  events::NatsLinkOptions o;
  o.url = url;
  o.name = name;
  auto link = events::NatsLink::Connect(nullptr, o);
  REQUIRE_MESSAGE(link.ok(), link.status().ToString());
  return std::move(*link);
}

std::string RegistrationOf(const std::string& name) {
  return events::EncodeRegistration(
      {name, "10.0.0.1", 4, 4096, 50, "cloud-hypervisor", "38.0", 1000});
}

}  // namespace

TEST_CASE("deeply nested host messages are refused by the depth cap without recursion") {
  // Before the cap each of these overflowed the stack in rapidjson's recursive parser.
  auto hb = events::DecodeHeartbeat(Nested(3000));  // within the heartbeat's size cap
  CHECK(hb.status().code() == Code::kInvalidArgument);
  CHECK(Mentions(hb.status(), "nests more than"));
  auto rep = events::DecodeReports(Nested(300 * 1024, "{\"reports\":"));
  CHECK(rep.status().code() == Code::kInvalidArgument);
  CHECK(Mentions(rep.status(), "nests more than"));
  auto des = events::DecodeDesiredRequest(Nested(100 * 1024, "{\"vm_ids\":"));
  CHECK(Mentions(des.status(), "nests more than"));
  auto reg = events::DecodeRegistration(Nested(10 * 1024));
  CHECK(Mentions(reg.status(), "nests more than"));
  // hostd reads the control plane's replies through the same parse.
  CHECK(events::DecodeDesiredReply(Nested(1 << 20, "{\"ok\":true,\"vms\":")).status().code() ==
        Code::kInvalidArgument);
  CHECK(events::ReplyStatus(Nested()).code() == Code::kInvalidArgument);
  // Brackets inside strings are text, not nesting; a message at the cap parses.
  auto quoted = events::DecodeHeartbeat("{\"sent_at\":\"[[[[[[[[[[[[[[[[[[[[\"}");
  REQUIRE(quoted.ok());
  CHECK(quoted->sent_at == "[[[[[[[[[[[[[[[[[[[[");
  CHECK(events::CheckHostJsonShape("{\"a\":[[[[[[[1]]]]]]]}", 100, "x").ok());
  CHECK_FALSE(events::CheckHostJsonShape("{\"a\":[[[[[[[[1]]]]]]]]}", 100, "x").ok());
  CHECK(events::CheckHostJsonShape("{\"a\":\"\\\"[[[[[[[[[[\"}", 100, "x").ok());

  // The handlers answer with an error (and log); nothing is appended.
  MemoryControl m;
  for (const std::string& reply :
       {m.control.HandleRegister("host-a", Nested(10 * 1024)),
        m.control.HandleDesired("host-a", Nested(100 * 1024)),
        m.control.HandleReport("host-a", Nested(300 * 1024, "{\"reports\":"))}) {
    Status s = events::ReplyStatus(reply);
    CHECK(s.code() == Code::kInvalidArgument);
    CHECK_MESSAGE(Mentions(s, "nests more than"), s.message());
  }
  m.control.HandleHeartbeat("host-a", Nested(3000));
  m.control.HandleHeartbeat("host-a", Nested());
  auto head = m.store.LastPosition();
  REQUIRE(head.ok());
  CHECK(*head == 0);
  CHECK(m.reads == 0);
}

TEST_CASE("oversized host messages and fields beyond their limits are refused") {
  std::string pad(events::kMaxRegistrationBytes, 'x');
  auto reg = events::DecodeRegistration("{\"pad\":\"" + pad + "\"}");
  CHECK(reg.status().code() == Code::kInvalidArgument);
  CHECK(Mentions(reg.status(), "at most 16384 are accepted"));
  CHECK(
      Mentions(events::DecodeHeartbeat("{\"sent_at\":\"" + std::string(5000, 'x') + "\"}").status(),
               "bytes long"));
  CHECK(events::HostMessageByteLimit("report") == events::kMaxReportBytes);
  CHECK(events::HostMessageByteLimit("explode") == 0);

  // Too many VMs in one request, or names that are not ids.
  std::vector<std::string> ids(events::kMaxDesiredVmIds + 1, "vm-1");
  CHECK(Mentions(events::DecodeDesiredRequest(events::EncodeDesiredRequest({ids, 0})).status(),
                 "at most 1024"));
  CHECK(Mentions(events::DecodeDesiredRequest("{\"vm_ids\":[\"a.b\"]}").status(), "a VM id"));
  CHECK(events::DecodeDesiredRequest("{\"min_position\":-1}").status().code() ==
        Code::kInvalidArgument);
  std::vector<events::VmReport> many(events::kMaxReportsPerMessage + 1,
                                     {"vm-1", "running", 1, std::nullopt});
  CHECK(Mentions(events::DecodeReports(events::EncodeReports(many)).status(), "at most 200"));
  many.resize(events::kMaxReportsPerMessage);
  CHECK(events::DecodeReports(events::EncodeReports(many)).ok());
  std::string long_error(events::kMaxReportErrorBytes + 1, 'e');
  CHECK(Mentions(
      events::DecodeReports(events::EncodeReports({{"vm-1", "crashed", 1, long_error}})).status(),
      "longer than 4096 bytes"));
  CHECK(events::DecodeReports("{\"reports\":[{\"vm_id\":\"v\",\"state\":\"running\","
                              "\"generation\":-3}]}")
            .status()
            .code() == Code::kInvalidArgument);
  // Invalid UTF-8 is refused by the parser; hostd sends error texts bounded and repaired.
  CHECK_FALSE(events::DecodeHeartbeat("{\"sent_at\":\"\xff\xfe\"}").ok());
  CHECK(events::BoundedReportError(long_error).size() == events::kMaxReportErrorBytes);
  CHECK(events::BoundedReportError("bad \xff byte") == "bad ? byte");
  std::string accents;
  for (int i = 0; i < 3000; ++i) accents += "\xc3\xa9";  // é: a cut never splits it
  std::string cut = events::BoundedReportError(accents);
  CHECK(cut.size() == events::kMaxReportErrorBytes);
  CHECK(events::DecodeReports(events::EncodeReports({{"vm-1", "crashed", 1, cut}})).ok());
}

TEST_CASE("figures a host reports about itself are clamped into range") {
  auto hb = events::DecodeHeartbeat(
      "{\"interval_ms\":999999999999999999,\"vms\":18446744073709551615,\"load1\":1e300,"
      "\"load5\":-2,\"memory_available_mb\":-7,\"uptime_s\":1.5e30}");
  REQUIRE_MESSAGE(hb.ok(), hb.status().ToString());
  CHECK(hb->interval_ms == events::kMaxHeartbeatIntervalMs);
  CHECK(hb->vms == int64_t{1} << 40);
  CHECK(hb->load1 == 1e6);
  CHECK(hb->load5 == 0);
  CHECK(hb->memory_available_mb == 0);
  CHECK(hb->uptime_s == int64_t{1} << 40);
  auto fast = events::DecodeHeartbeat("{\"interval_ms\":1}");
  REQUIRE(fast.ok());
  CHECK(fast->interval_ms == events::kMinHeartbeatIntervalMs);
  auto reg = events::DecodeRegistration(
      "{\"name\":\"h\",\"address\":\"a\",\"cpu_count\":1,\"memory_mb\":1,\"disk_gb\":1,"
      "\"hypervisor_kind\":\"k\",\"hypervisor_version\":\"v\","
      "\"heartbeat_interval_ms\":9223372036854775807}");
  REQUIRE(reg.ok());
  CHECK(reg->heartbeat_interval_ms == events::kMaxHeartbeatIntervalMs);
  CHECK(events::DecodeRegistration("{\"name\":\"h\",\"address\":\"a\",\"cpu_count\":1e20}")
            .status()
            .code() == Code::kInvalidArgument);
}

TEST_CASE("a desired request for a position beyond the log's head is answered at once") {
  // In memory: the reader is never asked.
  MemoryControl m;
  auto started = Steady::now();
  Status s = events::ReplyStatus(
      m.control.HandleDesired("host-a", events::EncodeDesiredRequest({{}, int64_t{1} << 50})));
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK_MESSAGE(Mentions(s, "beyond the end of the log (position 0)"), s.message());
  CHECK(m.reads == 0);
  CHECK(Steady::now() - started < std::chrono::seconds(1));

  // Against the read model: before, this held the handler for desired_wait (5 s).
  test::TestDatabase db;
  events::HostControlOptions o;
  o.database_url = db.url();
  o.desired_wait = std::chrono::milliseconds(5000);
  events::HostControl control(db.store(), o);
  REQUIRE(events::ReplyStatus(control.HandleRegister("host-a", RegistrationOf("host-a"))).ok());
  auto head = db.store().LastPosition();
  REQUIRE(head.ok());
  started = Steady::now();
  Status far = events::ReplyStatus(
      control.HandleDesired("host-a", events::EncodeDesiredRequest({{}, *head + 1000000})));
  auto took = Steady::now() - started;
  CHECK(far.code() == Code::kInvalidArgument);
  CHECK_MESSAGE(Mentions(far, "beyond the end of the log"), far.message());
  CHECK(took < std::chrono::seconds(1));
  // At the head it is a wait for the read model, as before (nothing folds here: bounded).
  auto at_head =
      events::DecodeDesiredReply(control.HandleDesired("host-a", "{\"min_position\":0}"));
  CHECK(at_head.ok());
}

// A real nats-server and database with the host RPC served on them, as in `strato serve`.
struct RpcOverNats {
  test::NatsServerProcess nats;
  test::TestDatabase db;
  std::unique_ptr<events::NatsConnection> conn;
  std::unique_ptr<events::HostControl> control;
  std::unique_ptr<events::HostRpcService> service;
  RpcOverNats() {
    REQUIRE(nats.Start().ok());
    events::NatsOptions no;
    no.url = nats.url();
    auto c = events::NatsConnection::Connect(no);
    REQUIRE_MESSAGE(c.ok(), c.status().ToString());
    conn = std::move(*c);
    events::HostControlOptions o;
    o.database_url = db.url();
    o.desired_wait = std::chrono::milliseconds(5000);
    control = std::make_unique<events::HostControl>(db.store(), o);
    auto started = events::HostRpcService::Start(*conn, *control);
    REQUIRE_MESSAGE(started.ok(), started.status().ToString());
    service = std::move(*started);
  }
};

TEST_CASE("over NATS a host's malformed and oversized messages get errors and serving goes on") {
  RpcOverNats rpc;
  auto& nats = rpc.nats;
  auto a = Link(nats.url(), "host-a");
  const auto timeout = std::chrono::seconds(5);

  // A nested heartbeat is dropped (logged); nested requests are answered with an error.
  REQUIRE(a->Publish("strato.host.host-a.heartbeat", Nested()).ok());
  REQUIRE(a->Publish("strato.host.host-a.heartbeat", Nested(3000)).ok());
  for (const char* verb : {"register", "desired", "report"}) {
    auto reply = a->Request(events::HostRpcSubject("host-a", verb),
                            Nested(100 * 1024, "{\"reports\":"), timeout);
    REQUIRE_MESSAGE(reply.ok(), reply.status().ToString());
    Status s = events::ReplyStatus(*reply);
    CHECK(s.code() == Code::kInvalidArgument);
    CHECK_MESSAGE((Mentions(s, "nests more than") || Mentions(s, "bytes long")), s.message());
  }
  // Oversized: refused before it is queued or parsed.
  auto big = a->Request("strato.rpc.host.host-a.register",
                        "{\"pad\":\"" + std::string(20000, 'x') + "\"}", timeout);
  REQUIRE(big.ok());
  CHECK(Mentions(events::ReplyStatus(*big), "bytes long"));
  auto far = a->Request("strato.rpc.host.host-a.desired", "{\"min_position\":1000000000}",
                        std::chrono::seconds(2));
  REQUIRE_MESSAGE(far.ok(), far.status().ToString());
  CHECK(Mentions(events::ReplyStatus(*far), "beyond the end of the log"));

  // The process and the service are fine.
  auto reg = a->Request("strato.rpc.host.host-a.register", RegistrationOf("host-a"), timeout);
  REQUIRE(reg.ok());
  CHECK(events::ReplyStatus(*reg).ok());
  auto desired = a->Request("strato.rpc.host.host-a.desired", "{}", timeout);
  REQUIRE(desired.ok());
  CHECK(events::DecodeDesiredReply(*desired).ok());
}

TEST_CASE("one host flooding requests does not hold up another host's desired reply") {
  RpcOverNats rpc;
  auto& nats = rpc.nats;
  auto a = Link(nats.url(), "host-a");
  auto b = Link(nats.url(), "host-b");
  const auto timeout = std::chrono::seconds(20);
  REQUIRE(events::ReplyStatus(
              *a->Request("strato.rpc.host.host-a.register", RegistrationOf("host-a"), timeout))
              .ok());
  REQUIRE(events::ReplyStatus(
              *b->Request("strato.rpc.host.host-b.register", RegistrationOf("host-b"), timeout))
              .ok());
  auto head = rpc.db.store().LastPosition();
  REQUIRE(head.ok());

  // Host A floods: requests that each used to hold the one shared handler for 5 s (a
  // min_position far ahead), then thousands of ordinary ones, and heartbeats; it never reads
  // the replies.
  const std::string far = events::EncodeDesiredRequest({{}, *head + 1000000});
  for (int i = 0; i < 3; ++i) {
    REQUIRE(a->PublishRequest("strato.rpc.host.host-a.desired", "_INBOX.flood", far).ok());
  }
  for (int i = 0; i < 5000; ++i) {
    REQUIRE(a->PublishRequest("strato.rpc.host.host-a.desired", "_INBOX.flood", "{}").ok());
    if (i % 10 == 0) {
      REQUIRE(a->Publish("strato.host.host-a.heartbeat", events::EncodeHeartbeat({"", 1000})).ok());
    }
  }
  // Host B asks while the flood is queued: it waits behind at most one message of host A.
  auto started = Steady::now();
  auto reply = b->Request("strato.rpc.host.host-b.desired", "{}", timeout);
  auto took = Steady::now() - started;
  REQUIRE_MESSAGE(reply.ok(), reply.status().ToString());
  CHECK_MESSAGE(events::DecodeDesiredReply(*reply).ok(), *reply);
  CHECK_MESSAGE(took < std::chrono::milliseconds(1500),
                std::chrono::duration_cast<std::chrono::milliseconds>(took).count(), " ms");
  // Host A itself is answered again once its own backlog drains (at first: "unavailable").
  bool served = false;
  auto until = Steady::now() + std::chrono::seconds(30);
  while (!served && Steady::now() < until) {
    auto mine = a->Request("strato.rpc.host.host-a.desired", "{}", timeout);
    served = mine.ok() && events::DecodeDesiredReply(*mine).ok();
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(served);
}
