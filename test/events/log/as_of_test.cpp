#include <doctest/doctest.h>

#include <thread>

#include "events/commands/domain_commands.h"
#include "events/log/as_of.h"
#include "test/support/test_env.h"

using namespace strato;
using namespace strato::events;
namespace d = strato::domain;

namespace {

d::CreateVm NewVm(const std::string& id, const std::string& name) {
  d::CreateVm c;
  c.vm_id = id;
  c.org_id = "o1";
  c.name = name;
  c.image = "debian-12";
  return c;
}

CommandContext Alice() {
  CommandContext c;
  c.command_id = Uuid::NewV4();
  c.actor = "user-alice";
  return c;
}

}  // namespace

TEST_CASE("state as of a position or a time shows each aggregate as it was then") {
  test::TestDatabase db;
  DomainCommands commands(db.store());
  REQUIRE(commands.Organization(Alice(), "o1", d::CreateOrganization{"o1", "Acme"}).ok());
  REQUIRE(commands.Vm(Alice(), "v1", NewVm("v1", "web-1")).ok());
  auto stopped = commands.Vm(Alice(), "v1", d::StopVm{});
  REQUIRE(stopped.ok());
  const int64_t middle = stopped->position;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const TimePoint between = SystemClock::Instance().Now();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(commands.Vm(Alice(), "v1", d::RenameVm{"web-renamed"}).ok());
  REQUIRE(commands.Vm(Alice(), "v1", d::StartVm{}).ok());
  REQUIRE(commands.Vm(Alice(), "v2", NewVm("v2", "db-1")).ok());

  auto then = StateAsOf(db.store(), "vm-v1", middle);
  REQUIRE(then.ok());
  CHECK(then->find("\"name\":\"web-1\"") != std::string::npos);
  CHECK(then->find("\"desired\":\"stopped\"") != std::string::npos);
  auto now = StateAsOf(db.store(), "vm-v1", *db.store().LastPosition());
  REQUIRE(now.ok());
  CHECK(now->find("\"name\":\"web-renamed\"") != std::string::npos);
  CHECK(now->find("\"desired\":\"running\"") != std::string::npos);

  auto at_time = ResolveAsOf(db.store(), FormatRfc3339(between));
  REQUIRE(at_time.ok());
  CHECK(*at_time == middle);
  CHECK(*ResolveAsOf(db.store(), "2000-01-01T00:00:00Z") == 0);
  CHECK_FALSE(ResolveAsOf(db.store(), "later").ok());

  std::vector<std::string> all;
  REQUIRE(AllStatesAsOf(db.store(), middle, [&](const std::string& j) { all.push_back(j); }).ok());
  CHECK(all.size() == 2);  // org-o1 and vm-v1; v2 did not exist yet
  auto not_aggregate = StateAsOf(db.store(), "vmname-o1-web-1", middle);
  CHECK(not_aggregate.status().code() == Code::kInvalidArgument);

  std::string out =
      test::RunStrato({"replay", "--as-of", std::to_string(middle), "--stream", "vm-v1"}, db.url())
          .second;
  CHECK(out.find("\"name\":\"web-1\"") != std::string::npos);
  std::string every =
      test::RunStrato({"replay", "--as-of", FormatRfc3339(between), "--all"}, db.url()).second;
  CHECK(every.find("\"kind\":\"organization\"") != std::string::npos);
  CHECK(every.find("\"name\":\"db-1\"") == std::string::npos);
}
