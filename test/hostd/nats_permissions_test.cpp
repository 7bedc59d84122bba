// NATS permissions for hosts (hostd/nats_permissions.h) against a real nats-server started with
// the generated configuration: host A follows its own VM events and talks on its own subjects,
// and cannot read host B's events nor send requests as host B.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "events/bus/nats_bus.h"
#include "events/bus/nats_link.h"
#include "events/hosts/host_rpc.h"
#include "hostd/nats_permissions.h"
#include "test/hostd/stack.h"
#include "test/support/process.h"
#include "test/support/test_env.h"

using namespace strato;

namespace {

hostd::NatsPermissionsSpec Spec() {
  hostd::NatsPermissionsSpec spec;
  spec.control_plane = {"strato", "cp-secret"};
  spec.hosts = {{"host-a", {"host-a", "a-secret"}}, {"host-b", {"host-b", "b-secret"}}};
  return spec;
}

std::unique_ptr<events::NatsLink> HostLink(int port, const std::string& host,
                                           const std::string& pw) {
  events::NatsLinkOptions o;
  o.url = "nats://127.0.0.1:" + std::to_string(port);
  o.user = host;
  o.password = pw;
  o.inbox_prefix = hostd::HostInboxPrefix(host);
  auto link = events::NatsLink::Connect(nullptr, o);
  REQUIRE_MESSAGE(link.ok(), link.status().ToString());
  return std::move(*link);
}

}  // namespace

TEST_CASE("the generated NATS configuration gives each host a user for its own subjects") {
  auto conf = hostd::NatsAuthorizationBlock(Spec());
  REQUIRE(conf.ok());
  CHECK(conf->find("\"strato.rpc.host.host-a.>\"") != std::string::npos);
  CHECK(conf->find("\"_INBOX_host-b.>\"") != std::string::npos);
  CHECK(conf->find("\"$JS.API.CONSUMER.CREATE.STRATO_EVENTS.*.strato.events.vm.host-a.>\"") !=
        std::string::npos);
  hostd::NatsPermissionsSpec bad = Spec();
  bad.hosts[0].host_id = "a.b";
  CHECK(hostd::NatsAuthorizationBlock(bad).status().code() == Code::kInvalidArgument);
  bad = Spec();
  bad.hosts[0].credentials.password = "quote\"d";
  CHECK(hostd::NatsAuthorizationBlock(bad).status().code() == Code::kInvalidArgument);
}

TEST_CASE("host A cannot read host B's events nor send requests as host B") {
  auto dir = test::TempDir::Make("nats-perm-");
  REQUIRE(dir.ok());
  int port = test::FreePort();
  auto conf = hostd::NatsServerConfig(Spec(), "127.0.0.1:" + std::to_string(port),
                                      (*dir)->path() + "/store");
  REQUIRE(conf.ok());
  const std::string conf_path = (*dir)->path() + "/nats.conf";
  std::ofstream(conf_path) << *conf;
  std::string bin = std::getenv("STRATO_NATS_SERVER_BIN") ? std::getenv("STRATO_NATS_SERVER_BIN")
                                                          : "/usr/sbin/nats-server";
  auto server =
      test::ChildProcess::Spawn({{bin, "-c", conf_path}, {}, (*dir)->path() + "/nats.log"});
  REQUIRE(server.ok());
  REQUIRE(test::WaitForPort(port, std::chrono::seconds(20)).ok());

  // The control plane: the stream, one event for each host, and a responder for reports.
  events::NatsOptions cp;
  cp.url = "nats://strato:cp-secret@127.0.0.1:" + std::to_string(port);
  auto conn = events::NatsConnection::Connect(cp);
  REQUIRE_MESSAGE(conn.ok(), conn.status().ToString());
  REQUIRE(events::EnsureEventStream(**conn).ok());
  auto pub = events::AsyncPublisher::Create(**conn);
  REQUIRE(pub.ok());
  REQUIRE((*pub)->Publish("strato.events.vm.host-a.vm-1.VmScheduled", "{\"for\":\"a\"}").ok());
  REQUIRE((*pub)->Publish("strato.events.vm.host-b.vm-2.VmScheduled", "{\"for\":\"b\"}").ok());
  REQUIRE((*pub)->Complete(std::chrono::seconds(5)).ok());
  // The control plane's host handlers answer on strato.rpc.host.*.<verb>.
  test::TestDatabase db;
  events::HostControlOptions hco;
  hco.database_url = db.url();
  events::HostControl control(db.store(), hco);
  auto service = events::HostRpcService::Start(**conn, control);
  REQUIRE(service.ok());

  auto a = HostLink(port, "host-a", "a-secret");
  // Host A follows its own events: it gets exactly its own.
  std::mutex mu;
  std::vector<std::string> got;
  auto own =
      a->Follow("STRATO_EVENTS", "strato.events.vm.host-a.>", 0, [&](int64_t, std::string payload) {
        std::lock_guard<std::mutex> lock(mu);
        got.push_back(payload);
      });
  REQUIRE_MESSAGE(own.ok(), own.status().ToString());
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < until) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!got.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    REQUIRE(got.size() == 1);
    CHECK(got[0] == "{\"for\":\"a\"}");
  }
  // Host B's events: the consumer cannot even be created.
  auto theirs =
      a->Follow("STRATO_EVENTS", "strato.events.vm.host-b.>", 0, [&](int64_t, std::string payload) {
        std::lock_guard<std::mutex> lock(mu);
        got.push_back(payload);
      });
  CHECK_FALSE(theirs.ok());
  // Its own request subjects reach the control plane; host B's are refused by the server.
  events::HostRegistration reg{"host-a", "10.0.0.1", 4, 4096, 50, "cloud-hypervisor", "38", 1000};
  auto mine = a->Request("strato.rpc.host.host-a.register", events::EncodeRegistration(reg),
                         std::chrono::seconds(5));
  REQUIRE_MESSAGE(mine.ok(), mine.status().ToString());
  CHECK(events::ReplyStatus(*mine).ok());
  reg.name = "host-b";
  auto as_b = a->Request("strato.rpc.host.host-b.register", events::EncodeRegistration(reg),
                         std::chrono::milliseconds(1000));
  CHECK_FALSE(as_b.ok());
  auto history = events::ReadWholeStream(db.store(), "host-host-b");
  REQUIRE(history.ok());
  CHECK(history->empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::lock_guard<std::mutex> lock(mu);
  CHECK(got.size() == 1);
}

TEST_CASE(
    "strato-hostd nats-config writes the configuration for its owner only and prints no password") {
  auto dir = test::TempDir::Make("nats-config-");
  REQUIRE(dir.ok());
  const std::string out = (*dir)->path() + "/nats.conf";
  const std::string log = (*dir)->path() + "/out.log";
  std::map<std::string, std::string> env = {{"STRATO_NATS_CONTROL_USER", "strato"},
                                            {"STRATO_NATS_CONTROL_PASSWORD", "cp-Secret1"},
                                            {"STRATO_HOST_ID", "host-a"},
                                            {"STRATO_NATS_USER", "host-a"},
                                            {"STRATO_NATS_PASSWORD", "a-Secret2"}};
  auto run = [&](std::map<std::string, std::string> e) {
    auto child = test::ChildProcess::Spawn(
        {{test::HostdBinary(), "nats-config", "--listen", "127.0.0.1:4222", "--store",
          (*dir)->path() + "/js", "--out", out},
         std::move(e),
         log});
    REQUIRE(child.ok());
    auto code = (*child)->Wait(std::chrono::seconds(10));
    REQUIRE(code.ok());
    return *code;
  };
  std::ofstream(out) << "old";  // an existing file is replaced, and its mode tightened
  chmod(out.c_str(), 0644);
  CHECK(run(env) == 0);
  struct stat st {};
  REQUIRE(stat(out.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  const std::string conf = test::ReadFile(out);
  CHECK(conf.find("listen: \"127.0.0.1:4222\"") != std::string::npos);
  CHECK(conf.find("\"cp-Secret1\"") != std::string::npos);
  CHECK(conf.find("\"_INBOX_host-a.>\"") != std::string::npos);
  CHECK(conf.find("old") == std::string::npos);

  env["STRATO_NATS_PASSWORD"] = "";
  CHECK(run(env) == 2);
  const std::string printed = test::ReadFile(log);
  CHECK(printed.find("NATS password of host host-a") != std::string::npos);
  CHECK(printed.find("cp-Secret1") == std::string::npos);
  CHECK(printed.find("a-Secret2") == std::string::npos);
}
