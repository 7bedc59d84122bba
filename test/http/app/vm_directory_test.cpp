// The web process's copy of the VM list (http/app/vm_directory.h) against a real database: it reads
// only what changed, follows renames and deletions, keeps a resolved list until something
// changes, and starts over when a projection is reset. And the shared lookup answers of the
// tuple feed (TupleFeed::Readable): kept until the tuples change, never after.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "core/authz/schema.h"
#include "core/domain/organization.h"
#include "core/domain/user.h"
#include "core/domain/vm.h"
#include "core/ids.h"
#include "events/commands/domain_commands.h"
#include "events/pg/pg_pool.h"
#include "http/app/vm_directory.h"
#include "http/cli/web.h"
#include "projections/models/registry.h"
#include "projections/queries/tuple_feed.h"
#include "projections/runner/runner.h"
#include "test/support/test_env.h"

namespace strato::test {
namespace {

struct World {
  std::string user, org;
  std::vector<std::string> vms;  // b-vm, a-vm, c-vm in that order
};

World Build(events::DomainCommands& commands) {
  World w;
  w.user = Uuid::NewV4().ToString();
  w.org = Uuid::NewV4().ToString();
  events::CommandContext system;
  system.actor = "system";
  REQUIRE(
      commands.User(system, w.user, domain::RegisterUser{w.user, "ann", "Ann", std::nullopt}).ok());
  events::CommandContext ann;
  ann.actor = w.user;
  REQUIRE(commands.Organization(ann, w.org, domain::CreateOrganization{w.org, "Acme"}).ok());
  for (const char* name : {"b-vm", "a-vm", "c-vm"}) {
    std::string id = Uuid::NewV4().ToString();
    domain::CreateVm c;
    c.vm_id = id;
    c.org_id = w.org;
    c.name = name;
    c.image = "debian-12";
    c.start = false;
    REQUIRE(commands.Vm(ann, id, c).ok());
    w.vms.push_back(id);
  }
  return w;
}

std::vector<std::string> Names(const http::VmDirectory::Listing& listing) {
  std::vector<std::string> out;
  for (const auto& l : *listing) out.push_back(l.vm->name + "@" + std::string(l.org_name));
  return out;
}

}  // namespace

TEST_CASE("the VM directory follows the read models and starts over after a projection reset") {
  TestDatabase db;
  events::DomainCommands commands(db.store());
  World w = Build(commands);
  projections::RunnerOptions o;
  o.database_url = db.url();
  auto runner =
      projections::ProjectionRunner::Create(db.store(), nullptr, projections::AllProjections(), o);
  REQUIRE(runner.ok());
  REQUIRE((*runner)->CatchUp().ok());
  events::PgPool pool(db.url(), 2);
  http::VmDirectory directory(pool, **runner);
  auto ids = std::make_shared<const std::vector<std::string>>(w.vms);

  http::VmDirectory::Listing first, again;
  REQUIRE(directory
              .Read([&](const http::VmDirectory::View& d) {
                CHECK(d.vms.size() == 3);
                const http::VmRecord* b = d.Vm(w.vms[0]);
                REQUIRE(b != nullptr);
                CHECK(b->name == "b-vm");
                CHECK(b->desired == "stopped");
                CHECK(b->org_id == w.org);
                CHECK(d.OrgName(w.org) == "Acme");
                CHECK(d.Vm("no-such-vm") == nullptr);
                first = d.Resolve(ids);
                again = d.Resolve(ids);
              })
              .ok());
  CHECK(Names(first) == std::vector<std::string>{"a-vm@Acme", "b-vm@Acme", "c-vm@Acme"});
  CHECK(first.get() == again.get());  // kept: nothing changed in between
  CHECK(directory.position() == *(*runner)->Position("vms"));

  // A deletion, a rename and a start: the next read shows all three, and the list is new.
  events::CommandContext ann;
  ann.actor = w.user;
  REQUIRE(commands.Vm(ann, w.vms[0], domain::DeleteVm{}).ok());
  REQUIRE(commands.Organization(ann, w.org, domain::RenameOrganization{"Acme Two"}).ok());
  REQUIRE(commands.Vm(ann, w.vms[2], domain::StartVm{}).ok());
  REQUIRE((*runner)->CatchUp().ok());
  http::VmDirectory::Listing after;
  REQUIRE(directory
              .Read([&](const http::VmDirectory::View& d) {
                CHECK(d.Vm(w.vms[0]) == nullptr);
                REQUIRE(d.Vm(w.vms[2]) != nullptr);
                CHECK(d.Vm(w.vms[2])->desired == "running");
                after = d.Resolve(ids);
              })
              .ok());
  CHECK(after.get() != first.get());
  CHECK(Names(after) == std::vector<std::string>{"a-vm@Acme Two", "c-vm@Acme Two"});

  // A reset empties the table and folds again from the start: a copy that only read "what
  // changed" would keep showing rows the table no longer has.
  REQUIRE((*runner)->Reset("vms").ok());
  REQUIRE(directory.Read([&](const http::VmDirectory::View& d) { CHECK(d.vms.empty()); }).ok());
  REQUIRE((*runner)->CatchUp().ok());
  REQUIRE(directory
              .Read([&](const http::VmDirectory::View& d) {
                CHECK(Names(d.Resolve(ids)) ==
                      std::vector<std::string>{"a-vm@Acme Two", "c-vm@Acme Two"});
              })
              .ok());
}

TEST_CASE("the tuple feed shares a lookup answer until the tuples change") {
  TestDatabase db;
  events::DomainCommands commands(db.store());
  World w = Build(commands);
  auto schema = authz::LoadSchema(http::EmbeddedPermissionSchema());
  REQUIRE(schema.ok());
  auto feed = projections::TupleFeed::Create(*schema, db.url(), db.store(), nullptr);
  REQUIRE(feed.ok());
  REQUIRE((*feed)->CatchUp().ok());

  auto one = (*feed)->Readable("vm", "read", w.user);
  auto two = (*feed)->Readable("vm", "read", w.user);
  REQUIRE(one.ok());
  REQUIRE(two.ok());
  CHECK((*one)->size() == 3);
  CHECK(one->get() == two->get());
  auto stranger = (*feed)->Readable("vm", "read", "someone-else");
  REQUIRE(stranger.ok());
  CHECK((*stranger)->empty());

  // Deleting a VM removes its tuples: the next answer is computed again and lacks it.
  const uint64_t revision = (*feed)->tuples().revision();
  events::CommandContext ann;
  ann.actor = w.user;
  REQUIRE(commands.Vm(ann, w.vms[1], domain::DeleteVm{}).ok());
  REQUIRE((*feed)->CatchUp().ok());
  CHECK((*feed)->tuples().revision() > revision);
  auto three = (*feed)->Readable("vm", "read", w.user);
  REQUIRE(three.ok());
  CHECK((*three)->size() == 2);
  CHECK(std::find((*three)->begin(), (*three)->end(), w.vms[1]) == (*three)->end());
  CHECK((*one)->size() == 3);  // an answer already handed out is not changed under its holder
}

}  // namespace strato::test
