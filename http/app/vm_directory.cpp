#include "http/app/vm_directory.h"

#include <algorithm>
#include <tuple>

namespace strato::http {

namespace {

// The lowest position the three read models the directory shows have committed.
VmDirectory::CommittedPosition CommittedOf(const projections::ProjectionRunner& runner) {
  return [&runner]() -> Result<int64_t> {
    int64_t lowest = INT64_MAX;
    for (const char* name : {"vms", "hosts", "organizations"}) {
      auto p = runner.Position(name);
      if (!p.ok()) return p.status();
      lowest = std::min(lowest, *p);
    }
    return lowest;
  };
}

}  // namespace

VmDirectory::VmDirectory(events::PgPool& db, const projections::ProjectionRunner& runner)
    : owned_queries_(std::make_unique<projections::PgQueries>(db)),
      queries_(*owned_queries_),
      committed_(CommittedOf(runner)) {}

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
  // The copy may show what all three read models have committed: the lowest of their positions.
  auto committed = [this] { return committed_(); };
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

  auto changes = queries_.VmListChangesAfter(whole ? -1 : seen);
  if (!changes.ok()) return changes.status();

  std::unique_lock lock(mu_);
  if (whole) {
    vms_.clear();
    org_names_.clear();
    hosts_.clear();
  }
  for (VmRecord& v : changes->vms) {
    if (v.deleted) {
      vms_.erase(v.id);
    } else {
      std::string id = v.id;
      vms_.insert_or_assign(std::move(id), std::move(v));
    }
  }
  for (auto& [id, name] : changes->org_names) org_names_.insert_or_assign(id, std::move(name));
  for (auto& [id, label] : changes->hosts) hosts_.insert_or_assign(id, std::move(label));
  ++generation_;
  {
    std::lock_guard<std::mutex> resolved(resolved_mu_);
    resolved_.clear();  // every answer was for the previous generation
  }
  seen_.store(*target);
  return Status::Ok();
}

}  // namespace strato::http
