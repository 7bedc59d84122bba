// The domain's read models through the declarative harness: given these events (with the data
// shapes of schema/events.md, as the domain's Decide functions write them), expect these rows.
// Every scenario is also rebuilt from position 1 and compared again.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "projections/models/host_projection.h"
#include "projections/models/org_projection.h"
#include "projections/models/relationship_projection.h"
#include "projections/models/user_projection.h"
#include "projections/models/vm_projection.h"
#include "test/support/projection_harness.h"

using namespace strato;
using namespace strato::projections;

namespace {

template <typename P>
std::vector<std::unique_ptr<Projection>> Make() {
  std::vector<std::unique_ptr<Projection>> out;
  out.push_back(std::make_unique<P>());
  return out;
}

std::string I(int64_t n) {
  return std::to_string(n);
}

// Event data exactly as the domain's Decide functions build it (keys in their order).
std::string VmCreatedData(const std::string& vm, const std::string& org, const std::string& owner,
                          const std::string& name, int64_t cpu, int64_t mem, int64_t disk,
                          const std::string& desired = "running") {
  return R"({"vm_id":")" + vm + R"(","org_id":")" + org + R"(","owner_id":")" + owner +
         R"(","name":")" + name + R"(","description":"a VM","image":"debian-12","cpu_count":)" +
         I(cpu) + R"(,"memory_mb":)" + I(mem) + R"(,"disk_gb":)" + I(disk) + R"(,"desired":")" +
         desired + R"(","generation":1})";
}
test::GivenEvent VmCreated(const std::string& vm, const std::string& org, const std::string& owner,
                           const std::string& name, int64_t cpu = 2, int64_t mem = 2048,
                           int64_t disk = 20, const std::string& desired = "running") {
  return {"VmCreated", "vm-" + vm, VmCreatedData(vm, org, owner, name, cpu, mem, disk, desired),
          R"({"actor":"user-)" + owner + R"("})"};
}
test::GivenEvent VmEvent(const std::string& type, const std::string& vm, const std::string& data) {
  return {type, "vm-" + vm, data, R"({"actor":"system"})"};
}
test::GivenEvent Gen(const std::string& type, const std::string& vm, int64_t generation) {
  return VmEvent(type, vm, R"({"generation":)" + I(generation) + "}");
}
test::GivenEvent Stop(const std::string& vm, bool force, int64_t generation) {
  return VmEvent("VmStopRequested", vm,
                 std::string(R"({"force":)") + (force ? "true" : "false") + R"(,"generation":)" +
                     I(generation) + "}");
}
test::GivenEvent Resized(const std::string& vm, int64_t cpu, int64_t mem, int64_t disk,
                         int64_t generation) {
  return VmEvent("VmResized", vm,
                 R"({"cpu_count":)" + I(cpu) + R"(,"memory_mb":)" + I(mem) + R"(,"disk_gb":)" +
                     I(disk) + R"(,"generation":)" + I(generation) + "}");
}
test::GivenEvent Scheduled(const std::string& vm, const std::string& host) {
  return VmEvent("VmScheduled", vm, R"({"host_id":")" + host + R"("})");
}
test::GivenEvent HostRegistered(const std::string& host, const std::string& name, int64_t cpu,
                                int64_t mem, int64_t disk) {
  return {"HostRegistered", "host-" + host,
          R"({"host_id":")" + host + R"(","name":")" + name +
              R"(","address":"10.0.0.5","cpu_count":)" + I(cpu) + R"(,"memory_mb":)" + I(mem) +
              R"(,"disk_gb":)" + I(disk) +
              R"(,"hypervisor_kind":"cloud-hypervisor","hypervisor_version":"38.0"})",
          R"({"actor":"host-)" + host + R"("})"};
}
test::GivenEvent OrgEvent(const std::string& type, const std::string& org,
                          const std::string& data) {
  return {type, "org-" + org, data, R"({"actor":"user-u1"})"};
}

// The recorded_at of the event at a position, as the read models' times must show it.
std::string TimeOf(int position) {
  return "(SELECT recorded_at FROM events WHERE global_position = " + I(position) + ")";
}

constexpr const char* kVmRows =
    "SELECT vm_id, org_id, owner_id, name, image, cpu_count, memory_mb, disk_gb, desired, "
    "generation, host_id, placement_failure, observed, observed_generation, observed_error, "
    "last_position, deleted FROM vms ORDER BY vm_id";

const std::string kNull = test::kNull;

}  // namespace

TEST_CASE("vms read model follows a VM from creation through placement and reports to deletion") {
  test::ProjectionScenario s;
  s.given = {
      VmCreated("v1", "o1", "u1", "web-1"),                                                // 1
      Scheduled("v1", "h1"),                                                               // 2
      VmEvent("VmObserved", "v1", R"({"state":"starting","generation":1,"error":null})"),  // 3
      VmEvent("VmObserved", "v1", R"({"state":"running","generation":1,"error":null})"),   // 4
      Stop("v1", true, 2),                                                                 // 5
      VmEvent("VmObserved", "v1", R"({"state":"stopped","generation":2,"error":null})"),   // 6
      Resized("v1", 4, 8192, 40, 3),                                                       // 7
      VmEvent("VmRenamed", "v1", R"({"name":"web-2","previous_name":"web-1"})"),           // 8
      Gen("VmStartRequested", "v1", 4),                                                    // 9
      VmEvent("VmObserved", "v1",
              R"({"state":"crashed","generation":4,"error":"kernel panic"})"),  // 10
      Gen("VmRestartRequested", "v1", 5),                                       // 11
      Gen("VmPauseRequested", "v1", 6),                                         // 12
      Gen("VmResumeRequested", "v1", 7),                                        // 13
      VmCreated("v2", "o1", "u2", "db-1", 8, 65536, 500, "stopped"),            // 14
      VmEvent("VmPlacementFailed", "v2",
              R"({"reason":"no host has room for 8 CPUs, 65536 MiB and 500 GiB"})"),  // 15
      Gen("VmDeleteRequested", "v1", 8),                                              // 16
  };
  s.expect = {
      {kVmRows,
       {
           {"v1", "o1", "u1", "web-2", "debian-12", "4", "8192", "40", "deleted", "8", "h1", kNull,
            "crashed", "4", "kernel panic", "16", "t"},
           {"v2", "o1", "u2", "db-1", "debian-12", "8", "65536", "500", "stopped", "1", kNull,
            "no host has room for 8 CPUs, 65536 MiB and 500 GiB", "pending", "0", kNull, "15", "f"},
       }},
      {"SELECT vm_id FROM vms WHERE created_at = " + TimeOf(1) + " AND updated_at = " + TimeOf(16) +
           " UNION ALL SELECT vm_id FROM vms WHERE created_at = " + TimeOf(14) +
           " AND updated_at = " + TimeOf(15),
       {{"v1"}, {"v2"}}},
      {"SELECT description FROM vms WHERE vm_id = 'v1'", {{"a VM"}}},
  };
  CHECK_MESSAGE(test::ProjectionScenarioReport(Make<VmProjection>, s) == "",
                "the rows above differ");
}

TEST_CASE("vms read model shows each desired state request with its generation") {
  struct Step {
    test::GivenEvent event;
    std::string desired;
    std::string generation;
  };
  const std::vector<Step> steps = {
      {Stop("v1", false, 2), "stopped", "2"},
      {Gen("VmStartRequested", "v1", 3), "running", "3"},
      {Gen("VmPauseRequested", "v1", 4), "paused", "4"},
      {Gen("VmResumeRequested", "v1", 5), "running", "5"},
      {Gen("VmRestartRequested", "v1", 6), "running", "6"},
      {Gen("VmDeleteRequested", "v1", 7), "deleted", "7"},
  };
  for (size_t n = 0; n < steps.size(); ++n) {
    CAPTURE(steps[n].event.type);
    test::ProjectionScenario s;
    s.given = {VmCreated("v1", "o1", "u1", "web-1")};
    for (size_t k = 0; k <= n; ++k) s.given.push_back(steps[k].event);
    s.expect = {{"SELECT desired, generation, deleted, last_position FROM vms",
                 {{steps[n].desired, steps[n].generation, n + 1 == steps.size() ? "t" : "f",
                   I(static_cast<int64_t>(n) + 2)}}}};
    CHECK_MESSAGE(test::ProjectionScenarioReport(Make<VmProjection>, s) == "",
                  "the rows above differ");
  }
}

TEST_CASE("vms read model keeps observed state once scheduled and clears a placement failure") {
  test::ProjectionScenario s;
  s.given = {
      VmCreated("v1", "o1", "u1", "web-1"),
      VmEvent("VmPlacementFailed", "v1", R"({"reason":"no host is reachable"})"),
      VmEvent("VmObserved", "v1", R"({"state":"unknown","generation":1,"error":null})"),
      Scheduled("v1", "h1"),
      VmCreated("v2", "o1", "u1", "web-2"),
      Scheduled("v2", "h2"),
  };
  s.expect = {{"SELECT vm_id, host_id, placement_failure, observed FROM vms ORDER BY vm_id",
               {{"v1", "h1", kNull, "unknown"}, {"v2", "h2", kNull, "scheduled"}}}};
  CHECK_MESSAGE(test::ProjectionScenarioReport(Make<VmProjection>, s) == "",
                "the rows above differ");
}

TEST_CASE("hosts read model follows registration and capacity and cordon and reachability") {
  test::ProjectionScenario s;
  s.given = {
      HostRegistered("h1", "node-1", 32, 131072, 2000),  // 1
      {"HostCapacityUpdated", "host-h1",
       R"({"cpu_count":64,"memory_mb":262144,"disk_gb":4000})"},                // 2
      {"HostCordoned", "host-h1", R"({"reason":"disk replacement"})"},          // 3
      {"HostUnreachable", "host-h1", R"({"reason":"no heartbeat for 30 s"})"},  // 4
      HostRegistered("h1", "node-1b", 48, 196608, 3000),   // 5: facts changed; keeps the rest
      HostRegistered("h2", "node-2", 16, 65536, 1000),     // 6
      {"HostCordoned", "host-h2", R"({"reason":""})"},     // 7
      {"HostUncordoned", "host-h2", "{}"},                 // 8
      {"HostUnreachable", "host-h2", R"({"reason":""})"},  // 9
      {"HostReachable", "host-h2", "{}"},                  // 10
  };
  s.expect = {
      {"SELECT host_id, name, address, cpu_count, memory_mb, disk_gb, cordoned, cordon_reason, "
       "reachable, unreachable_reason, hypervisor_kind, hypervisor_version, last_position "
       "FROM hosts ORDER BY host_id",
       {
           {"h1", "node-1b", "10.0.0.5", "48", "196608", "3000", "t", "disk replacement", "f",
            "no heartbeat for 30 s", "cloud-hypervisor", "38.0", "5"},
           {"h2", "node-2", "10.0.0.5", "16", "65536", "1000", "f", "", "t", "", "cloud-hypervisor",
            "38.0", "10"},
       }},
      {"SELECT host_id FROM hosts WHERE registered_at = " + TimeOf(1) +
           " AND updated_at = " + TimeOf(5),
       {{"h1"}}},
  };
  CHECK_MESSAGE(test::ProjectionScenarioReport(Make<HostProjection>, s) == "",
                "the rows above differ");
}

TEST_CASE("host allocation adds scheduled VMs and follows resizes and frees deleted VMs") {
  constexpr const char* kHosts =
      "SELECT host_id, allocated_cpu_count, allocated_memory_mb, allocated_disk_gb FROM hosts "
      "ORDER BY host_id";
  constexpr const char* kAllocations =
      "SELECT vm_id, host_id, cpu_count, memory_mb, disk_gb FROM host_allocations ORDER BY vm_id";
  // allocated is always the sum of the host's allocation rows.
  constexpr const char* kConsistent =
      "SELECT h.host_id FROM hosts h LEFT JOIN (SELECT host_id, sum(cpu_count) c, "
      "sum(memory_mb) m, sum(disk_gb) d FROM host_allocations GROUP BY host_id) a "
      "ON a.host_id = h.host_id WHERE (h.allocated_cpu_count, h.allocated_memory_mb, "
      "h.allocated_disk_gb) IS DISTINCT FROM (coalesce(a.c, 0), coalesce(a.m, 0), "
      "coalesce(a.d, 0))";

  SUBCASE("as VMs are scheduled") {
    test::ProjectionScenario s;
    s.given = {
        HostRegistered("h1", "node-1", 32, 131072, 2000),
        HostRegistered("h2", "node-2", 16, 65536, 1000),
        VmCreated("v1", "o1", "u1", "web-1", 2, 2048, 20),
        VmCreated("v2", "o1", "u1", "web-2", 4, 8192, 50),
        VmCreated("v3", "o1", "u1", "web-3", 1, 512, 10),
        Scheduled("v1", "h1"),
        Scheduled("v2", "h1"),
        Scheduled("v3", "h2"),
    };
    s.expect = {
        {kHosts, {{"h1", "6", "10240", "70"}, {"h2", "1", "512", "10"}}},
        {kAllocations,
         {{"v1", "h1", "2", "2048", "20"},
          {"v2", "h1", "4", "8192", "50"},
          {"v3", "h2", "1", "512", "10"}}},
        {kConsistent, {}},
        {"SELECT host_id, last_position FROM hosts ORDER BY host_id", {{"h1", "7"}, {"h2", "8"}}},
    };
    CHECK_MESSAGE(test::ProjectionScenarioReport(Make<HostProjection>, s) == "",
                  "the rows above differ");
  }

  SUBCASE("as a scheduled VM is resized and an unscheduled one too") {
    test::ProjectionScenario s;
    s.given = {
        HostRegistered("h1", "node-1", 32, 131072, 2000),
        VmCreated("v1", "o1", "u1", "web-1", 2, 2048, 20),
        VmCreated("v2", "o1", "u1", "web-2", 1, 512, 10),
        Scheduled("v1", "h1"),
        Stop("v1", false, 2),
        Resized("v1", 8, 16384, 100, 3),
        Resized("v2", 2, 1024, 15, 2),  // not placed: allocates nothing yet
        Resized("v1", 4, 4096, 120, 4),
    };
    s.expect = {
        {kHosts, {{"h1", "4", "4096", "120"}}},
        {kAllocations, {{"v1", "h1", "4", "4096", "120"}}},
        {kConsistent, {}},
    };
    CHECK_MESSAGE(test::ProjectionScenarioReport(Make<HostProjection>, s) == "",
                  "the rows above differ");
  }

  SUBCASE("as VMs are deleted, placed or not") {
    test::ProjectionScenario s;
    s.given = {
        HostRegistered("h1", "node-1", 32, 131072, 2000),
        VmCreated("v1", "o1", "u1", "web-1", 2, 2048, 20),
        VmCreated("v2", "o1", "u1", "web-2", 4, 8192, 50),
        VmCreated("v3", "o1", "u1", "web-3", 1, 512, 10),
        Scheduled("v1", "h1"),
        Scheduled("v2", "h1"),
        Gen("VmDeleteRequested", "v1", 2),
        Gen("VmDeleteRequested", "v3", 2),  // never placed
    };
    s.expect = {
        {kHosts, {{"h1", "4", "8192", "50"}}},
        {kAllocations, {{"v2", "h1", "4", "8192", "50"}}},
        {kConsistent, {}},
    };
    CHECK_MESSAGE(test::ProjectionScenarioReport(Make<HostProjection>, s) == "",
                  "the rows above differ");
  }

  SUBCASE("when a VM was scheduled before its host registered") {
    test::ProjectionScenario s;
    s.given = {
        VmCreated("v1", "o1", "u1", "web-1", 2, 2048, 20),
        Scheduled("v1", "h1"),
        HostRegistered("h1", "node-1", 32, 131072, 2000),
        VmCreated("v2", "o1", "u1", "web-2", 1, 512, 10),
        Scheduled("v2", "h1"),
        HostRegistered("h1", "node-1", 64, 131072, 2000),  // again: keeps the allocation
    };
    s.expect = {
        {kHosts, {{"h1", "3", "2560", "30"}}},
        {kConsistent, {}},
    };
    CHECK_MESSAGE(test::ProjectionScenarioReport(Make<HostProjection>, s) == "",
                  "the rows above differ");
  }
}

TEST_CASE("host desired state lists what each host must run with spec and generation") {
  test::ProjectionScenario s;
  s.given = {
      HostRegistered("h1", "node-1", 32, 131072, 2000),                           // 1
      HostRegistered("h2", "node-2", 32, 131072, 2000),                           // 2
      VmCreated("v1", "o1", "u1", "web-1", 2, 2048, 20),                          // 3
      VmCreated("v2", "o1", "u1", "web-2", 1, 1024, 10),                          // 4
      VmCreated("v3", "o2", "u2", "db-1", 4, 8192, 100, "stopped"),               // 5
      Scheduled("v1", "h1"),                                                      // 6
      Scheduled("v2", "h1"),                                                      // 7
      Scheduled("v3", "h2"),                                                      // 8
      Stop("v1", true, 2),                                                        // 9
      Resized("v1", 4, 4096, 30, 3),                                              // 10
      Gen("VmStartRequested", "v1", 4),                                           // 11
      Gen("VmRestartRequested", "v2", 2),                                         // 12
      Gen("VmPauseRequested", "v2", 3),                                           // 13
      Gen("VmResumeRequested", "v2", 4),                                          // 14
      VmEvent("VmRenamed", "v2", R"({"name":"web-9","previous_name":"web-2"})"),  // 15
      Gen("VmDeleteRequested", "v3", 2),                                          // 16
      VmCreated("v4", "o1", "u1", "web-4"),  // 17: not placed yet
  };
  s.expect = {
      {"SELECT host_id, vm_id, org_id, name, image, cpu_count, memory_mb, disk_gb, desired, "
       "generation, last_action, force, position FROM host_desired_vms "
       "WHERE host_id = 'h1' ORDER BY vm_id",
       {
           {"h1", "v1", "o1", "web-1", "debian-12", "4", "4096", "30", "running", "4", "start", "f",
            "11"},
           {"h1", "v2", "o1", "web-9", "debian-12", "1", "1024", "10", "running", "4", "resume",
            "f", "15"},
       }},
      // a deleted VM stays, desired deleted, so its host destroys it
      {"SELECT host_id, vm_id, desired, generation, last_action, position FROM host_desired_vms "
       "WHERE host_id = 'h2'",
       {{"h2", "v3", "deleted", "2", "delete", "16"}}},
      {"SELECT vm_id, desired, generation, last_action FROM host_desired_vms "
       "WHERE host_id IS NULL",
       {{"v4", "running", "1", "create"}}},
  };
  CHECK_MESSAGE(test::ProjectionScenarioReport(Make<HostProjection>, s) == "",
                "the rows above differ");

  // A forced stop is visible to the host until the next request.
  test::ProjectionScenario stop;
  stop.given = {VmCreated("v1", "o1", "u1", "web-1"), Scheduled("v1", "h1"), Stop("v1", true, 2)};
  stop.expect = {{"SELECT desired, generation, last_action, force FROM host_desired_vms",
                  {{"stopped", "2", "stop", "t"}}}};
  CHECK_MESSAGE(test::ProjectionScenarioReport(Make<HostProjection>, stop) == "",
                "the rows above differ");
}

TEST_CASE("organizations read model follows creation and renames and membership") {
  test::ProjectionScenario s;
  s.given = {
      OrgEvent("OrganizationCreated", "o1", R"({"org_id":"o1","name":"Acme","owner_id":"u1"})"),
      OrgEvent("OrganizationRenamed", "o1", R"({"name":"Acme Corp","previous_name":"Acme"})"),
      OrgEvent("MemberAdded", "o1", R"({"user_id":"u2","role":"member"})"),
      OrgEvent("MemberAdded", "o1", R"({"user_id":"u3","role":"owner"})"),
      OrgEvent("MemberAdded", "o1", R"({"user_id":"u4","role":"member"})"),
      OrgEvent("MemberRemoved", "o1", R"({"user_id":"u3","role":"owner"})"),
      OrgEvent("OwnershipTransferred", "o1", R"({"from_user_id":"u1","to_user_id":"u2"})"),
      OrgEvent("OrganizationCreated", "o2", R"({"org_id":"o2","name":"Beta","owner_id":"u4"})"),
  };
  s.expect = {
      {"SELECT org_id, name, last_position FROM organizations ORDER BY org_id",
       {{"o1", "Acme Corp", "2"}, {"o2", "Beta", "8"}}},
      {"SELECT org_id FROM organizations WHERE created_at = " + TimeOf(1) +
           " AND updated_at = " + TimeOf(2),
       {{"o1"}}},
      {"SELECT org_id, user_id, role FROM organization_members ORDER BY org_id, user_id",
       {{"o1", "u1", "member"},
        {"o1", "u2", "owner"},
        {"o1", "u4", "member"},
        {"o2", "u4", "owner"}}},
  };
  CHECK_MESSAGE(test::ProjectionScenarioReport(Make<OrgProjection>, s) == "",
                "the rows above differ");
}

TEST_CASE("users read model follows registration and display name changes") {
  test::ProjectionScenario s;
  s.given = {
      {"UserRegistered", "user-u1", R"({"user_id":"u1","username":"ada","display_name":"Ada"})"},
      {"UsernameReserved", "username-ada", R"({"user_id":"u1"})"},
      {"UserRegistered", "user-u2",
       R"({"user_id":"u2","username":"grace","display_name":"Grace Hopper"})"},
      {"UserDisplayNameChanged", "user-u1", R"({"display_name":"Ada Lovelace"})"},
  };
  s.expect = {
      {"SELECT user_id, username, display_name, last_position FROM users ORDER BY user_id",
       {{"u1", "ada", "Ada Lovelace", "4"}, {"u2", "grace", "Grace Hopper", "3"}}},
      {"SELECT user_id FROM users WHERE created_at = " + TimeOf(1) +
           " AND updated_at = " + TimeOf(4),
       {{"u1"}}},
  };
  CHECK_MESSAGE(test::ProjectionScenarioReport(Make<UserProjection>, s) == "",
                "the rows above differ");
}

TEST_CASE("passkeys read model follows added and removed passkeys and sign-ins") {
  auto key = [](const std::string& id, const std::string& name) {
    return R"({"credential_id":")" + id + R"(","public_key":"pQECAyYgASFY","algorithm":-7,)" +
           R"("sign_count":0,"transports":"internal","backup_eligible":true,)" +
           R"("backup_state":false,"aaguid":"00000000-0000-0000-0000-000000000000",)" +
           R"("attestation_format":"none","name":")" + name + R"("})";
  };
  test::ProjectionScenario s;
  s.given = {
      {"UserRegistered", "user-u1", R"({"user_id":"u1","username":"ada","display_name":"Ada"})"},
      {"PasskeyAdded", "user-u1", key("credA", "Laptop")},
      {"PasskeyAdded", "user-u1", key("credB", "Phone")},
      {"UserSignedIn", "user-u1",
       R"({"credential_id":"credB","sign_count":7,"user_verified":true,"backup_state":true})"},
      {"PasskeyRemoved", "user-u1", R"({"credential_id":"credA"})"},
      {"UserSignInFailed", "user-u1",
       R"({"credential_id":"credB","reason":"the signature does not verify"})"},
  };
  s.expect = {
      {"SELECT credential_id, user_id, name, algorithm, sign_count, transports, backup_eligible, "
       "backup_state, last_position FROM passkeys ORDER BY credential_id",
       {{"credB", "u1", "Phone", "-7", "7", "internal", "t", "t", "4"}}},
      {"SELECT credential_id FROM passkeys WHERE created_at = " + TimeOf(3) +
           " AND last_used_at = " + TimeOf(4),
       {{"credB"}}},
  };
  CHECK_MESSAGE(test::ProjectionScenarioReport(Make<UserProjection>, s) == "",
                "the rows above differ");
}

TEST_CASE("relationship tuples give a created VM its owner and organization") {
  test::ProjectionScenario s;
  s.given = {VmCreated("v1", "o1", "u1", "web-1"), VmCreated("v2", "o2", "u2", "web-1"),
             Scheduled("v1", "h1"), Gen("VmStartRequested", "v2", 2)};
  s.expect = {
      {"SELECT entity_type, entity_id, relation, subject_type, subject_id, "
       "subject_relation FROM relationship_tuples ORDER BY 1, 2, 3, 4, 5",
       {{"vm", "v1", "organization", "organization", "o1", ""},
        {"vm", "v1", "owner", "user", "u1", ""},
        {"vm", "v2", "organization", "organization", "o2", ""},
        {"vm", "v2", "owner", "user", "u2", ""}}}};
  CHECK_MESSAGE(test::ProjectionScenarioReport(Make<RelationshipProjection>, s) == "",
                "the rows above differ");
}

TEST_CASE("relationship tuples make each user self and each host self and on the platform") {
  test::ProjectionScenario s;
  s.given = {
      {"UserRegistered", "user-u1", R"({"user_id":"u1","username":"ada","display_name":"Ada"})"},
      HostRegistered("h1", "rack-1", 16, 65536, 1000),
      HostRegistered("h1", "rack-1", 32, 65536, 1000),  // re-registration changes nothing here
  };
  s.expect = {
      {"SELECT entity_type, entity_id, relation, subject_type, subject_id FROM "
       "relationship_tuples ORDER BY 1, 2, 3",
       {{"host", "h1", "platform", "platform", "strato"},
        {"host", "h1", "self", "host", "h1"},
        {"user", "u1", "self", "user", "u1"}}}};
  CHECK_MESSAGE(test::ProjectionScenarioReport(Make<RelationshipProjection>, s) == "",
                "the rows above differ");
}

TEST_CASE("relationship tuples of a deleted VM are removed") {
  test::ProjectionScenario s;
  s.given = {VmCreated("v1", "o1", "u1", "web-1"), VmCreated("v2", "o1", "u1", "web-2"),
             Scheduled("v1", "h1"), Gen("VmDeleteRequested", "v1", 2)};
  s.expect = {
      {"SELECT entity_type, entity_id, relation, subject_type, subject_id "
       "FROM relationship_tuples ORDER BY 1, 2, 3",
       {{"vm", "v2", "organization", "organization", "o1"}, {"vm", "v2", "owner", "user", "u1"}}}};
  CHECK_MESSAGE(test::ProjectionScenarioReport(Make<RelationshipProjection>, s) == "",
                "the rows above differ");
}

TEST_CASE("relationship tuples follow organization membership and ownership transfer") {
  constexpr const char* kTuples =
      "SELECT entity_id, relation, subject_id FROM relationship_tuples "
      "WHERE entity_type = 'organization' AND subject_type = 'user' ORDER BY 1, 3, 2";
  const test::GivenEvent created =
      OrgEvent("OrganizationCreated", "o1", R"({"org_id":"o1","name":"Acme","owner_id":"u1"})");

  SUBCASE("creation makes the creator owner") {
    test::ProjectionScenario s;
    s.given = {created};
    s.expect = {{kTuples, {{"o1", "owner", "u1"}}}};
    CHECK_MESSAGE(test::ProjectionScenarioReport(Make<RelationshipProjection>, s) == "",
                  "the rows above differ");
  }
  SUBCASE("members and owners are added and removed") {
    test::ProjectionScenario s;
    s.given = {
        created,
        OrgEvent("MemberAdded", "o1", R"({"user_id":"u2","role":"member"})"),
        OrgEvent("MemberAdded", "o1", R"({"user_id":"u3","role":"owner"})"),
        OrgEvent("MemberAdded", "o1", R"({"user_id":"u4","role":"member"})"),
        OrgEvent("MemberRemoved", "o1", R"({"user_id":"u4","role":"member"})"),
        OrgEvent("MemberRemoved", "o1", R"({"user_id":"u1","role":"owner"})"),
    };
    s.expect = {{kTuples, {{"o1", "member", "u2"}, {"o1", "owner", "u3"}}}};
    CHECK_MESSAGE(test::ProjectionScenarioReport(Make<RelationshipProjection>, s) == "",
                  "the rows above differ");
  }
  SUBCASE("ownership transfer swaps owner and member") {
    test::ProjectionScenario s;
    s.given = {
        created,
        OrgEvent("MemberAdded", "o1", R"({"user_id":"u2","role":"member"})"),
        OrgEvent("OwnershipTransferred", "o1", R"({"from_user_id":"u1","to_user_id":"u2"})"),
    };
    s.expect = {{kTuples, {{"o1", "member", "u1"}, {"o1", "owner", "u2"}}}};
    CHECK_MESSAGE(test::ProjectionScenarioReport(Make<RelationshipProjection>, s) == "",
                  "the rows above differ");
  }
}
