// `strato replay` (rebuilding every read model into fresh tables and swapping them in) and the
// projection runner inside `strato serve`, each as a process against a real PostgreSQL.
#include <doctest/doctest.h>
#include <httplib.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "events/commands/domain_commands.h"
#include "projections/models/registry.h"
#include "projections/models/user_projection.h"
#include "projections/runner/rebuild.h"
#include "projections/runner/runner.h"
#include "test/support/process.h"
#include "test/support/test_env.h"

using namespace strato;
namespace d = strato::domain;

namespace {

using test::ReadFile;
using test::RunStrato;

events::CommandContext As(const std::string& actor) {
  events::CommandContext c;
  c.command_id = Uuid::NewV4();
  c.actor = actor;
  return c;
}

// A small cloud's life through the domain's commands: orgs, users, hosts, and VMs created,
// started, stopped, renamed and deleted. Returns the number of events in the log. `round`
// keeps usernames unique when called again on the same log.
int64_t AppendRealisticMix(test::TestDatabase& db, int round = 0) {
  events::DomainCommands commands(db.store());
  const std::string admin = "user-" + Uuid::NewV4().ToString();
  std::vector<std::string> users, orgs;
  for (int i = 0; i < 6; ++i) {
    std::string id = Uuid::NewV4().ToString();
    d::RegisterUser r{id, "user" + std::to_string(round) + "x" + std::to_string(i),
                      "User Number " + std::to_string(i)};
    REQUIRE(commands.User(As("system"), id, r).ok());
    users.push_back(id);
  }
  for (int i = 0; i < 3; ++i) {
    std::string id = Uuid::NewV4().ToString();
    auto created = commands.Organization(As("user-" + users[i]), id,
                                         d::CreateOrganization{id, "Org " + std::to_string(i)});
    REQUIRE_MESSAGE(created.ok(), created.status().ToString());
    REQUIRE(commands
                .Organization(As("user-" + users[i]), id,
                              d::AddMember{users[i + 3], d::OrgRole::kMember})
                .ok());
    orgs.push_back(id);
  }
  for (int i = 0; i < 3; ++i) {
    std::string id = Uuid::NewV4().ToString();
    d::RegisterHost h;
    h.host_id = id;
    h.name = "host-" + std::to_string(i);
    h.address = "10.0.0." + std::to_string(i + 1);
    h.cpu_count = 64;
    h.memory_mb = 262144;
    h.disk_gb = 4000;
    h.hypervisor_kind = "cloud-hypervisor";
    h.hypervisor_version = "38.0";
    REQUIRE(commands.Host(As("host-" + id), id, h).ok());
  }
  for (int i = 0; i < 60; ++i) {
    std::string id = Uuid::NewV4().ToString();
    const std::string actor = "user-" + users[i % 3];
    d::CreateVm c;
    c.vm_id = id;
    c.org_id = orgs[i % 3];
    c.name = "web-" + std::to_string(i);
    c.description = "a \"quoted\" VM with a password=hunter2 in its description";
    c.image = "debian-12";
    c.cpu_count = 1 + i % 4;
    c.memory_mb = 1024;
    c.disk_gb = 20;
    auto created = commands.Vm(As(actor), id, c);
    REQUIRE_MESSAGE(created.ok(), created.status().ToString());
    REQUIRE(commands.Vm(As(actor), id, d::StopVm{i % 2 == 0}).ok());
    REQUIRE(commands.Vm(As(actor), id, d::StartVm{}).ok());
    if (i % 3 == 0)
      REQUIRE(commands.Vm(As(actor), id, d::RenameVm{"app-" + std::to_string(i)}).ok());
    if (i % 5 == 0) REQUIRE(commands.Vm(As(actor), id, d::RestartVm{}).ok());
    if (i % 4 == 0) REQUIRE(commands.Vm(As(admin), id, d::DeleteVm{}).ok());
  }
  auto last = db.store().LastPosition();
  REQUIRE(last.ok());
  return *last;
}

// Folds every read model to the end of the log, as `strato serve` would.
void CatchUpLive(test::TestDatabase& db) {
  projections::RunnerOptions o;
  o.database_url = db.url();
  auto runner =
      projections::ProjectionRunner::Create(db.store(), nullptr, projections::AllProjections(), o);
  REQUIRE(runner.ok());
  REQUIRE((*runner)->CatchUp().ok());
}

std::string Scalar(events::PgConnection& c, const std::string& sql) {
  auto r = c.Exec(sql);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return std::string(r->Get(0, 0));
}

}  // namespace

TEST_CASE("strato replay rebuilds the read models and finds them identical to the live ones") {
  test::TestDatabase db;
  const int64_t events = AppendRealisticMix(db);
  REQUIRE(events >= 300);
  CatchUpLive(db);
  auto conn = db.Connect();
  const std::string before = Scalar(*conn, "SELECT count(*) FROM vms");
  CHECK(before == "60");

  auto [code, out] = RunStrato({"replay"}, db.url());
  CHECK_MESSAGE(code == 0, out);
  CHECK_MESSAGE(out.find("from " + std::to_string(events) + " events") != std::string::npos, out);
  CHECK_MESSAGE(out.find("identical to the live tables") != std::string::npos, out);
  CHECK(Scalar(*conn, "SELECT count(*) FROM vms") == before);
  CHECK(Scalar(*conn, "SELECT position FROM projection_checkpoints WHERE name = 'audit'") ==
        std::to_string(events));
  // The fresh tables took the migration's names, and the shadow schema is gone.
  CHECK(Scalar(*conn,
               "SELECT count(*) FROM pg_indexes WHERE tablename = 'vms' AND indexname IN "
               "('vms_pkey', 'vms_org', 'vms_owner', 'vms_host', 'vms_pending', "
               "'vms_last_position')") == "6");
  CHECK(Scalar(*conn,
               "SELECT count(*) FROM pg_indexes WHERE tablename = 'audit_stream_organizations' "
               "AND indexname IN ('audit_stream_organizations_pkey', "
               "'audit_stream_organizations_org')") == "2");
  CHECK(Scalar(*conn, "SELECT count(*) FROM pg_namespace WHERE nspname = 'strato_rebuild'") == "0");
  // Built without autovacuum, swapped in with it.
  CHECK(Scalar(*conn,
               "SELECT count(*) FROM pg_class WHERE relname = 'vms' "
               "AND relnamespace = current_schema()::regnamespace AND reloptions IS NULL") == "1");
  // What runs after the fold is said, and where the time went.
  CHECK_MESSAGE(
      out.find("events folded; writing the tables and building their indexes") != std::string::npos,
      out);
  CHECK_MESSAGE(out.find("events folded; comparing with the live tables") != std::string::npos,
                out);
  CHECK_MESSAGE(out.find("time: prepare ") != std::string::npos, out);
}

TEST_CASE("strato replay names a tampered read model table and replaces it with the rebuilt one") {
  test::TestDatabase db;
  const int64_t events = AppendRealisticMix(db);
  CatchUpLive(db);
  auto conn = db.Connect();
  constexpr const char* kSeventh =
      "(SELECT stream_id FROM audit_stream_organizations ORDER BY stream_id OFFSET 6 LIMIT 1)";
  const std::string truth = Scalar(*conn, std::string("SELECT organization_id FROM "
                                                      "audit_stream_organizations WHERE "
                                                      "stream_id = ") +
                                              kSeventh);
  REQUIRE(conn->Run(std::string("UPDATE audit_stream_organizations SET organization_id = "
                                "'mallory' WHERE stream_id = ") +
                    kSeventh)
              .ok());
  REQUIRE(conn->Run("DELETE FROM audit_stream_organizations WHERE stream_id = (SELECT stream_id "
                    "FROM audit_stream_organizations ORDER BY stream_id OFFSET 8 LIMIT 1)")
              .ok());
  const std::string tampered_stream =
      Scalar(*conn,
             "SELECT stream_id FROM audit_stream_organizations WHERE organization_id = "
             "'mallory'");

  auto [code, out] = RunStrato({"replay"}, db.url());
  CHECK_MESSAGE(code == 1, out);
  CHECK_MESSAGE(out.find("differed") != std::string::npos, out);
  CHECK_MESSAGE(out.find("audit_stream_organizations (1 rows only in the live table, 2 only in "
                         "the rebuild)") != std::string::npos,
                out);
  CHECK(Scalar(*conn, "SELECT organization_id FROM audit_stream_organizations WHERE stream_id = '" +
                          tampered_stream + "'") == truth);
  // Every VM and organization has its row again.
  CHECK(Scalar(*conn, "SELECT count(*) FROM audit_stream_organizations") ==
        Scalar(*conn,
               "SELECT count(*) FROM events WHERE type IN ('VmCreated', "
               "'OrganizationCreated')"));
  CHECK(events > 0);

  auto [again, out2] = RunStrato({"replay"}, db.url());
  CHECK_MESSAGE(again == 0, out2);
  CHECK(out2.find("identical to the live tables") != std::string::npos);
}

TEST_CASE("strato replay brings a lagging live projection to the log's end before comparing") {
  test::TestDatabase db;
  AppendRealisticMix(db);
  CatchUpLive(db);
  // Appended while no runner was folding: the live tables are behind the log.
  const int64_t events = AppendRealisticMix(db, 1);
  auto [code, out] = RunStrato({"replay"}, db.url());
  CHECK_MESSAGE(code == 0, out);
  CHECK_MESSAGE(out.find("identical to the live tables") != std::string::npos, out);
  auto conn = db.Connect();
  CHECK(Scalar(*conn, "SELECT count(*) FROM vms") == "120");
  CHECK(Scalar(*conn, "SELECT min(position) FROM projection_checkpoints") ==
        std::to_string(events));
}

TEST_CASE("a rebuild folds the log in bulk and finds the read models identical") {
  test::TestDatabase db;
  const int64_t events = AppendRealisticMix(db);
  CatchUpLive(db);
  projections::RebuildOptions o;
  o.database_url = db.url();
  auto report = projections::Rebuild(db.store(), projections::AllProjections(), o);
  REQUIRE_MESSAGE(report.ok(), report.status().ToString());
  CHECK(report->path == "bulk");
  CHECK_MESSAGE(report->bulk_fallback.empty(), report->bulk_fallback);
  CHECK(report->position == events);
  CHECK(report->not_compared.empty());
  CHECK(report->identical());
  // The fresh tables got their secondary indexes back, under the migration's names.
  auto conn = db.Connect();
  CHECK(Scalar(*conn,
               "SELECT count(*) FROM pg_indexes WHERE tablename = 'vms' AND indexname IN "
               "('vms_pkey', 'vms_org', 'vms_owner', 'vms_host', 'vms_pending')") == "5");
  // Appends after the bulk fold are caught up through ApplyBatch on top of the bulk rows.
  AppendRealisticMix(db, 1);
  CatchUpLive(db);
  auto again = projections::Rebuild(db.store(), projections::AllProjections(), o);
  REQUIRE_MESSAGE(again.ok(), again.status().ToString());
  CHECK(again->path == "bulk");
  CHECK(again->identical());
}

TEST_CASE("a rebuild that folds appends made after its bulk fold compares the tables as they end") {
  test::TestDatabase db;
  const int64_t first = AppendRealisticMix(db);
  CatchUpLive(db);
  projections::RebuildOptions o;
  o.database_url = db.url();
  // Appended once the fresh tables are written (and their digests summed up): the rebuild
  // folds them into the fresh tables, and the live ones are brought to the same position.
  bool appended = false;
  o.on_progress = [&](const projections::RebuildProgress& p) {
    if (p.stage == "catching up" && !appended) {
      appended = true;
      AppendRealisticMix(db, 1);
    }
  };
  auto report = projections::Rebuild(db.store(), projections::AllProjections(), o);
  REQUIRE_MESSAGE(report.ok(), report.status().ToString());
  REQUIRE(appended);
  CHECK(report->path == "bulk");
  CHECK(report->position > first);
  CHECK(report->not_compared.empty());
  std::string found;
  for (const auto& d : report->differences) found += d.table + " ";
  CHECK_MESSAGE(report->identical(), found);
  auto conn = db.Connect();
  CHECK(Scalar(*conn, "SELECT count(*) FROM vms") == "120");
}

TEST_CASE("a rebuild reports live tables whose rows differ only in a value or in two swapped") {
  test::TestDatabase db;
  AppendRealisticMix(db);
  CatchUpLive(db);
  auto conn = db.Connect();
  // The same rows counted, and the same values in every column: only which row has which.
  REQUIRE(conn->Run("WITH two AS (SELECT vm_id, name FROM vms ORDER BY vm_id LIMIT 2) "
                    "UPDATE vms SET name = (SELECT t.name FROM two t WHERE t.vm_id <> vms.vm_id) "
                    "WHERE vm_id IN (SELECT vm_id FROM two)")
              .ok());
  REQUIRE(conn->Run("UPDATE hosts SET allocated_cpu_count = allocated_cpu_count + 1 WHERE "
                    "host_id = (SELECT min(host_id) FROM hosts)")
              .ok());
  projections::RebuildOptions o;
  o.database_url = db.url();
  auto report = projections::Rebuild(db.store(), projections::AllProjections(), o);
  REQUIRE_MESSAGE(report.ok(), report.status().ToString());
  CHECK(report->not_compared.empty());
  std::string found;
  for (const auto& d : report->differences) found += d.table + " ";
  REQUIRE_MESSAGE(report->differences.size() == 2, found);
  CHECK(report->differences[0].table == "vms");
  CHECK(report->differences[0].only_live == 2);
  CHECK(report->differences[0].only_rebuilt == 2);
  CHECK(report->differences[1].table == "hosts");
  CHECK(report->differences[1].only_live == 1);
  CHECK(report->differences[1].only_rebuilt == 1);
  // The rebuilt tables replaced them.
  auto again = projections::Rebuild(db.store(), projections::AllProjections(), o);
  REQUIRE_MESSAGE(again.ok(), again.status().ToString());
  CHECK(again->identical());
}

TEST_CASE("a rebuild with a projection that has no bulk fold folds batch by batch") {
  test::TestDatabase db;
  AppendRealisticMix(db);
  CatchUpLive(db);
  // A projection without StartBulk: the whole rebuild takes the ApplyBatch path.
  class NoBulk final : public projections::Projection {
   public:
    const std::string& name() const override { return inner_.name(); }
    std::vector<std::string> tables() const override { return inner_.tables(); }
    Status Apply(events::PgConnection& tx, const events::RecordedEvent& e) override {
      return inner_.Apply(tx, e);
    }
    Status ApplyBatch(events::PgConnection& tx,
                      std::span<const events::RecordedEvent> es) override {
      return inner_.ApplyBatch(tx, es);
    }

   private:
    projections::UserProjection inner_;
  };
  auto all = projections::AllProjections();
  for (auto& p : all) {
    if (p->name() == projections::UserProjection::kName) p = std::make_unique<NoBulk>();
  }
  projections::RebuildOptions o;
  o.database_url = db.url();
  auto report = projections::Rebuild(db.store(), std::move(all), o);
  REQUIRE_MESSAGE(report.ok(), report.status().ToString());
  CHECK(report->path == "batch");
  CHECK(report->identical());
}

TEST_CASE("serve folds appends into the read models and reports projections in readyz") {
  test::TestDatabase db;
  test::NatsServerProcess nats;
  REQUIRE(nats.Start().ok());
  int port = test::FreePort();
  auto dir = test::MakeTempDir("serve-projections");
  REQUIRE(dir.ok());
  auto serve =
      test::ChildProcess::Spawn({{STRATO_BINARY_DIR "/strato", "serve"},
                                 {{"DATABASE_URL", db.url()},
                                  {"NATS_URL", nats.url()},
                                  {"STRATO_ENV", "development"},
                                  {"STRATO_HTTP_ADDR", "127.0.0.1:" + std::to_string(port)}},
                                 *dir + "/out.log"});
  REQUIRE(serve.ok());
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(1);
  auto get_ready = [&c] {
    for (int i = 0;; ++i) {
      auto r = c.Get("/readyz");
      if ((r && r->status == 200) || i == 300) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  };
  auto ready = get_ready();
  REQUIRE_MESSAGE(ready, ReadFile(*dir + "/out.log"));
  CHECK_MESSAGE(ready->status == 200, ready->body);
  CHECK_MESSAGE(ready->body.find("\"projections\":\"ok\"") != std::string::npos, ready->body);

  const int64_t events = AppendRealisticMix(db);
  auto conn = db.Connect();
  // serve's scheduler may append too (placing the VMs): every projection follows the log.
  constexpr const char* kBehind =
      "SELECT count(*) FROM projection_checkpoints WHERE position < (SELECT max(global_position) "
      "FROM events)";
  std::string behind;
  for (int i = 0; i < 200; ++i) {
    behind = Scalar(*conn, kBehind);
    if (behind == "0") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(behind == "0");
  CHECK(std::stoll(Scalar(*conn, "SELECT count(*) FROM events")) >= events);
  CHECK(Scalar(*conn, "SELECT count(*) FROM vms") == "60");

  // A replay while serve runs swaps the tables under the live runner, which goes on folding.
  auto [code, out] = RunStrato({"replay"}, db.url());
  CHECK_MESSAGE(code == 0, out);
  CHECK_MESSAGE(out.find("identical to the live tables") != std::string::npos, out);
  const std::string org = Uuid::NewV4().ToString();
  events::AppendRequest r;
  r.streams.push_back({"org-" + org,
                       events::ExpectedVersion::NoStream(),
                       {{"OrganizationCreated",
                         R"({"org_id":")" + org + R"(","name":"Late","owner_id":"u1"})", "{}"}}});
  REQUIRE(db.store().Append(r).ok());
  for (int i = 0; i < 200; ++i) {
    behind = Scalar(*conn, kBehind);
    if (behind == "0") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(behind == "0");
  CHECK(Scalar(*conn,
               "SELECT organization_id FROM audit_stream_organizations WHERE stream_id = "
               "'org-" +
                   org + "'") == org);
  CHECK(Scalar(*conn, "SELECT name FROM organizations WHERE org_id = '" + org + "'") == "Late");

  REQUIRE((*serve)->Kill(SIGTERM).ok());
  auto exit_code = (*serve)->Wait(std::chrono::seconds(20));
  REQUIRE(exit_code.ok());
  CHECK(*exit_code == 0);
}
