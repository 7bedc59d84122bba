// VmDirectory: the web process's copy of the VM list — the vms read model's rows that are not
// deleted, with the names of their organizations and hosts. List pages, the dashboard's counts
// and the JSON list filter, sort and page what a user may read from it in memory, instead of
// sending PostgreSQL the ids of every VM the user may read on each request.
//
// It follows the read models, not the log: before each read it asks the projection runner how
// far the vms, hosts and organizations projections have committed and, when that moved, reads
// the rows changed since through projections::Queries (VmListChangesAfter) (last_position beyond
// what it holds; indexed by migration 0007). A page rendered after a command's read-your-writes
// wait (App::WaitForReadModels) therefore shows the command. When a projection goes back (it was
// reset to rebuild), the copy is read again whole.
//
// Memory: every live VM's row is held (about 0.5 KiB each).
// Thread-safety: Read may be called from any number of threads; refreshes are serialized and
// readers share a lock while their callback runs.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "events/pg/pg_pool.h"
#include "projections/queries/pg_queries.h"
#include "projections/queries/queries.h"
#include "projections/queries/tuple_feed.h"
#include "projections/runner/runner.h"

namespace strato::http {

// The vms read model's row and a host's label (projections/queries/vm_queries.h).
using projections::HostLabel;
using projections::VmRecord;

// What a VM list may be narrowed to; an empty field matches every VM.
struct VmFilter {
  std::string observed, org_id, desired;
  std::string name_contains;  // a part of the name, as given (names are lower case)
  bool Matches(const VmRecord& v) const {
    return (observed.empty() || v.observed == observed) && (org_id.empty() || v.org_id == org_id) &&
           (desired.empty() || v.desired == desired) &&
           (name_contains.empty() || v.name.find(name_contains) != std::string::npos);
  }
};

class VmDirectory {
 public:
  // The lowest position the vms, hosts and organizations read models have committed.
  using CommittedPosition = std::function<Result<int64_t>()>;

  // Reads changes through `queries` (borrowed), up to what `committed` says.
  VmDirectory(const projections::Queries& queries, CommittedPosition committed)
      : queries_(queries), committed_(std::move(committed)) {}
  // Reads from PostgreSQL through `db`, up to what `runner`'s projections have committed (both
  // borrowed).
  VmDirectory(events::PgPool& db, const projections::ProjectionRunner& runner);

  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  template <typename T>
  using Map = std::unordered_map<std::string, T, Hash, std::equal_to<>>;

  // A VM with its organization's name ("" when unknown).
  struct Listed {
    const VmRecord* vm;
    std::string_view org_name;
  };
  using Listing = std::shared_ptr<const std::vector<Listed>>;

  struct View {
    const Map<VmRecord>& vms;  // by id; deleted VMs are not here
    const Map<std::string>& org_names;
    const Map<HostLabel>& hosts;
    const VmDirectory& directory;

    const VmRecord* Vm(std::string_view id) const;
    std::string_view OrgName(std::string_view id) const;  // "" when unknown
    const HostLabel* Host(std::string_view id) const;     // null when unknown or ""
    // The VMs among `ids` that are listed, by (name, organization name, id). The answer is kept
    // for these ids (the same shared list, as TupleFeed::Readable gives it) until the directory
    // next changes, so asking again costs no lookups. Valid while this View is.
    Listing Resolve(const projections::EntityIds& ids) const;
  };

  // Brings the copy up to what the read models have committed, then calls `read` with it under
  // a shared lock (keep it short: a refresh waits for readers).
  Status Read(const std::function<void(const View&)>& read);

  // How far the copy has read (the lowest of the three projections' positions it saw).
  int64_t position() const { return seen_.load(); }

 private:
  Status Refresh();

  std::unique_ptr<projections::Queries> owned_queries_;  // set by the PgPool constructor
  const projections::Queries& queries_;
  CommittedPosition committed_;
  std::atomic<int64_t> seen_{-1};
  std::mutex refresh_mu_;
  mutable std::shared_mutex mu_;
  Map<VmRecord> vms_;
  Map<std::string> org_names_;
  Map<HostLabel> hosts_;
  uint64_t generation_ = 0;  // raised by every refresh (under mu_)

  // Resolve's answers by the ids list they answer (held, so its address is not reused).
  struct Resolved {
    projections::EntityIds ids;
    uint64_t generation = 0;
    Listing listing;
  };
  static constexpr size_t kResolvedEntries = 1024;
  mutable std::mutex resolved_mu_;
  mutable std::unordered_map<const void*, Resolved> resolved_;
};

}  // namespace strato::http
