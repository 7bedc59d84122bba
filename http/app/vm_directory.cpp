#include "http/app/vm_directory.h"

#include <algorithm>
#include <tuple>

namespace strato::http {

namespace {

constexpr const char* kTime = "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'";

}  // namespace

std::string VmRecordColumns() {
  return std::string(
             "vm_id, org_id, owner_id, name, description, image, cpu_count, memory_mb, "
             "disk_gb, desired, generation, coalesce(host_id, ''), coalesce(placement_failure, "
             "''), observed, observed_generation, coalesce(observed_error, ''), to_char(created_at "
             "AT TIME ZONE 'UTC', ") +
         kTime + "), to_char(updated_at AT TIME ZONE 'UTC', " + kTime + "), last_position, deleted";
}

VmRecord VmRecordAt(const events::PgResult& r, int row, int first) {
  auto text = [&](int col) { return std::string(r.Get(row, first + col)); };
  auto number = [&](int col) { return r.GetInt64(row, first + col); };
  VmRecord v;
  v.id = text(0);
  v.org_id = text(1);
  v.owner_id = text(2);
  v.name = text(3);
  v.description = text(4);
  v.image = text(5);
  v.cpu_count = number(6);
  v.memory_mb = number(7);
  v.disk_gb = number(8);
  v.desired = text(9);
  v.generation = number(10);
  v.host_id = text(11);
  v.placement_failure = text(12);
  v.observed = text(13);
  v.observed_generation = number(14);
  v.observed_error = text(15);
  v.created_at = text(16);
  v.updated_at = text(17);
  v.position = number(18);
  v.deleted = r.Get(row, first + 19) == "t";
  return v;
}

const VmRecord* VmDirectory::View::Vm(std::string_view id) const {
  auto it = vms.find(id);
  return it == vms.end() ? nullptr : &it->second;
}

std::string_view VmDirectory::View::OrgName(std::string_view id) const {
  auto it = org_names.find(id);
  return it == org_names.end() ? std::string_view() : std::string_view(it->second);
}

const HostLabel* VmDirectory::View::Host(std::string_view id) const {
  auto it = hosts.find(id);
  return it == hosts.end() ? nullptr : &it->second;
}

VmDirectory::Listing VmDirectory::View::Resolve(const projections::EntityIds& ids) const {
  const VmDirectory& d = directory;
  {
    std::lock_guard<std::mutex> lock(d.resolved_mu_);
    auto it = d.resolved_.find(ids.get());
    if (it != d.resolved_.end() && it->second.generation == d.generation_) {
      return it->second.listing;
    }
  }
  auto listing = std::make_shared<std::vector<Listed>>();
  listing->reserve(ids->size());
  for (const std::string& id : *ids) {
    if (const VmRecord* v = Vm(id)) listing->push_back({v, OrgName(v->org_id)});
  }
  std::sort(listing->begin(), listing->end(), [](const Listed& a, const Listed& b) {
    return std::tie(a.vm->name, a.org_name, a.vm->id) < std::tie(b.vm->name, b.org_name, b.vm->id);
  });
  std::lock_guard<std::mutex> lock(d.resolved_mu_);
  if (d.resolved_.size() >= kResolvedEntries) d.resolved_.clear();
  d.resolved_[ids.get()] = Resolved{ids, d.generation_, listing};
  return listing;
}

Status VmDirectory::Read(const std::function<void(const View&)>& read) {
  STRATO_RETURN_IF_ERROR(Refresh());
  std::shared_lock lock(mu_);
  read(View{vms_, org_names_, hosts_, *this});
  return Status::Ok();
}

Status VmDirectory::Refresh() {
  // The copy may show what all three projections have committed: the lowest of their positions.
  auto committed = [this]() -> Result<int64_t> {
    int64_t lowest = INT64_MAX;
    for (const char* name : {"vms", "hosts", "organizations"}) {
      auto p = runner_.Position(name);
      if (!p.ok()) return p.status();
      lowest = std::min(lowest, *p);
    }
    return lowest;
  };
  auto target = committed();
  if (!target.ok()) return target.status();
  if (*target == seen_.load()) return Status::Ok();

  std::lock_guard<std::mutex> serial(refresh_mu_);
  target = committed();  // it may have moved while this request waited for another's refresh
  if (!target.ok()) return target.status();
  const int64_t seen = seen_.load();
  if (*target == seen) return Status::Ok();
  // A projection that went back was reset and is folding again from the start: read it all.
  const bool whole = seen < 0 || *target < seen;
  const std::string since = std::to_string(whole ? -1 : seen);

  auto db = db_.Acquire();
  if (!db.ok()) return db.status();
  auto vms =
      (*db)->Exec("SELECT " + VmRecordColumns() + " FROM vms WHERE last_position > $1", {since});
  if (!vms.ok()) return vms.status().WithContext("reading the VM list");
  auto orgs =
      (*db)->Exec("SELECT org_id, name FROM organizations WHERE last_position > $1", {since});
  if (!orgs.ok()) return orgs.status().WithContext("reading organization names");
  auto hosts =
      (*db)->Exec("SELECT host_id, name, reachable FROM hosts WHERE last_position > $1", {since});
  if (!hosts.ok()) return hosts.status().WithContext("reading host names");

  std::unique_lock lock(mu_);
  if (whole) {
    vms_.clear();
    org_names_.clear();
    hosts_.clear();
  }
  for (int i = 0; i < vms->rows(); ++i) {
    VmRecord v = VmRecordAt(*vms, i);
    if (v.deleted) {
      vms_.erase(v.id);
    } else {
      std::string id = v.id;
      vms_.insert_or_assign(std::move(id), std::move(v));
    }
  }
  for (int i = 0; i < orgs->rows(); ++i) {
    org_names_.insert_or_assign(std::string(orgs->Get(i, 0)), std::string(orgs->Get(i, 1)));
  }
  for (int i = 0; i < hosts->rows(); ++i) {
    hosts_.insert_or_assign(std::string(hosts->Get(i, 0)),
                            HostLabel{std::string(hosts->Get(i, 1)), hosts->Get(i, 2) == "t"});
  }
  ++generation_;
  {
    std::lock_guard<std::mutex> resolved(resolved_mu_);
    resolved_.clear();  // every answer was for the previous generation
  }
  seen_.store(*target);
  return Status::Ok();
}

}  // namespace strato::http
