#include <doctest/doctest.h>

#include "core/domain/host.h"
#include "test/core/domain/domain_test_util.h"

using namespace strato;
using namespace strato::domain;
using namespace strato::domain::testing;

namespace {

RegisterHost Hv1() {
  return RegisterHost{"h-1", "hv-1", "10.0.0.5", 32, 131072, 2000, "cloud-hypervisor", "38.0"};
}

// A HostRegistered event as recorded before hosts said their accelerator and ratios.
const char* kRegisteredJson =
    R"({"host_id":"h-1","name":"hv-1","address":"10.0.0.5","cpu_count":32,"memory_mb":131072,)"
    R"("disk_gb":2000,"hypervisor_kind":"cloud-hypervisor","hypervisor_version":"38.0"})";
// The same registration as it is recorded now.
const char* kRegisteredNowJson =
    R"({"host_id":"h-1","name":"hv-1","address":"10.0.0.5","cpu_count":32,"memory_mb":131072,)"
    R"("disk_gb":2000,"hypervisor_kind":"cloud-hypervisor","hypervisor_version":"38.0",)"
    R"("accelerator":"","cpu_allocation_ratio":1,"memory_allocation_ratio":1})";

HostState Registered() {
  return Given<HostState>({Ev("HostRegistered", kRegisteredJson)});
}

}  // namespace

TEST_CASE("registering a host records its capacity and hypervisor and it starts reachable") {
  CHECK(When(HostState{}, Hv1(), Ctx("h-1")) == Events{Ev("HostRegistered", kRegisteredNowJson)});
  HostState s = Registered();
  CHECK(s.exists);
  CHECK(s.version == 1);
  CHECK(s.id == "h-1");
  CHECK(s.name == "hv-1");
  CHECK(s.address == "10.0.0.5");
  CHECK(s.capacity == Resources{32, 131072, 2000});
  CHECK(s.hypervisor_kind == "cloud-hypervisor");
  CHECK(s.hypervisor_version == "38.0");
  CHECK(s.reachable);
  CHECK_FALSE(s.cordoned);
  CHECK(HostStreamId("h-1") == "host-h-1");
}

TEST_CASE("registering again with the same facts is a no-op and with new facts is recorded") {
  CHECK(When(Registered(), Hv1()).empty());
  RegisterHost upgraded = Hv1();
  upgraded.hypervisor_version = "39.0";
  HostState cordoned = After(Registered(), CordonHost{"maintenance"});
  CHECK(When(cordoned, upgraded).size() == 1);
  HostState s = After(cordoned, upgraded);
  CHECK(s.hypervisor_version == "39.0");
  CHECK(s.cordoned);  // re-registration keeps the cordon
  RegisterHost other = Hv1();
  other.host_id = "h-2";
  CHECK(Fails(Registered(), other) ==
        "invalid_argument: host hv-1 has id h-1; a registration for id h-2 does not match");
}

TEST_CASE("host registration is validated") {
  RegisterHost c = Hv1();
  c.host_id.clear();
  CHECK(Fails(HostState{}, c) == "invalid_argument: a host id is required");
  c = Hv1();
  c.name = "hv 1";
  CHECK(Fails(HostState{}, c) ==
        "invalid_argument: a host name may hold only letters, digits, '-', '_' and '.'; \"hv "
        "1\" does not");
  c = Hv1();
  c.address = "";
  CHECK(Fails(HostState{}, c) ==
        "invalid_argument: a host address must be 1 to 255 characters long");
  c = Hv1();
  c.cpu_count = 0;
  CHECK(Fails(HostState{}, c) == "invalid_argument: a host's cpu_count must be 1 to 4096; got 0");
  c = Hv1();
  c.memory_mb = 64;
  CHECK(Fails(HostState{}, c).rfind("invalid_argument: a host's memory_mb must be 128 to", 0) == 0);
  c = Hv1();
  c.disk_gb = 0;
  CHECK(Fails(HostState{}, c).rfind("invalid_argument: a host's disk_gb must be 1 to", 0) == 0);
  c = Hv1();
  c.hypervisor_kind = "";
  CHECK(Fails(HostState{}, c) ==
        "invalid_argument: a hypervisor kind must be 1 to 64 characters long");
  c = Hv1();
  c.hypervisor_version = "";
  CHECK(Fails(HostState{}, c) ==
        "invalid_argument: a hypervisor version must be 1 to 64 characters long");
}

TEST_CASE("updating host capacity and repeating the same capacity is a no-op") {
  CHECK(When(Registered(), UpdateHostCapacity{{48, 196608, 4000}}) ==
        Events{Ev("HostCapacityUpdated", R"({"cpu_count":48,"memory_mb":196608,"disk_gb":4000})")});
  HostState s = After(Registered(), UpdateHostCapacity{{48, 196608, 4000}});
  CHECK(s.capacity == Resources{48, 196608, 4000});
  CHECK(When(s, UpdateHostCapacity{{48, 196608, 4000}}).empty());
  CHECK(Fails(s, UpdateHostCapacity{{0, 1024, 10}}) ==
        "invalid_argument: a host's cpu_count must be 1 to 4096; got 0");
  CHECK(Fails(HostState{}, UpdateHostCapacity{{1, 1024, 10}}) ==
        "not_found: the host is not registered");
}

TEST_CASE("cordoning and uncordoning a host are idempotent") {
  CHECK(When(Registered(), CordonHost{"disk replacement"}) ==
        Events{Ev("HostCordoned", R"({"reason":"disk replacement"})")});
  HostState c = After(Registered(), CordonHost{"disk replacement"});
  CHECK(c.cordoned);
  CHECK(c.cordon_reason == "disk replacement");
  CHECK(When(c, CordonHost{}).empty());
  CHECK(When(c, UncordonHost{}) == Events{Ev("HostUncordoned")});
  HostState u = After(c, UncordonHost{});
  CHECK_FALSE(u.cordoned);
  CHECK(u.cordon_reason.empty());
  CHECK(When(u, UncordonHost{}).empty());
  CHECK(Fails(Registered(), CordonHost{"bad\nreason"}) ==
        "invalid_argument: a reason must not contain control characters");
}

TEST_CASE("marking a host unreachable and reachable again are idempotent") {
  CHECK(When(Registered(), MarkHostUnreachable{"no heartbeat for 30 s"}) ==
        Events{Ev("HostUnreachable", R"({"reason":"no heartbeat for 30 s"})")});
  HostState down = After(Registered(), MarkHostUnreachable{"no heartbeat for 30 s"});
  CHECK_FALSE(down.reachable);
  CHECK(down.unreachable_reason == "no heartbeat for 30 s");
  CHECK(When(down, MarkHostUnreachable{"still nothing"}).empty());
  CHECK(When(down, MarkHostReachable{}) == Events{Ev("HostReachable")});
  HostState up = After(down, MarkHostReachable{});
  CHECK(up.reachable);
  CHECK(up.unreachable_reason.empty());
  CHECK(When(up, MarkHostReachable{}).empty());
  // Re-registering an unreachable host leaves liveness to the liveness checker.
  RegisterHost upgraded = Hv1();
  upgraded.hypervisor_version = "39.0";
  CHECK_FALSE(After(down, upgraded).reachable);
}

TEST_CASE("host evolve refuses unknown types and events out of order") {
  HostState s = Registered();
  CHECK(Evolve(s, Ev("HostExploded")).ToString() ==
        "internal: the Host aggregate does not know the event type HostExploded");
  HostState empty;
  CHECK(Evolve(empty, Ev("HostCordoned", R"({"reason":""})")).ToString() ==
        "internal: HostCordoned before HostRegistered");
  CHECK(Evolve(s, Ev("HostCapacityUpdated", R"({"cpu_count":1})")).code() == Code::kInternal);
  CHECK(s.capacity == Resources{32, 131072, 2000});
  CHECK(s.version == 1);
}

TEST_CASE("a host registers its accelerator and allocation ratios and changing them is recorded") {
  RegisterHost q = Hv1();
  q.hypervisor_kind = "qemu";
  q.hypervisor_version = "7.2.19";
  q.accelerator = "tcg";
  q.cpu_allocation_ratio = 4;
  q.memory_allocation_ratio = 2;
  const Events e = When(HostState{}, q, Ctx("h-1"));
  CHECK(e == Events{Ev("HostRegistered",
                       R"({"host_id":"h-1","name":"hv-1","address":"10.0.0.5","cpu_count":32,)"
                       R"("memory_mb":131072,"disk_gb":2000,"hypervisor_kind":"qemu",)"
                       R"("hypervisor_version":"7.2.19","accelerator":"tcg",)"
                       R"("cpu_allocation_ratio":4,"memory_allocation_ratio":2})")});
  HostState s = Given<HostState>(e);
  CHECK(s.hypervisor_kind == "qemu");
  CHECK(s.hypervisor_version == "7.2.19");
  CHECK(s.accelerator == "tcg");
  CHECK(s.cpu_allocation_ratio == 4);
  CHECK(s.memory_allocation_ratio == 2);
  CHECK(SchedulableCapacity(s.capacity, s.cpu_allocation_ratio, s.memory_allocation_ratio) ==
        Resources{128, 262144, 2000});
  CHECK(When(s, q).empty());
  RegisterHost kvm = q;
  kvm.accelerator = "kvm";
  CHECK(When(s, kvm).size() == 1);
  RegisterHost denser = q;
  denser.cpu_allocation_ratio = 8;
  CHECK(After(s, denser).cpu_allocation_ratio == 8);
  RegisterHost less_memory = q;
  less_memory.memory_allocation_ratio = 1;
  CHECK(After(s, less_memory).memory_allocation_ratio == 1);
}

TEST_CASE("a HostRegistered event from before accelerators and ratios means none said and 1 to 1") {
  HostState s = Registered();
  CHECK(s.accelerator.empty());
  CHECK(s.cpu_allocation_ratio == 1);
  CHECK(s.memory_allocation_ratio == 1);
  // A host registering with what old events meant changes nothing.
  CHECK(When(s, Hv1()).empty());
  // A ratio of the wrong kind is a broken event, not a default.
  HostState broken;
  CHECK(
      Evolve(broken, Ev("HostRegistered", R"({"host_id":"h-1","name":"hv-1","address":"10.0.0.5",)"
                                          R"("cpu_count":32,"memory_mb":131072,"disk_gb":2000,)"
                                          R"("hypervisor_kind":"qemu","hypervisor_version":"7.2",)"
                                          R"("cpu_allocation_ratio":"four"})"))
          .code() == Code::kInternal);
}

TEST_CASE("allocation ratios and the accelerator are validated with sentences") {
  RegisterHost c = Hv1();
  c.cpu_allocation_ratio = 0;
  CHECK(Fails(HostState{}, c) ==
        "invalid_argument: a host's cpu_allocation_ratio must be 1 to 64; got 0");
  c.cpu_allocation_ratio = 65;
  CHECK(Fails(HostState{}, c) ==
        "invalid_argument: a host's cpu_allocation_ratio must be 1 to 64; got 65");
  c = Hv1();
  c.memory_allocation_ratio = 17;
  CHECK(Fails(HostState{}, c) ==
        "invalid_argument: a host's memory_allocation_ratio must be 1 to 16; got 17");
  c = Hv1();
  c.accelerator = "k v m";
  CHECK(Fails(HostState{}, c) ==
        "invalid_argument: an accelerator must be printable ASCII without spaces; got \"k v m\"");
  c.accelerator = std::string(65, 'k');
  CHECK(Fails(HostState{}, c) ==
        "invalid_argument: an accelerator must be 1 to 64 characters long");
}
