#include "core/domain/state_json.h"

namespace strato::domain {
namespace {

std::string ResourcesJson(const Resources& r) {
  return JsonObjectBuilder()
      .Int("cpu_count", r.cpu_count)
      .Int("memory_mb", r.memory_mb)
      .Int("disk_gb", r.disk_gb)
      .Build();
}

// Inserts `"key":<raw json>` before the closing brace of `object`.
std::string WithRaw(std::string object, const char* key, const std::string& raw) {
  object.pop_back();
  if (object.size() > 1) object += ",";
  object += "\"";
  object += key;
  object += "\":";
  object += raw;
  object += "}";
  return object;
}

}  // namespace

std::string ToJson(const VmState& s) {
  std::string out = JsonObjectBuilder()
                        .Str("kind", "vm")
                        .Str("id", s.id)
                        .Bool("exists", s.exists)
                        .Int("version", s.version)
                        .Str("org_id", s.org_id)
                        .Str("owner_id", s.owner_id)
                        .Str("name", s.name)
                        .Str("description", s.description)
                        .Str("image", s.image)
                        .Str("desired", VmDesiredStateName(s.desired))
                        .Int("generation", s.generation)
                        .Str("host_id", s.host_id)
                        .Str("placement_failure", s.placement_failure)
                        .Str("observed", VmObservedStateName(s.observed))
                        .Int("observed_generation", s.observed_generation)
                        .OptStr("observed_error", s.observed_error)
                        .Build();
  return WithRaw(out, "resources", ResourcesJson(s.resources));
}

std::string ToJson(const OrganizationState& s) {
  std::string members = "{";
  for (const auto& [user, role] : s.members) {
    if (members.size() > 1) members += ",";
    members += JsonObjectBuilder().Str(user, OrgRoleName(role)).Build().substr(1);
    members.pop_back();
  }
  members += "}";
  std::string out = JsonObjectBuilder()
                        .Str("kind", "organization")
                        .Str("id", s.id)
                        .Bool("exists", s.exists)
                        .Int("version", s.version)
                        .Str("name", s.name)
                        .Build();
  return WithRaw(out, "members", members);
}

std::string ToJson(const UserState& s) {
  return JsonObjectBuilder()
      .Str("kind", "user")
      .Str("id", s.id)
      .Bool("exists", s.exists)
      .Int("version", s.version)
      .Str("username", s.username)
      .Str("display_name", s.display_name)
      .Build();
}

std::string ToJson(const HostState& s) {
  std::string out = JsonObjectBuilder()
                        .Str("kind", "host")
                        .Str("id", s.id)
                        .Bool("exists", s.exists)
                        .Int("version", s.version)
                        .Str("name", s.name)
                        .Str("address", s.address)
                        .Str("hypervisor_kind", s.hypervisor_kind)
                        .Str("hypervisor_version", s.hypervisor_version)
                        .Bool("cordoned", s.cordoned)
                        .Str("cordon_reason", s.cordon_reason)
                        .Bool("reachable", s.reachable)
                        .Str("unreachable_reason", s.unreachable_reason)
                        .Build();
  return WithRaw(out, "capacity", ResourcesJson(s.capacity));
}

}  // namespace strato::domain
