// FakeQueries: projections::Queries held in memory, for handler tests that need no PostgreSQL.
// A test fills the rows it wants the handlers to see; a read nobody filled answers as an empty
// read model would (no row, an empty list). Not thread-safe: one test thread.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "projections/queries/queries.h"

namespace strato::test {

class FakeQueries final : public projections::Queries {
 public:
  std::map<std::string, projections::VersionedVm> vms;                    // by id
  std::map<std::string, projections::HostRow> hosts;                      // by id
  std::map<std::string, projections::OrgDetail> orgs;                     // by id
  std::map<std::string, std::string> users;                               // username -> id
  std::map<std::string, std::vector<projections::AuditEntry>> histories;  // by stream
  mutable int reads = 0;  // how many calls the handlers made

  Result<std::optional<projections::VersionedVm>> Vm(const std::string& id) const override {
    ++reads;
    auto it = vms.find(id);
    if (it == vms.end()) return std::optional<projections::VersionedVm>();
    return std::optional<projections::VersionedVm>(it->second);
  }
  Result<std::optional<std::string>> VmName(const std::string& id) const override {
    ++reads;
    auto it = vms.find(id);
    if (it == vms.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second.vm.name);
  }
  Result<projections::VmListChanges> VmListChangesAfter(int64_t position) const override {
    ++reads;
    projections::VmListChanges c;
    for (const auto& [id, v] : vms) {
      if (v.vm.position > position) c.vms.push_back(v.vm);
    }
    for (const auto& [id, o] : orgs) c.org_names.emplace_back(id, o.name);
    for (const auto& [id, h] : hosts)
      c.hosts.emplace_back(id, projections::HostLabel{h.name, h.reachable});
    return c;
  }
  Result<std::vector<projections::HostRow>> Hosts(
      const std::vector<std::string>& ids) const override {
    ++reads;
    std::vector<projections::HostRow> out;
    for (const std::string& id : ids) {
      auto it = hosts.find(id);
      if (it != hosts.end()) out.push_back(it->second);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return std::tie(a.name, a.id) < std::tie(b.name, b.id);
    });
    return out;
  }
  Result<std::optional<projections::OrgDetail>> Organization(const std::string& id) const override {
    ++reads;
    auto it = orgs.find(id);
    if (it == orgs.end()) return std::optional<projections::OrgDetail>();
    return std::optional<projections::OrgDetail>(it->second);
  }
  Result<std::vector<projections::OrgListItem>> Organizations(
      const projections::OrgListRequest& request) const override {
    ++reads;
    std::vector<projections::OrgListItem> out;
    for (const std::string& id : request.ids) {
      auto it = orgs.find(id);
      if (it == orgs.end()) continue;
      std::string role;
      for (const auto& m : it->second.members) {
        if (m.user_id == request.user_id) role = m.role;
      }
      out.push_back({id, it->second.name, role});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return std::tie(a.name, a.id) < std::tie(b.name, b.id);
    });
    return out;
  }
  Result<std::optional<std::string>> OrganizationName(const std::string& id) const override {
    ++reads;
    auto it = orgs.find(id);
    if (it == orgs.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second.name);
  }
  Result<std::optional<std::string>> UserIdByUsername(const std::string& name) const override {
    ++reads;
    auto it = users.find(name);
    if (it == users.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  Result<projections::AuditEntriesPage> AuditEntries(
      const projections::AuditReadable&, const projections::AuditQuery&) const override {
    ++reads;
    return projections::AuditEntriesPage{};
  }
  Result<std::optional<std::string>> StreamOrganization(const std::string&) const override {
    ++reads;
    return std::optional<std::string>();
  }
  Result<bool> EventTypeSeen(const std::string&) const override {
    ++reads;
    return false;
  }
  Result<std::vector<projections::AuditEntry>> StreamHistory(
      const std::string& stream_id) const override {
    ++reads;
    auto it = histories.find(stream_id);
    if (it == histories.end()) return std::vector<projections::AuditEntry>();
    return it->second;
  }
};

}  // namespace strato::test
