#include "core/domain/state_json.h"

namespace strato::domain {
namespace {

void WriteResources(JsonWriter& w, std::string_view key, const Resources& r) {
  w.Key(key)
      .BeginObject()
      .Int("cpu_count", r.cpu_count)
      .Int("memory_mb", r.memory_mb)
      .Int("disk_gb", r.disk_gb)
      .EndObject();
}

}  // namespace

std::string ToJson(const VmState& s) {
  JsonWriter w;
  w.BeginObject()
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
      .OptStr("observed_error", s.observed_error);
  WriteResources(w, "resources", s.resources);
  w.EndObject();
  return w.Text();
}

std::string ToJson(const OrganizationState& s) {
  JsonWriter w;
  w.BeginObject()
      .Str("kind", "organization")
      .Str("id", s.id)
      .Bool("exists", s.exists)
      .Int("version", s.version)
      .Str("name", s.name)
      .Key("members")
      .BeginObject();
  for (const auto& [user, role] : s.members) w.Str(user, OrgRoleName(role));
  w.EndObject().EndObject();
  return w.Text();
}

std::string ToJson(const UserState& s) {
  JsonWriter w;
  w.BeginObject()
      .Str("kind", "user")
      .Str("id", s.id)
      .Bool("exists", s.exists)
      .Int("version", s.version)
      .Str("username", s.username)
      .Str("display_name", s.display_name)
      .EndObject();
  return w.Text();
}

std::string ToJson(const HostState& s) {
  JsonWriter w;
  w.BeginObject()
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
      .Str("unreachable_reason", s.unreachable_reason);
  WriteResources(w, "capacity", s.capacity);
  w.EndObject();
  return w.Text();
}

}  // namespace strato::domain
