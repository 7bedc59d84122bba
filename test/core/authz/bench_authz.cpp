// bench_authz: throughput and latency of core/authz on Strato's schema (schema/strato.perm).
//
// Data: 100 organizations, 1,000 users, 10,000 VMs. Each user is a member of one organization
// (user u of organization u % 100), each organization has an owner, each VM belongs to one
// organization and has an owner from it; every 10th VM is owned by a user from elsewhere (a
// direct grant across organizations). user:power is a member of 10 organizations and so may
// read ~1,000 VMs. Checks mix allowed and denied answers. The baseline is a lookup of the
// owner tuple's text in an std::unordered_set<std::string>, measured in the same run.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/authz/engine.h"
#include "core/authz/memory_tuple_store.h"

using namespace strato;
using namespace strato::authz;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kOrgs = 100, kUsers = 1000, kVms = 10000;

double Ns(Clock::duration d) {
  return std::chrono::duration<double, std::nano>(d).count();
}

// CPU time of this thread: on a shared machine it leaves out the time other processes ran.
double ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

double Percentile(std::vector<double>& v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

}  // namespace

int main() {
  auto schema = LoadSchemaFile(STRATO_PERM_FILE);
  if (!schema.ok()) {
    std::fprintf(stderr, "%s\n", schema.status().ToString().c_str());
    return 1;
  }
  std::mt19937 rng(42);
  std::vector<Tuple> rows;
  std::unordered_set<std::string> raw;  // the baseline: tuple text in a hash set
  auto add = [&](std::string text) {
    rows.push_back(*ParseTuple(text));
    raw.insert(std::move(text));
  };
  auto user = [](int u) { return "u" + std::to_string(u); };
  for (int o = 0; o < kOrgs; ++o) {
    add("organization:o" + std::to_string(o) + "#owner@user:" + user(o));
  }
  for (int u = 0; u < kUsers; ++u) {
    add("organization:o" + std::to_string(u % kOrgs) + "#member@user:" + user(u));
  }
  for (int o = 0; o < 10; ++o) {
    add("organization:o" + std::to_string(o * 7) + "#member@user:power");
  }
  std::vector<int> vm_owner(kVms);
  for (int v = 0; v < kVms; ++v) {
    const int org = v % kOrgs;
    const bool outsider = v % 10 == 0;
    const int owner = outsider ? static_cast<int>(rng() % kUsers)
                               : org + kOrgs * static_cast<int>(rng() % (kUsers / kOrgs));
    vm_owner[v] = owner;
    add("vm:v" + std::to_string(v) + "#owner@user:" + user(owner));
    add("vm:v" + std::to_string(v) + "#organization@organization:o" + std::to_string(org));
  }
  auto t0 = Clock::now();
  auto store = MemoryTupleStore::FromRows(*schema, rows);
  auto t1 = Clock::now();
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  Engine engine(**store);
  std::printf("tuples: %zu, store built in %.1f ms\n", (*store)->size(), Ns(t1 - t0) / 1e6);

  // A mix of requests: half ask about a user of the VM's organization or its owner (mostly
  // allowed), half about a random user (mostly denied).
  const char* perms[] = {"read", "start", "delete"};
  struct Req {
    std::string vm, user;
    const char* perm;
  };
  std::vector<Req> reqs;
  const int kReqs = 200000;
  for (int i = 0; i < kReqs; ++i) {
    const int v = static_cast<int>(rng() % kVms);
    int u;
    switch (i % 4) {
      case 0:
        u = vm_owner[v];
        break;
      case 1:
        u = v % kOrgs + kOrgs * static_cast<int>(rng() % (kUsers / kOrgs));
        break;
      default:
        u = static_cast<int>(rng() % kUsers);
    }
    reqs.push_back({"v" + std::to_string(v), user(u), perms[i % 3]});
  }
  auto check = [&](const Req& r) {
    CheckRequest c;
    c.entity_type = "vm";
    c.entity_id = r.vm;
    c.permission = r.perm;
    c.subject_type = "user";
    c.subject_id = r.user;
    auto got = engine.Check(c);
    return got.ok() && *got;
  };

  // Throughput, one thread.
  int allowed = 0;
  for (int i = 0; i < 20000; ++i) allowed += check(reqs[i]);  // warm up
  allowed = 0;
  const int kRounds = 5;
  double cpu0 = ThreadCpuNs();
  t0 = Clock::now();
  for (int round = 0; round < kRounds; ++round) {
    for (const Req& r : reqs) allowed += check(r);
  }
  t1 = Clock::now();
  const double strato_cpu_ns = (ThreadCpuNs() - cpu0) / (double(kRounds) * kReqs);
  const double strato_ns = Ns(t1 - t0) / (double(kRounds) * kReqs);
  std::printf(
      "checks: %d, allowed %.1f%%, %.0f checks/s on one thread (%.0f ns each; "
      "by thread CPU time %.0f checks/s, %.0f ns each)\n",
      kRounds * kReqs, 100.0 * allowed / (kRounds * kReqs), 1e9 / strato_ns, strato_ns,
      1e9 / strato_cpu_ns, strato_cpu_ns);

  // Baseline: is the owner tuple's text in a hash set?
  std::vector<std::string> keys;
  for (const Req& r : reqs) keys.push_back("vm:" + r.vm + "#owner@user:" + r.user);
  size_t hits = 0;
  cpu0 = ThreadCpuNs();
  t0 = Clock::now();
  for (int round = 0; round < kRounds; ++round) {
    for (const std::string& k : keys) hits += raw.count(k);
  }
  t1 = Clock::now();
  const double raw_cpu_ns = (ThreadCpuNs() - cpu0) / (double(kRounds) * kReqs);
  const double raw_ns = Ns(t1 - t0) / (double(kRounds) * kReqs);
  std::printf(
      "baseline: unordered_set<string> lookup of the owner tuple: %.0f ns each, "
      "%.0f ns by CPU time (%zu hits)\n",
      raw_ns, raw_cpu_ns, hits);
  std::printf(
      "ratio: %.2f (strato/raw, CPU ns per check of read/start/delete vs one "
      "direct-tuple hash lookup)\n",
      strato_cpu_ns / raw_cpu_ns);

  // Latency per permission.
  for (const char* p : perms) {
    std::vector<double> lat;
    lat.reserve(reqs.size());
    for (const Req& r0 : reqs) {
      Req r = r0;
      r.perm = p;
      auto a = Clock::now();
      volatile bool ok = check(r);
      (void)ok;
      lat.push_back(Ns(Clock::now() - a));
    }
    std::printf("latency vm#%-6s p50 %.2f us, p99 %.2f us, max %.1f us\n", p,
                Percentile(lat, 0.50) / 1e3, Percentile(lat, 0.99) / 1e3,
                Percentile(lat, 1.0) / 1e3);
  }

  // Lookup entities: VMs user:power may read.
  std::vector<double> lookups;
  size_t found = 0;
  for (int i = 0; i < 30; ++i) {
    LookupEntitiesRequest l;
    l.entity_type = "vm";
    l.permission = "read";
    l.subject_type = "user";
    l.subject_id = "power";
    auto a = Clock::now();
    auto got = engine.LookupEntities(l);
    lookups.push_back(Ns(Clock::now() - a));
    if (got.ok()) found = got->size();
  }
  std::printf("lookup entities: VMs user:power may read: %zu, median %.2f ms, max %.2f ms\n", found,
              Percentile(lookups, 0.5) / 1e6, Percentile(lookups, 1.0) / 1e6);
  return 0;
}
