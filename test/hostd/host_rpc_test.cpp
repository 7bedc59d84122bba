// The control plane's host handlers (events/hosts/host_rpc.h) against a real PostgreSQL, without
// NATS: register, desired, report and the liveness monitor, with an injected clock.
#include <doctest/doctest.h>

#include <mutex>
#include <set>
#include <string>

#include "core/ids.h"
#include "events/hosts/host_protocol.h"
#include "events/hosts/host_rpc.h"
#include "projections/models/registry.h"
#include "projections/runner/runner.h"
#include "test/support/test_env.h"

using namespace strato;

namespace {

struct Fixture {
  test::TestDatabase db;
  ManualClock clock{std::chrono::system_clock::now()};
  std::mutex counted_mu;
  std::set<std::string> counted;  // "command outcome", as the observer heard of them
  events::HostControl control{db.store(), Options()};
  events::DomainCommands commands{db.store()};
  std::unique_ptr<projections::ProjectionRunner> runner;

  events::HostControlOptions Options() {
    events::HostControlOptions o;
    o.database_url = db.url();
    o.default_heartbeat_interval = std::chrono::milliseconds(1000);
    o.desired_wait = std::chrono::milliseconds(200);
    o.clock = &clock;
    o.observer = [this](std::string_view command, const Status& outcome) {
      std::lock_guard<std::mutex> lock(counted_mu);
      counted.insert(std::string(command) + (outcome.ok() ? " ok" : " not ok"));
    };
    return o;
  }
  Fixture() {
    auto r = projections::ProjectionRunner::Create(db.store(), nullptr,
                                                   projections::AllProjections(), {db.url()});
    REQUIRE(r.ok());
    runner = std::move(*r);
  }
  void Fold() { REQUIRE(runner->CatchUp().ok()); }

  void Register(const std::string& host) {
    events::HostRegistration r{host, "10.0.0.1", 8, 16384, 100, "cloud-hypervisor", "38.0", 1000};
    std::string reply = control.HandleRegister(host, events::EncodeRegistration(r));
    REQUIRE_MESSAGE(events::ReplyStatus(reply).ok(), reply);
  }
  std::string CreateVm(const std::string& name, const std::string& host) {
    std::string id = Uuid::NewV7().ToString();
    events::CommandContext ctx;
    ctx.actor = "user-" + Uuid::NewV4().ToString();
    domain::CreateVm c;
    c.vm_id = id;
    c.org_id = "org-1";
    c.name = name;
    c.image = "debian-12";
    REQUIRE(commands.Vm(ctx, id, c).ok());
    REQUIRE(commands.Vm(ctx, id, domain::ScheduleVm{host}).ok());
    return id;
  }
  std::vector<events::VmReportResult> Report(const std::string& host, events::VmReport r) {
    std::string reply = control.HandleReport(host, events::EncodeReports({r}));
    auto results = events::DecodeReportResults(reply);
    REQUIRE_MESSAGE(results.ok(), reply);
    return *results;
  }
};

}  // namespace

TEST_CASE("desired returns a host's VMs with the position the snapshot is consistent at") {
  Fixture f;
  f.Register("host-a");
  f.Register("host-b");
  std::string a1 = f.CreateVm("a-1", "host-a");
  std::string a2 = f.CreateVm("a-2", "host-a");
  std::string b1 = f.CreateVm("b-1", "host-b");
  f.Fold();
  auto last = f.db.store().LastPosition();
  REQUIRE(last.ok());
  auto reply = events::DecodeDesiredReply(f.control.HandleDesired("host-a", "{}"));
  REQUIRE(reply.ok());
  CHECK(reply->position == *last);
  REQUIRE(reply->vms.size() == 2);
  CHECK(reply->vms[0].vm_id == std::min(a1, a2));
  CHECK(reply->vms[0].desired == "running");
  CHECK(reply->vms[0].generation == 1);
  CHECK(reply->vms[0].last_action == "create");

  // One VM, and a position the log has but the projection has not reached (a VM created and
  // not folded): after the bounded wait the reply says how far the projection is.
  f.CreateVm("a-3", "host-a");
  auto head = f.db.store().LastPosition();
  REQUIRE(head.ok());
  REQUIRE(*head > *last);
  auto one = events::DecodeDesiredReply(
      f.control.HandleDesired("host-a", events::EncodeDesiredRequest({{a2}, *head})));
  REQUIRE(one.ok());
  CHECK(one->position == *last);
  REQUIRE(one->vms.size() == 1);
  CHECK(one->vms[0].vm_id == a2);
  auto other = events::DecodeDesiredReply(
      f.control.HandleDesired("host-a", events::EncodeDesiredRequest({{b1}, 0})));
  REQUIRE(other.ok());
  CHECK(other->vms.empty());
}

TEST_CASE("reports become events only when they change and only from the VM's host") {
  Fixture f;
  f.Register("host-a");
  f.Register("host-b");
  std::string vm = f.CreateVm("web", "host-a");
  auto first = f.Report("host-a", {vm, "running", 1, std::nullopt});
  REQUIRE(first.size() == 1);
  CHECK(first[0].status.ok());
  CHECK(first[0].appended);
  auto again = f.Report("host-a", {vm, "running", 1, std::nullopt});
  CHECK(again[0].status.ok());
  CHECK_FALSE(again[0].appended);
  auto theft = f.Report("host-b", {vm, "stopped", 1, std::nullopt});
  CHECK(theft[0].status.code() == Code::kFailedPrecondition);
  CHECK(theft[0].status.message().find("host-b cannot report") != std::string::npos);
  auto vm_state = f.commands.LoadVm(vm);
  REQUIRE(vm_state.ok());
  CHECK(vm_state->observed == domain::VmObservedState::kRunning);
  auto bad = f.Report("host-a", {vm, "exploded", 1, std::nullopt});
  CHECK(bad[0].status.code() == Code::kInvalidArgument);
}

TEST_CASE("a silent host becomes unreachable with its VMs unknown and reachable on a heartbeat") {
  Fixture f;
  f.Register("host-a");
  f.Register("host-b");
  std::string vm = f.CreateVm("web", "host-a");
  std::string other = f.CreateVm("db", "host-b");
  REQUIRE(f.Report("host-a", {vm, "running", 1, std::nullopt})[0].status.ok());
  REQUIRE(f.Report("host-b", {other, "running", 1, std::nullopt})[0].status.ok());
  f.Fold();

  f.clock.Advance(std::chrono::milliseconds(2500));
  f.control.HandleHeartbeat("host-b", events::EncodeHeartbeat({"", 1000}));
  auto none = f.control.CheckLiveness();
  REQUIRE(none.ok());
  CHECK(none->empty());  // 2.5 s of silence is less than 3 intervals

  f.clock.Advance(std::chrono::milliseconds(1000));
  f.control.HandleHeartbeat("host-b", events::EncodeHeartbeat({"", 1000}));
  auto marked = f.control.CheckLiveness();
  REQUIRE(marked.ok());
  CHECK(*marked == std::vector<std::string>{"host-a"});
  auto v = f.commands.LoadVm(vm);
  REQUIRE(v.ok());
  CHECK(v->observed == domain::VmObservedState::kUnknown);
  CHECK(v->observed_generation == 1);
  CHECK(v->observed_error.value_or("").find("unreachable") != std::string::npos);
  auto o = f.commands.LoadVm(other);
  REQUIRE(o.ok());
  CHECK(o->observed == domain::VmObservedState::kRunning);
  auto again = f.control.CheckLiveness();
  REQUIRE(again.ok());
  CHECK(again->empty());  // marked once

  f.control.HandleHeartbeat("host-a", events::EncodeHeartbeat({"", 1000}));
  auto history = events::ReadWholeStream(f.db.store(), "host-host-a");
  REQUIRE(history.ok());
  CHECK(history->back().type == "HostReachable");
  // The host re-reports what it runs.
  CHECK(f.Report("host-a", {vm, "running", 1, std::nullopt})[0].appended);
  // Every command the host RPC ran was told to its observer (serve counts them in /metrics).
  for (const char* c : {"host.register ok", "vm.report_observed ok", "host.mark_unreachable ok",
                        "host.mark_reachable ok"}) {
    CHECK_MESSAGE(f.counted.count(c) == 1, c);
  }
}

TEST_CASE("host protocol messages round-trip and errors keep their code and sentence") {
  events::DesiredReply d;
  d.position = 42;
  d.vms.push_back({"vm-1", "web", "debian-12", 2, 1024, 10, "paused", 3, "pause", false, 40});
  auto back = events::DecodeDesiredReply(events::EncodeDesiredReply(d));
  REQUIRE(back.ok());
  CHECK(back->position == 42);
  REQUIRE(back->vms.size() == 1);
  CHECK(back->vms[0].desired == "paused");
  CHECK(back->vms[0].last_action == "pause");
  CHECK(back->vms[0].memory_mb == 1024);

  std::vector<events::VmReport> reports = {{"vm-1", "crashed", 3, "exit status 1"},
                                           {"vm-2", "running", 1, std::nullopt}};
  auto r = events::DecodeReports(events::EncodeReports(reports));
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].error == std::optional<std::string>("exit status 1"));
  CHECK_FALSE((*r)[1].error.has_value());

  std::string err = events::EncodeErrorReply(Status::FailedPrecondition("VM web is elsewhere"));
  Status s = events::ReplyStatus(err);
  CHECK(s.code() == Code::kFailedPrecondition);
  CHECK(s.message() == "VM web is elsewhere");
  CHECK(events::DecodeDesiredReply(err).status().code() == Code::kFailedPrecondition);
  CHECK(events::DecodeReports("{\"reports\":[{\"state\":\"running\"}]}").status().code() ==
        Code::kInvalidArgument);
  CHECK(events::ValidateHostId("host-a_1").ok());
  CHECK_FALSE(events::ValidateHostId("host.a").ok());
  CHECK_FALSE(events::ValidateHostId("").ok());
  CHECK(events::HostRpcSubject("h1", "report") == "strato.rpc.host.h1.report");
  CHECK(events::HostHeartbeatSubject("h1") == "strato.host.h1.heartbeat");
}
