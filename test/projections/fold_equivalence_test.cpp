// A property of every read model: its two folds agree. The live runner folds events with SQL
// (ApplyBatch); a rebuild folds the whole log in memory (BulkFold) and writes the rows with
// COPY. For many seeds, a random but valid history is made through the real command side
// (DomainCommands over the PostgreSQL event store of a scratch database), folded live with
// ProjectionRunner::CatchUp, then rebuilt with projections::Rebuild, which compares the fresh
// tables with the live ones. Any difference names the seed and the rows of each side.
//
// Reproduce one seed with FOLD_EQUIVALENCE_SEED=<n> (or search further with <first>-<last>):
// ids come from the seed too, so the same commands run in the same order (only the recorded
// times differ).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/domain/host.h"
#include "events/commands/domain_commands.h"
#include "projections/models/registry.h"
#include "projections/runner/rebuild.h"
#include "projections/runner/runner.h"
#include "test/support/projection_harness.h"
#include "test/support/test_env.h"

using namespace strato;
namespace d = strato::domain;

namespace {

constexpr uint32_t kFirstSeed = 1;
constexpr uint32_t kSeedCount = 40;
constexpr int kMinCommands = 50;
constexpr int kMaxCommands = 300;

// Free text that tends to break COPY's text format, JSON escaping or collation: backslashes,
// COPY's NULL marker, quotes, tabs and newlines (refused where the domain refuses them), and
// characters beyond ASCII.
const std::vector<std::string> kTexts = {
    "plain",
    "two words",
    "back\\slash",
    "\\N",
    "quote \" and ' both",
    "ünïcødé ✓ 雲",
    "comma, semicolon; pipe |",
    "{\"json\": [1, 2]}",
    "\\\\server\\share\\",
    "tab\tinside",
    "line\nbreak",
    "percent % underscore _",
};
const std::vector<std::string> kDescriptions = {
    "", "a VM", "line one\nline two", "tab\tseparated", "back\\slash \\N", "émoji 🚀 and \"quotes\"",
};
const std::vector<std::string> kVmNames = {"web-1", "web-2", "db", "a", "x-1-y", "cache-0"};
const std::vector<std::string> kImages = {"debian-12", "ubuntu-24.04", "alpine:3.20",
                                          "img\\with\\backslash"};
const std::vector<std::string> kErrors = {
    "boot failed",          "line\nbreak\r\n", "\\N", "tab\there \"quoted\"", "ünïcødé", "",
    std::string(4000, 'x'),
};
const std::vector<std::string> kReasons = {
    "", "maintenance", "no heartbeat for 30 s", "\\N", "disk \"sdb\" failing", "ünïcødé",
};
const std::vector<std::string> kPlacementReasons = {
    "no host has room for 8 CPUs, 16384 MiB and 100 GiB",
    "no hosts are registered",
    "every host is cordoned or unreachable: \"maintenance\"",
};

// Every event type some read model folds.
constexpr const char* kFoldedTypes[] = {
    "UserRegistered",      "UserDisplayNameChanged",
    "PasskeyAdded",        "PasskeyRemoved",
    "UserSignedIn",        "OrganizationCreated",
    "OrganizationRenamed", "MemberAdded",
    "MemberRemoved",       "OwnershipTransferred",
    "PlatformRoleGranted", "PlatformRoleRevoked",
    "HostRegistered",      "HostCapacityUpdated",
    "HostCordoned",        "HostUncordoned",
    "HostUnreachable",     "HostReachable",
    "VmCreated",           "VmStartRequested",
    "VmStopRequested",     "VmRestartRequested",
    "VmPauseRequested",    "VmResumeRequested",
    "VmDeleteRequested",   "VmResized",
    "VmRenamed",           "VmScheduled",
    "VmPlacementFailed",   "VmObserved",
};

struct Org {
  std::string id;
  std::map<std::string, d::OrgRole> members;
};

// Makes one random history through DomainCommands. It keeps just enough of a model (who is in
// which organization, which ids exist) to make most commands ones the domain accepts; refused
// commands are skipped and not counted.
class HistoryMaker {
 public:
  HistoryMaker(events::DomainCommands& commands, uint32_t seed)
      : commands_(commands), rng_(seed), seed_(seed) {}

  // Runs random commands until `accepted` more have been accepted (or too many were refused).
  void Run(int accepted) {
    const int goal = accepted_ + accepted;
    for (int tries = 0; accepted_ < goal && tries < accepted * 20; ++tries) {
      if (One()) ++accepted_;
    }
    REQUIRE_MESSAGE(accepted_ == goal, "seed " << seed_ << ": only " << accepted_
                                               << " commands accepted, " << last_refusal_);
  }

  int accepted() const { return accepted_; }
  // A host registered outside these commands (an event of an older shape): later commands may
  // register it again, cordon it or place VMs on it.
  void KnownHost(const std::string& id) { hosts_.push_back(id); }

 private:
  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <typename T>
  const T& PickOf(const std::vector<T>& v) {
    return v[Pick(static_cast<int>(v.size()))];
  }

  std::string NewId() {
    std::uniform_int_distribution<uint32_t> hex(0, 15);
    std::string s;
    for (int i = 0; i < 32; ++i) {
      if (i == 8 || i == 12 || i == 16 || i == 20) s += '-';
      uint32_t v = hex(rng_);
      if (i == 12) v = 4;
      if (i == 16) v = 8 | (v & 3);
      s += "0123456789abcdef"[v];
    }
    return s;
  }

  events::CommandContext As(const std::string& actor) {
    events::CommandContext c;
    c.command_id = Uuid::NewV4();
    c.actor = actor;
    return c;
  }

  bool Accepted(const Result<events::CommandOutcome>& r) {
    if (!r.ok()) last_refusal_ = r.status().ToString();
    return r.ok();
  }

  // One random command; true when the domain accepted it.
  bool One() {
    const int roll = Pick(100);
    if (users_.empty() || roll < 6) return RegisterUser();
    if (roll < 9) return ChangeDisplayName();
    if (roll < 14) return PasskeyChange();
    if (orgs_.empty() || roll < 18) return CreateOrganization();
    if (roll < 26) return OrganizationChange();
    if (roll < 29) return PlatformRole();
    if (hosts_.empty() || roll < 32) return RegisterHost();
    if (roll < 40) return HostChange();
    if (vms_.empty() || roll < 51) return CreateVm();
    if (roll < 62) return Place();
    if (roll < 74) return Observe();
    return VmChange();
  }

  std::string Base64Url(int chars) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    for (int i = 0; i < chars; ++i) out += kAlphabet[Pick(64)];
    return out;
  }

  d::Passkey NewPasskey() {
    d::Passkey p;
    // Now and then another user's credential: its reservation refuses it.
    p.credential_id =
        !credentials_.empty() && Chance(0.05) ? PickOf(credentials_) : Base64Url(22 + Pick(40));
    p.public_key = Base64Url(40 + Pick(100));
    p.algorithm = std::vector<int64_t>{-7, -8, -257}[Pick(3)];
    p.sign_count = Chance(0.3) ? 0 : Pick(100);
    p.transports = std::vector<std::string>{"", "internal", "internal,hybrid", "usb,nfc"}[Pick(4)];
    p.backup_eligible = Chance(0.5);
    p.backup_state = p.backup_eligible && Chance(0.5);
    p.aaguid = Chance(0.3) ? "" : NewId();
    p.attestation_format = std::vector<std::string>{"none", "packed", "fido-u2f"}[Pick(3)];
    p.name = Chance(0.4) ? "" : PickOf(kTexts);  // empty: "Passkey <n>"
    return p;
  }

  // A user's passkeys: added, removed, signed in with (the counter moving forward, staying at
  // zero, or going back), and failed sign-ins.
  bool PasskeyChange() {
    const std::string& id = PickOf(users_);
    auto state = commands_.LoadUser(id);
    REQUIRE_MESSAGE(state.ok(), state.status().ToString());
    const std::string actor = "user-" + id;
    const int what = Pick(10);
    if (state->passkeys.empty() || what < 3) {
      d::Passkey p = NewPasskey();
      if (!Accepted(commands_.User(As(actor), id, d::AddPasskey{p}))) return false;
      credentials_.push_back(p.credential_id);
      return true;
    }
    const d::Passkey& p = PickOf(state->passkeys);
    if (what < 5) return Accepted(commands_.User(As(actor), id, d::RemovePasskey{p.credential_id}));
    if (what < 9) {
      d::RecordSignIn c{p.credential_id, p.sign_count + Pick(5), Chance(0.8), Chance(0.3)};
      if (p.sign_count == 0 && Chance(0.5)) c.sign_count = 0;
      return Accepted(commands_.User(As(actor), id, c));
    }
    return Accepted(commands_.User(
        As("system"), id,
        d::RecordSignInFailure{Chance(0.5) ? p.credential_id : Base64Url(30), PickOf(kTexts)}));
  }

  bool RegisterUser() {
    std::string id = NewId();
    // Now and then a taken username: the reservation refuses it.
    std::string username = !usernames_.empty() && Chance(0.05)
                               ? PickOf(usernames_)
                               : "u" + std::to_string(seed_) + "x" + std::to_string(next_++);
    d::RegisterUser c{id, username, PickOf(kTexts) + " " + std::to_string(next_), std::nullopt};
    if (Chance(0.6)) c.passkey = NewPasskey();
    if (!Accepted(commands_.User(As("system"), id, c))) return false;
    if (c.passkey) credentials_.push_back(c.passkey->credential_id);
    users_.push_back(id);
    usernames_.push_back(username);
    return true;
  }

  bool ChangeDisplayName() {
    const std::string& id = PickOf(users_);
    return Accepted(commands_.User(As("user-" + id), id, d::ChangeDisplayName{PickOf(kTexts)}));
  }

  bool PlatformRole() {
    const std::string& user = PickOf(users_);
    d::PlatformRole role = Chance(0.5) ? d::PlatformRole::kAdmin : d::PlatformRole::kOperator;
    d::PlatformCommand c = d::GrantPlatformRole{user, role};
    if (Chance(0.4)) c = d::RevokePlatformRole{user, role};
    return Accepted(commands_.Platform(As("system"), c));
  }

  bool CreateOrganization() {
    std::string id = NewId();
    const std::string& actor = PickOf(users_);
    if (!Accepted(commands_.Organization(As("user-" + actor), id,
                                         d::CreateOrganization{id, PickOf(kTexts)}))) {
      return false;
    }
    orgs_.push_back({id, {{actor, d::OrgRole::kOwner}}});
    return true;
  }

  std::vector<std::string> MembersOf(const Org& org, std::optional<d::OrgRole> role) const {
    std::vector<std::string> out;
    for (const auto& [user, r] : org.members) {
      if (!role || r == *role) out.push_back(user);
    }
    return out;
  }

  bool OrganizationChange() {
    Org& org = orgs_[Pick(static_cast<int>(orgs_.size()))];
    const std::vector<std::string> owners = MembersOf(org, d::OrgRole::kOwner);
    const std::string actor = "user-" + PickOf(owners);
    const int what = Pick(10);
    if (what < 1) {
      return Accepted(
          commands_.Organization(As(actor), org.id, d::RenameOrganization{PickOf(kTexts)}));
    }
    if (what < 5) {
      const std::string& user = PickOf(users_);
      d::OrgRole role = Chance(0.2) ? d::OrgRole::kOwner : d::OrgRole::kMember;
      if (!Accepted(commands_.Organization(As(actor), org.id, d::AddMember{user, role}))) {
        return false;
      }
      org.members.emplace(user, role);
      return true;
    }
    const std::vector<std::string> everyone = MembersOf(org, std::nullopt);
    if (what < 8) {
      const std::string& user = PickOf(everyone);
      if (!Accepted(commands_.Organization(As(actor), org.id, d::RemoveMember{user}))) {
        return false;
      }
      org.members.erase(user);
      return true;
    }
    // To a member who is not an owner yet, from an owner (named, or the actor).
    const std::vector<std::string> plain = MembersOf(org, d::OrgRole::kMember);
    if (plain.empty()) return false;
    const std::string to = PickOf(plain);
    const std::string from = Chance(0.5) ? PickOf(owners) : actor.substr(5);
    const std::string named = from == actor.substr(5) && Chance(0.5) ? "" : from;
    if (!Accepted(commands_.Organization(As(actor), org.id, d::TransferOwnership{to, named}))) {
      return false;
    }
    org.members[to] = d::OrgRole::kOwner;
    org.members[from] = d::OrgRole::kMember;
    return true;
  }

  d::RegisterHost HostFacts(const std::string& id) {
    d::RegisterHost h;
    h.host_id = id;
    h.name = "host-" + std::to_string(Pick(20));
    h.address = "10.0." + std::to_string(Pick(4)) + "." + std::to_string(1 + Pick(250));
    h.cpu_count = 8 << Pick(4);
    h.memory_mb = 16384 << Pick(4);
    h.disk_gb = 500 << Pick(3);
    h.hypervisor_kind = Chance(0.7) ? "cloud-hypervisor" : "qemu";
    h.hypervisor_version = Chance(0.5) ? "38.0" : "8.2.2";
    h.accelerator = Chance(0.4) ? "kvm" : Chance(0.5) ? "tcg" : "";
    h.cpu_allocation_ratio =
        Chance(0.5) ? 4 : 1 + Pick(static_cast<int>(d::kMaxCpuAllocationRatio));
    h.memory_allocation_ratio =
        Chance(0.7) ? 1 : 1 + Pick(static_cast<int>(d::kMaxMemoryAllocationRatio));
    return h;
  }

  bool RegisterHost() {
    // A host registers at every start; sometimes with changed facts.
    std::string id = !hosts_.empty() && Chance(0.3) ? PickOf(hosts_) : NewId();
    if (!Accepted(commands_.Host(As("host-" + id), id, HostFacts(id)))) return false;
    if (std::find(hosts_.begin(), hosts_.end(), id) == hosts_.end()) hosts_.push_back(id);
    return true;
  }

  bool HostChange() {
    const std::string& id = PickOf(hosts_);
    d::HostCommand c = d::UncordonHost{};
    switch (Pick(6)) {
      case 0:
        c = d::UpdateHostCapacity{{4 << Pick(5), 8192 << Pick(5), 250 << Pick(4)}};
        break;
      case 1:
        c = d::CordonHost{PickOf(kReasons)};
        break;
      case 2:
        c = d::UncordonHost{};
        break;
      case 3:
        c = d::MarkHostUnreachable{PickOf(kReasons)};
        break;
      default:
        c = d::MarkHostReachable{};
        break;
    }
    return Accepted(commands_.Host(As("system"), id, c));
  }

  bool CreateVm() {
    const Org& org = PickOf(orgs_);
    const std::vector<std::string> members = MembersOf(org, std::nullopt);
    d::CreateVm c;
    c.vm_id = NewId();
    c.org_id = org.id;
    if (Chance(0.2)) c.owner_id = PickOf(members);
    c.name = PickOf(kVmNames);
    c.description = PickOf(kDescriptions);
    c.image = PickOf(kImages);
    c.cpu_count = 1 + Pick(8);
    c.memory_mb = 512 << Pick(4);
    c.disk_gb = 10 * (1 + Pick(10));
    c.start = Chance(0.7);
    if (!Accepted(commands_.Vm(As("user-" + PickOf(members)), c.vm_id, c))) return false;
    vms_.push_back(c.vm_id);
    return true;
  }

  // The scheduler: a pending VM goes on a registered host, or says why it cannot.
  bool Place() {
    const std::string& id = PickOf(vms_);
    auto state = commands_.LoadVm(id);
    REQUIRE_MESSAGE(state.ok(), state.status().ToString());
    d::VmCommand c = d::ScheduleVm{PickOf(hosts_)};
    if (state->host_id.empty() && Chance(0.25)) {
      c = d::ReportVmPlacementFailure{PickOf(kPlacementReasons)};
    }
    return Accepted(commands_.Vm(As("system"), id, c));
  }

  // A host's report (or the liveness checker's, with no host), stale now and then.
  bool Observe() {
    const std::string& id = PickOf(vms_);
    auto state = commands_.LoadVm(id);
    REQUIRE_MESSAGE(state.ok(), state.status().ToString());
    d::ReportVmObserved c;
    const bool liveness = state->host_id.empty() || Chance(0.15);
    c.host_id = liveness ? "" : state->host_id;
    c.state = static_cast<d::VmObservedState>(Pick(10));
    const int64_t low = std::max<int64_t>(0, state->observed_generation - 1);
    c.generation = low + Pick(static_cast<int>(state->generation - low + 1));
    if (Chance(0.3)) c.error = PickOf(kErrors);
    return Accepted(commands_.Vm(As(liveness ? "system" : "host-" + state->host_id), id, c));
  }

  bool VmChange() {
    const std::string& id = PickOf(vms_);
    auto state = commands_.LoadVm(id);
    REQUIRE_MESSAGE(state.ok(), state.status().ToString());
    // Mostly a change the desired state allows; now and then any (the domain may refuse it).
    std::vector<int> allowed = {0, 1, 2, 3, 4, 5, 6, 7};
    switch (state->desired) {
      case d::VmDesiredState::kRunning:
        allowed = {1, 2, 3, 6, 7};
        break;
      case d::VmDesiredState::kStopped:
        allowed = {0, 1, 5, 6, 7};
        break;
      case d::VmDesiredState::kPaused:
        allowed = {1, 4, 6, 7};
        break;
      case d::VmDesiredState::kDeleted:
        break;
    }
    const int what = Chance(0.2) ? Pick(8) : PickOf(allowed);
    d::VmCommand c = d::DeleteVm{};
    switch (what) {
      case 0:
        c = d::StartVm{};
        break;
      case 1:
        c = d::StopVm{Chance(0.4)};
        break;
      case 2:
        c = d::RestartVm{};
        break;
      case 3:
        c = d::PauseVm{};
        break;
      case 4:
        c = d::ResumeVm{};
        break;
      case 5:
        c = d::ResizeVm{1 + Pick(16), 256 << Pick(6),
                        state->resources.disk_gb + (Chance(0.5) ? 0 : 10 * Pick(5))};
        break;
      case 6:
        c = d::RenameVm{PickOf(kVmNames)};
        break;
      default:
        // Deleting is rarer than the rest, so VMs live long enough to change.
        if (Chance(0.5)) c = d::StopVm{true};
        break;
    }
    return Accepted(commands_.Vm(As("user-" + state->owner_id), id, c));
  }

  events::DomainCommands& commands_;
  std::mt19937 rng_;
  const uint32_t seed_;
  int accepted_ = 0;
  int next_ = 0;
  std::string last_refusal_;
  std::vector<std::string> users_, usernames_, credentials_, hosts_, vms_;
  std::vector<Org> orgs_;
};

// Every row of every read model table, as PostgreSQL's text of the whole row.
using TableRows = std::map<std::string, std::vector<std::string>>;

TableRows ReadModelRows(events::PgConnection& conn) {
  TableRows out;
  for (const auto& p : projections::AllProjections()) {
    for (const std::string& table : p->tables()) {
      std::vector<std::string>& rows = out[table];
      for (auto& row : test::QueryRows(conn, "SELECT r::text FROM " + table + " r ORDER BY 1")) {
        rows.push_back(row[0]);
      }
      std::sort(rows.begin(), rows.end());
    }
  }
  return out;
}

// The rows of `table` only on one side, at most a few of each.
std::string RowsApart(const std::string& table, const TableRows& live, const TableRows& rebuilt) {
  const auto& a = live.at(table);
  const auto& b = rebuilt.at(table);
  std::vector<std::string> only_live, only_rebuilt;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(only_live));
  std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(only_rebuilt));
  std::ostringstream out;
  constexpr size_t kShown = 8;
  for (size_t i = 0; i < only_live.size() && i < kShown; ++i) {
    out << "    live fold only: " << only_live[i] << "\n";
  }
  for (size_t i = 0; i < only_rebuilt.size() && i < kShown; ++i) {
    out << "    bulk fold only: " << only_rebuilt[i] << "\n";
  }
  return out.str();
}

// Makes the history of `seed`, folds it live and rebuilds it in bulk; adds the log's events,
// by type, to `event_counts`. "" when the rebuild found every read model equal; otherwise
// what differed, with the seed.
std::string FoldBothWays(uint32_t seed, std::map<std::string, int64_t>& event_counts) {
  test::TestDatabase db;
  events::DomainCommands commands(db.store());
  std::mt19937 shape(seed ^ 0x5eedu);
  const int count = std::uniform_int_distribution<int>(kMinCommands, kMaxCommands)(shape);
  // Some seeds fold live in small batches, and some part way through the history, so that
  // ApplyBatch meets rows written by earlier batches.
  const bool interleave = seed % 4 == 1;
  projections::RunnerOptions options;
  options.database_url = db.url();
  options.batch_size = seed % 3 == 0 ? 17 : 1000;
  auto runner = projections::ProjectionRunner::Create(db.store(), nullptr,
                                                      projections::AllProjections(), options);
  REQUIRE(runner.ok());

  HistoryMaker history(commands, seed);
  if (seed % 2 == 0) {
    // A HostRegistered event as recorded before hosts said their accelerator and allocation
    // ratios: both folds must read it as none said and 1:1.
    const std::string id = "legacy-" + std::to_string(seed);
    events::AppendRequest old;
    old.streams.push_back(
        {"host-" + id,
         events::ExpectedVersion::NoStream(),
         {{"HostRegistered",
           R"({"host_id":")" + id +
               R"(","name":"legacy","address":"10.9.9.9","cpu_count":16,"memory_mb":65536,)"
               R"("disk_gb":1000,"hypervisor_kind":"cloud-hypervisor","hypervisor_version":"38.0"})",
           R"({"actor":"host-)" + id + R"("})"}}});
    REQUIRE(db.store().Append(std::move(old)).ok());
    history.KnownHost(id);
  }
  if (interleave) {
    history.Run(count / 2);
    REQUIRE((*runner)->CatchUp().ok());
    history.Run(count - count / 2);
  } else {
    history.Run(count);
  }
  REQUIRE((*runner)->CatchUp().ok());
  auto last = db.store().LastPosition();
  REQUIRE(last.ok());

  std::ostringstream what;
  what << "seed " << seed << " (" << history.accepted() << " commands, " << *last << " events, "
       << (interleave ? "folded live in two parts, " : "") << "live batches of "
       << options.batch_size << "):\n";
  bool differs = false;
  for (const projections::ProjectionState& s : (*runner)->States()) {
    if (s.stopped || !s.error.empty()) {
      what << "  the live projection " << s.name << " stopped at " << s.error_position << ": "
           << s.error << "\n";
      differs = true;
    }
  }

  auto conn = db.Connect();
  for (auto& row : test::QueryRows(*conn, "SELECT type, count(*) FROM events GROUP BY type")) {
    event_counts[row[0]] += std::stoll(row[1]);
  }
  const TableRows live = ReadModelRows(*conn);
  projections::RebuildOptions ro;
  ro.database_url = db.url();
  auto report = projections::Rebuild(db.store(), projections::AllProjections(), ro);
  if (!report.ok()) return what.str() + "  the rebuild failed: " + report.status().ToString();
  if (report->path != "bulk" || !report->bulk_fallback.empty()) {
    what << "  the rebuild did not fold in bulk (" << report->path << "): " << report->bulk_fallback
         << "\n";
    differs = true;
  }
  for (const std::string& why : report->not_compared) {
    what << "  not compared: " << why << "\n";
    differs = true;
  }
  if (report->position != *last) {
    what << "  rebuilt at position " << report->position << ", the log ends at " << *last << "\n";
    differs = true;
  }
  if (!report->identical()) {
    differs = true;
    const TableRows rebuilt = ReadModelRows(*conn);  // the rebuild swapped its tables in
    for (const projections::TableDifference& t : report->differences) {
      what << "  table " << t.table << ": " << t.only_live << " rows only in the live fold, "
           << t.only_rebuilt << " only in the bulk fold\n"
           << RowsApart(t.table, live, rebuilt);
    }
  }
  return differs ? what.str() : "";
}

// FOLD_EQUIVALENCE_SEED=<n> runs one seed, <first>-<last> a range (to search further).
std::vector<uint32_t> SeedsToRun() {
  uint32_t first = kFirstSeed, last = kFirstSeed + kSeedCount - 1;
  if (const char* chosen = std::getenv("FOLD_EQUIVALENCE_SEED"); chosen && *chosen) {
    char* end = nullptr;
    first = last = static_cast<uint32_t>(std::strtoul(chosen, &end, 10));
    if (*end == '-') last = static_cast<uint32_t>(std::strtoul(end + 1, nullptr, 10));
  }
  std::vector<uint32_t> seeds;
  for (uint32_t s = first; s <= last; ++s) seeds.push_back(s);
  REQUIRE_MESSAGE(!seeds.empty(), "FOLD_EQUIVALENCE_SEED names no seed");
  return seeds;
}

}  // namespace

TEST_CASE(
    "the live fold and the bulk fold give every read model the same rows for random "
    "histories of seeds 1 to 40") {
  const std::vector<uint32_t> seeds = SeedsToRun();
  MESSAGE("seeds "
          << seeds.front() << " to " << seeds.back() << ", " << kMinCommands << " to "
          << kMaxCommands
          << " accepted commands each (FOLD_EQUIVALENCE_SEED=<n> or <first>-<last> runs others)");
  std::vector<uint32_t> failed;
  std::map<std::string, int64_t> event_counts;
  for (uint32_t seed : seeds) {
    const std::string differences = FoldBothWays(seed, event_counts);
    CHECK_MESSAGE(differences.empty(), differences);
    if (!differences.empty()) failed.push_back(seed);
  }
  if (seeds.size() >= kSeedCount) {
    // The histories must reach every event a read model folds, or the property says little.
    std::string missing;
    for (const char* type : kFoldedTypes) {
      if (event_counts[type] == 0) missing += std::string(" ") + type;
    }
    CHECK_MESSAGE(missing.empty(), "no seed made:" << missing);
  }
  std::string list;
  for (uint32_t s : failed) list += " " + std::to_string(s);
  CHECK_MESSAGE(failed.empty(), "seeds whose folds differ:" << list);
}
