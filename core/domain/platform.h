// The Platform aggregate: the installation itself and who runs it. There is one platform,
// "strato", on the stream platform-strato. Users hold platform roles: admin (cordons and
// uncordons hosts) and operator (sees hosts and their capacity); the two are independent, and
// the authorization schema makes every admin an operator too. Roles are granted by whoever runs
// the installation (`strato platform grant`, actor "system"), never through the web.
//
// Decide and Evolve are pure functions over plain values (no I/O, thread-safe). Header-only:
// the aggregate is small, and this keeps it in the strato_core target without a build change.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "core/domain/domain_event.h"
#include "core/status.h"

namespace strato::domain {

enum class PlatformRole { kAdmin, kOperator };

inline std::string_view PlatformRoleName(PlatformRole role) {
  return role == PlatformRole::kAdmin ? "admin" : "operator";
}

inline Result<PlatformRole> ParsePlatformRole(std::string_view text) {
  if (text == "admin") return PlatformRole::kAdmin;
  if (text == "operator") return PlatformRole::kOperator;
  return Status::InvalidArgument("\"" + std::string(text) +
                                 "\" is not a platform role; the roles are admin and operator");
}

// The one installation's id, in stream and tuple names (platform:strato).
inline constexpr std::string_view kPlatformId = "strato";

inline std::string PlatformStreamId() {  // "platform-strato"
  return "platform-" + std::string(kPlatformId);
}

struct PlatformState {
  int64_t version = 0;                                  // events folded
  std::map<std::string, std::set<PlatformRole>> roles;  // user id -> roles held (never empty)

  bool Holds(std::string_view user_id, PlatformRole role) const {
    auto it = roles.find(std::string(user_id));
    return it != roles.end() && it->second.count(role) > 0;
  }
};

// Granting a role the user holds changes nothing.
struct GrantPlatformRole {
  std::string user_id;
  PlatformRole role = PlatformRole::kOperator;
};
// Revoking a role the user does not hold changes nothing.
struct RevokePlatformRole {
  std::string user_id;
  PlatformRole role = PlatformRole::kOperator;
};

using PlatformCommand = std::variant<GrantPlatformRole, RevokePlatformRole>;

namespace platform_detail {

inline Status CheckUserId(std::string_view user_id) {
  if (user_id.empty()) return Status::InvalidArgument("a user id is required");
  return CheckToken("a user id", user_id, 200);
}

inline DomainEvent RoleEvent(const char* type, std::string_view user_id, PlatformRole role) {
  return JsonObjectBuilder()
      .Str("user_id", user_id)
      .Str("role", PlatformRoleName(role))
      .Event(type);
}

}  // namespace platform_detail

inline Result<Events> Decide(const PlatformState& s, const PlatformCommand& command,
                             const DecideContext&) {
  return std::visit(
      [&](const auto& c) -> Result<Events> {
        using C = std::decay_t<decltype(c)>;
        STRATO_RETURN_IF_ERROR(platform_detail::CheckUserId(c.user_id));
        const bool holds = s.Holds(c.user_id, c.role);
        if constexpr (std::is_same_v<C, GrantPlatformRole>) {
          if (holds) return Events{};
          return Events{platform_detail::RoleEvent("PlatformRoleGranted", c.user_id, c.role)};
        } else {
          if (!holds) return Events{};
          return Events{platform_detail::RoleEvent("PlatformRoleRevoked", c.user_id, c.role)};
        }
      },
      command);
}

inline Status Evolve(PlatformState& s, const DomainEvent& e) {
  static constexpr std::string_view kTypes[] = {"PlatformRoleGranted", "PlatformRoleRevoked"};
  if (!IsOneOf(e.type, kTypes)) return UnknownEventType("the Platform aggregate", e.type);
  EventFields f(e);
  std::string user = f.Str("user_id"), role_text = f.Str("role");
  STRATO_RETURN_IF_ERROR(f.status());
  auto role = ParsePlatformRole(role_text);
  if (!role.ok()) return Status::Internal("event " + e.type + ": " + role.status().message());
  if (e.type == "PlatformRoleGranted") {
    s.roles[user].insert(*role);
  } else {
    auto it = s.roles.find(user);
    if (it != s.roles.end()) {
      it->second.erase(*role);
      if (it->second.empty()) s.roles.erase(it);
    }
  }
  ++s.version;
  return Status::Ok();
}

}  // namespace strato::domain
