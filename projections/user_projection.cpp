#include "projections/user_projection.h"

#include "core/clock.h"
#include "core/domain/domain_event.h"

namespace strato::projections {

namespace {

constexpr const char* kRegisterSql =
    "INSERT INTO users (user_id, username, display_name, created_at, updated_at, last_position) "
    "VALUES ($1, $2, $3, $4::timestamptz, $4::timestamptz, $5)";

constexpr const char* kDisplayNameSql =
    "UPDATE users SET display_name = $2, updated_at = $3::timestamptz, last_position = $4 "
    "WHERE user_id = $1";

}  // namespace

Status UserProjection::Plan(const events::RecordedEvent& e,
                            std::vector<events::PgStatement>& out) const {
  if (e.Category() != "user") return Status::Ok();
  domain::DomainEvent de{e.type, e.data};
  domain::EventFields f(de);
  const std::string at = FormatRfc3339(e.recorded_at);
  const std::string pos = std::to_string(e.position);
  if (e.type == "UserRegistered") {
    out.push_back({name_ + "_register",
                   kRegisterSql,
                   {f.Str("user_id"), f.Str("username"), f.Str("display_name"), at, pos}});
  } else if (e.type == "UserDisplayNameChanged") {
    out.push_back({name_ + "_display_name",
                   kDisplayNameSql,
                   {StreamEntityId(e), f.Str("display_name"), at, pos}});
  }
  return f.status();
}

}  // namespace strato::projections
