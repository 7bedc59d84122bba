#include "core/domain/user.h"

#include <type_traits>

namespace strato::domain {
namespace {

constexpr std::string_view kAggregate = "the User aggregate";

std::string Named(const UserState& s) {
  return "user " + s.username;
}

Result<Events> Register(const UserState& s, const RegisterUser& c) {
  if (s.exists) return Status::AlreadyExists(Named(s) + " is already registered");
  if (c.user_id.empty()) return Status::InvalidArgument("a user id is required");
  STRATO_RETURN_IF_ERROR(ValidateUsername(c.username));
  STRATO_RETURN_IF_ERROR(ValidateDisplayName(c.display_name));
  return Events{JsonObjectBuilder()
                    .Str("user_id", c.user_id)
                    .Str("username", c.username)
                    .Str("display_name", c.display_name)
                    .Event("UserRegistered")};
}

Result<Events> ChangeName(const UserState& s, const ChangeDisplayName& c) {
  STRATO_RETURN_IF_ERROR(ValidateDisplayName(c.display_name));
  if (c.display_name == s.display_name) return Events{};
  return Events{
      JsonObjectBuilder().Str("display_name", c.display_name).Event("UserDisplayNameChanged")};
}

}  // namespace

Status ValidateUsername(std::string_view u) {
  if (u.size() < 3 || u.size() > 32) {
    return Status::InvalidArgument("a username must be 3 to 32 characters long; \"" +
                                   std::string(u) + "\" has " + std::to_string(u.size()));
  }
  if (u[0] < 'a' || u[0] > 'z') {
    return Status::InvalidArgument("a username must start with a lowercase letter; \"" +
                                   std::string(u) + "\" does not");
  }
  for (char c : u) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) {
      return Status::InvalidArgument(
          "a username may hold only lowercase letters, digits, '-' and '_'; \"" + std::string(u) +
          "\" does not");
    }
  }
  return Status::Ok();
}

Status ValidateDisplayName(std::string_view display_name) {
  return CheckText("a display name", display_name, 1, 100);
}

std::string UserStreamId(std::string_view user_id) {
  return "user-" + std::string(user_id);
}

std::string UsernameStreamId(std::string_view username) {
  return "username-" + std::string(username);
}

DomainEvent UsernameReservedEvent(std::string_view user_id) {
  return JsonObjectBuilder().Str("user_id", user_id).Event("UsernameReserved");
}

Result<Events> Decide(const UserState& state, const UserCommand& command,
                      const DecideContext& ctx) {
  if (!std::holds_alternative<RegisterUser>(command) && !state.exists) {
    return Status::NotFound("the user does not exist");
  }
  return std::visit(
      [&](const auto& c) -> Result<Events> {
        using C = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<C, RegisterUser>) return Register(state, c);
        if constexpr (std::is_same_v<C, ChangeDisplayName>) return ChangeName(state, c);
      },
      command);
}

Status Evolve(UserState& s, const DomainEvent& e) {
  static constexpr std::string_view kTypes[] = {"UserRegistered", "UserDisplayNameChanged"};
  if (!IsOneOf(e.type, kTypes)) return UnknownEventType(kAggregate, e.type);
  EventFields f(e);
  const bool creation = e.type == "UserRegistered";
  if (creation && s.exists) {
    return Status::Internal("UserRegistered for " + Named(s) + ", who is registered");
  }
  if (!creation && !s.exists) return Status::Internal(e.type + " before UserRegistered");
  if (creation) {
    std::string id = f.Str("user_id"), username = f.Str("username"),
                display = f.Str("display_name");
    STRATO_RETURN_IF_ERROR(f.status());
    s.exists = true;
    s.id = std::move(id);
    s.username = std::move(username);
    s.display_name = std::move(display);
  } else {
    std::string display = f.Str("display_name");
    STRATO_RETURN_IF_ERROR(f.status());
    s.display_name = std::move(display);
  }
  ++s.version;
  return Status::Ok();
}

}  // namespace strato::domain
