#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <utility>
#include <variant>
#include <vector>

#include "events/commands/domain_commands.h"
#include "events/log/memory_event_store.h"

using namespace strato;
using namespace strato::events;
namespace d = strato::domain;

namespace {

CommandContext As(const std::string& user) {
  CommandContext c;
  c.command_id = Uuid::NewV4();
  c.actor = "user-" + user;
  return c;
}

d::CreateVm NewVm(const std::string& id, const std::string& org, const std::string& name) {
  d::CreateVm c;
  c.vm_id = id;
  c.org_id = org;
  c.name = name;
  c.image = "debian-12";
  return c;
}

}  // namespace

TEST_CASE("VM names are unique within an organization and free again after delete or rename") {
  MemoryEventStore store;
  DomainCommands commands(store);
  REQUIRE(commands.Vm(As("u1"), "vm1", NewVm("vm1", "org1", "web-1")).ok());
  auto same = commands.Vm(As("u1"), "vm2", NewVm("vm2", "org1", "web-1"));
  REQUIRE_FALSE(same.ok());
  CHECK(same.status().code() == Code::kAlreadyExists);
  CHECK(same.status().message().find("web-1") != std::string::npos);
  CHECK(store.ReadStream("vm-vm2", 1, 10)->empty());
  CHECK(commands.Vm(As("u1"), "vm3", NewVm("vm3", "org2", "web-1")).ok());  // other org

  REQUIRE(commands.Vm(As("u1"), "vm1", d::RenameVm{"web-2"}).ok());
  CHECK(commands.Vm(As("u1"), "vm4", NewVm("vm4", "org1", "web-1")).ok());  // old name free
  auto taken = commands.Vm(As("u1"), "vm5", NewVm("vm5", "org1", "web-2"));
  CHECK(taken.status().code() == Code::kAlreadyExists);

  REQUIRE(commands.Vm(As("u1"), "vm1", d::DeleteVm{}).ok());
  CHECK(commands.Vm(As("u1"), "vm5", NewVm("vm5", "org1", "web-2")).ok());  // freed by delete
}

TEST_CASE(
    "repeating a satisfied VM command appends nothing and a retried create returns the first "
    "result") {
  MemoryEventStore store;
  DomainCommands commands(store);
  CommandContext create = As("u1");
  auto first = commands.Vm(create, "vm1", NewVm("vm1", "org1", "web-1"));
  REQUIRE(first.ok());
  auto retry = commands.Vm(create, "vm1", NewVm("vm1", "org1", "web-1"));
  REQUIRE(retry.ok());
  CHECK(retry->duplicate);
  CHECK(retry->position == first->position);
  int64_t before = *store.LastPosition();
  auto start = commands.Vm(As("u1"), "vm1", d::StartVm{});  // created running already
  REQUIRE(start.ok());
  CHECK(start->events.empty());
  CHECK(*store.LastPosition() == before);
  auto vm = commands.LoadVm("vm1");
  REQUIRE(vm.ok());
  CHECK(vm->name == "web-1");
  CHECK(vm->owner_id == "u1");  // the actor, without its "user-" prefix
}

TEST_CASE("a VM's events after scheduling are published under its host") {
  MemoryEventStore store;
  DomainCommands commands(store);
  REQUIRE(commands.Vm(As("u1"), "vm1", NewVm("vm1", "org1", "web-1")).ok());
  auto scheduled = commands.Vm({}, "vm1", d::ScheduleVm{"h1"});
  REQUIRE(scheduled.ok());
  REQUIRE(scheduled->events.size() == 1);
  CHECK(SubjectFor(scheduled->events[0]) == "strato.events.vm.h1.vm1.VmScheduled");
  auto stop = commands.Vm(As("u1"), "vm1", d::StopVm{});
  REQUIRE(stop.ok());
  REQUIRE(stop->events.size() == 1);
  CHECK(SubjectFor(stop->events[0]) == "strato.events.vm.h1.vm1.VmStopRequested");
}

TEST_CASE("usernames are unique by reservation") {
  MemoryEventStore store;
  DomainCommands commands(store);
  REQUIRE(commands.User({}, "u1", d::RegisterUser{"u1", "alice", "Alice"}).ok());
  auto dup = commands.User({}, "u2", d::RegisterUser{"u2", "alice", "Other Alice"});
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.status().code() == Code::kAlreadyExists);
  CHECK(dup.status().message() == "the username alice is taken; choose another");
  CHECK(store.ReadStream("user-u2", 1, 10)->empty());
}

TEST_CASE("a passkey belongs to one user by reservation") {
  MemoryEventStore store;
  DomainCommands commands(store);
  d::Passkey key;
  key.credential_id = "AAAAAAAAAAAAAAAAAAAAAA";
  key.public_key = "pQECAyYgASFYIA";
  key.algorithm = -7;
  key.attestation_format = "none";
  REQUIRE(commands.User(As("u1"), "u1", d::RegisterUser{"u1", "alice", "Alice", key}).ok());
  CHECK(store.ReadStream(d::PasskeyStreamId(key.credential_id), 1, 10)->size() == 1);
  auto other = commands.User(As("u2"), "u2", d::RegisterUser{"u2", "bob", "Bob", key});
  REQUIRE_FALSE(other.ok());
  CHECK(other.status().code() == Code::kAlreadyExists);
  CHECK(other.status().message() == "this passkey is already registered to an account");
  CHECK(store.ReadStream("user-u2", 1, 10)->empty());  // nothing of bob was stored
  CHECK(store.ReadStream("username-bob", 1, 10)->empty());
  REQUIRE(commands.User(As("u2"), "u2", d::RegisterUser{"u2", "bob", "Bob", std::nullopt}).ok());
  auto add = commands.User(As("u2"), "u2", d::AddPasskey{key});
  CHECK(add.status().code() == Code::kAlreadyExists);
  auto user = commands.LoadUser("u1");
  REQUIRE(user.ok());
  REQUIRE(user->passkeys.size() == 1);
  CHECK(user->passkeys[0].credential_id == key.credential_id);
}

TEST_CASE("organizations and hosts go through the same pipeline") {
  MemoryEventStore store;
  DomainCommands commands(store);
  auto org = commands.Organization(As("u1"), "o1", d::CreateOrganization{"o1", "Acme"});
  REQUIRE(org.ok());
  REQUIRE(org->events.size() == 1);
  CHECK(org->events[0].type == "OrganizationCreated");
  CHECK(org->events[0].data.find("\"u1\"") != std::string::npos);
  auto last_owner = commands.Organization(As("u1"), "o1", d::RemoveMember{"u1"});
  CHECK_FALSE(last_owner.ok());
  d::RegisterHost h;
  h.host_id = "h1";
  h.name = "rack1-node1";
  h.address = "127.0.0.1";
  h.cpu_count = 16;
  h.memory_mb = 65536;
  h.disk_gb = 1000;
  h.hypervisor_kind = "cloud-hypervisor";
  h.hypervisor_version = "41.0";
  REQUIRE(commands.Host({}, "h1", h).ok());
  auto again = commands.Host({}, "h1", h);
  REQUIRE(again.ok());
  CHECK(again->events.empty());
}

TEST_CASE("the command table names each command once and documents every event it may emit") {
  std::ifstream in(STRATO_SOURCE_DIR "/schema/events.md");
  std::stringstream doc;
  doc << in.rdbuf();
  std::set<std::string_view> names;
  for (const auto& c : CommandTable()) {
    CAPTURE(c.name);
    CHECK(names.insert(c.name).second);
    CHECK_FALSE(c.permission.empty());
    CHECK(FindCommand(c.name) == &c);
    for (auto type : c.emits) {
      CAPTURE(type);
      CHECK(doc.str().find("| `" + std::string(type) + "`") != std::string::npos);
    }
  }
  CHECK(FindCommand("vm.explode") == nullptr);
}

namespace {

// The names of every alternative of a command variant, default-constructed.
template <class Variant, size_t... I>
std::vector<std::string> NamesOf(std::index_sequence<I...>) {
  return {std::string(CommandName(Variant(std::in_place_index<I>)))...};
}
template <class Variant>
std::vector<std::string> NamesOf() {
  return NamesOf<Variant>(std::make_index_sequence<std::variant_size_v<Variant>>());
}

}  // namespace

TEST_CASE("every command has its own name from the command table") {
  std::vector<std::string> names;
  for (const auto& part :
       {NamesOf<d::OrganizationCommand>(), NamesOf<d::UserCommand>(), NamesOf<d::HostCommand>(),
        NamesOf<d::VmCommand>(), NamesOf<d::PlatformCommand>()}) {
    names.insert(names.end(), part.begin(), part.end());
  }
  std::set<std::string> distinct(names.begin(), names.end());
  CHECK(distinct.size() == names.size());
  for (const std::string& n : names) {
    CAPTURE(n);
    CHECK(FindCommand(n) != nullptr);
  }
  CHECK(CommandName(d::VmCommand(d::StopVm{true})) == "vm.stop");
  CHECK(CommandName(d::OrganizationCommand(d::AddMember{"u1"})) == "organization.add_member");
}

TEST_CASE("the observer hears each command's name and outcome") {
  MemoryEventStore store;
  DomainCommands commands(store);
  std::vector<std::pair<std::string, Code>> heard;
  commands.SetObserver(
      [&](std::string_view name, const Status& s) { heard.emplace_back(name, s.code()); });
  CommandContext ctx;
  ctx.actor = "user-alice";
  REQUIRE(commands.Organization(ctx, "o1", d::CreateOrganization{"o1", "Acme"}).ok());
  CHECK_FALSE(commands.Organization(ctx, "o1", d::CreateOrganization{"o1", "Acme"}).ok());
  REQUIRE(heard.size() == 2);
  CHECK(heard[0] == std::pair<std::string, Code>{"organization.create", Code::kOk});
  CHECK(heard[1].first == "organization.create");
  CHECK(heard[1].second != Code::kOk);
}
