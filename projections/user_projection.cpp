#include "projections/user_projection.h"

#include <unordered_map>
#include <unordered_set>

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

namespace strato::projections {

namespace {

class UserBulk final : public BulkFold {
 public:
  Status Add(const events::RecordedEvent& e) override {
    if (e.Category() != "user") return Status::Ok();
    domain::DomainEvent de{e.type, e.data};
    domain::EventFields f(de);
    if (e.type == "UserRegistered") {
      std::string id = f.Str("user_id"), username = f.Str("username"),
                  display = f.Str("display_name");
      STRATO_RETURN_IF_ERROR(f.status());
      if (users_.count(id) || !usernames_.insert(username).second) {
        return Status::Conflict("users: a duplicate user at position " +
                                std::to_string(e.position));
      }
      const std::string at = FormatRfc3339(e.recorded_at);
      users_[id] = {username, display, at, at, e.position};
    } else if (e.type == "UserDisplayNameChanged") {
      std::string display = f.Str("display_name");
      STRATO_RETURN_IF_ERROR(f.status());
      auto it = users_.find(StreamEntityId(e));
      if (it != users_.end()) {
        it->second.display_name = display;
        it->second.updated_at = FormatRfc3339(e.recorded_at);
        it->second.last_position = e.position;
      }
    }
    return f.status();
  }
  Status Write(events::PgConnection& tx) override {
    events::PgCopyText rows;
    for (const auto& [id, u] : users_) {
      rows.Add(id)
          .Add(u.username)
          .Add(u.display_name)
          .Add(u.created_at)
          .Add(u.updated_at)
          .Add(u.last_position)
          .EndRow();
    }
    return tx
        .CopyIn(
            "COPY users (user_id, username, display_name, created_at, updated_at, "
            "last_position) FROM STDIN",
            rows.data())
        .WithContext("users");
  }

 private:
  struct User {
    std::string username, display_name, created_at, updated_at;
    int64_t last_position = 0;
  };
  std::unordered_map<std::string, User> users_;
  std::unordered_set<std::string> usernames_;
};

}  // namespace

std::unique_ptr<BulkFold> UserProjection::StartBulk() const {
  return std::make_unique<UserBulk>();
}

}  // namespace strato::projections
