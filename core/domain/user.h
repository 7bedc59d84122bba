// The User aggregate: a person who signs in (passkeys arrive with the identity work). Decide and
// Evolve are pure functions over plain values (no I/O, thread-safe). Stream: user-<user_id>.
//
// Usernames are unique by reservation, not by hope: registering also appends UsernameReserved
// ({"user_id": ...}) to the stream UsernameStreamId(username) with expected version "no stream"
// in the same append, so a second registration of the name conflicts. The pipeline does that
// append; UsernameReservedEvent builds the event.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "core/domain/domain_event.h"
#include "core/status.h"

namespace strato::domain {

struct UserState {
  int64_t version = 0;  // events folded
  bool exists = false;
  std::string id;
  std::string username;
  std::string display_name;
};

struct RegisterUser {
  std::string user_id;
  std::string username;      // 3-32 of a-z 0-9 '-' '_', starting with a letter
  std::string display_name;  // 1-100 characters
};
struct ChangeDisplayName {
  std::string display_name;
};

using UserCommand = std::variant<RegisterUser, ChangeDisplayName>;

Result<Events> Decide(const UserState& state, const UserCommand& command, const DecideContext& ctx);
Status Evolve(UserState& state, const DomainEvent& event);

Status ValidateUsername(std::string_view username);
Status ValidateDisplayName(std::string_view display_name);

std::string UserStreamId(std::string_view user_id);       // "user-<user_id>"
std::string UsernameStreamId(std::string_view username);  // "username-<username>"
// The reservation event for UsernameStreamId(username): {"user_id": ...}.
DomainEvent UsernameReservedEvent(std::string_view user_id);

}  // namespace strato::domain
