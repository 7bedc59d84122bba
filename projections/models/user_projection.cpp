#include "projections/models/user_projection.h"

#include <unordered_map>
#include <unordered_set>

#include "core/clock.h"
#include "core/domain/domain_event.h"

namespace strato::projections {

namespace {

constexpr const char* kRegisterSql =
    "INSERT INTO users (user_id, username, display_name, created_at, updated_at, last_position) "
    "VALUES ($1, $2, $3, $4::timestamptz, $4::timestamptz, $5)";

constexpr const char* kPasskeyAddedSql =
    "INSERT INTO passkeys (credential_id, user_id, name, public_key, algorithm, sign_count, "
    "transports, backup_eligible, backup_state, aaguid, attestation_format, created_at, "
    "last_position) VALUES ($1, $2, $3, $4, $5::bigint, $6::bigint, $7, $8::boolean, $9::boolean, "
    "$10, $11, $12::timestamptz, $13::bigint)";

constexpr const char* kPasskeyRemovedSql =
    "DELETE FROM passkeys WHERE credential_id = $1 AND user_id = $2";

constexpr const char* kSignedInSql =
    "UPDATE passkeys SET sign_count = $3::bigint, backup_state = $4::boolean, "
    "last_used_at = $5::timestamptz, last_position = $6::bigint "
    "WHERE credential_id = $1 AND user_id = $2";

const char* Bool(bool b) {
  return b ? "true" : "false";
}

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
  } else if (e.type == "PasskeyAdded") {
    out.push_back(
        {name_ + "_passkey_added",
         kPasskeyAddedSql,
         {f.Str("credential_id"), StreamEntityId(e), f.Str("name"), f.Str("public_key"),
          std::to_string(f.Int("algorithm")), std::to_string(f.Int("sign_count")),
          f.Str("transports"), Bool(f.Bool("backup_eligible")), Bool(f.Bool("backup_state")),
          f.Str("aaguid"), f.Str("attestation_format"), at, pos}});
  } else if (e.type == "PasskeyRemoved") {
    out.push_back({name_ + "_passkey_removed",
                   kPasskeyRemovedSql,
                   {f.Str("credential_id"), StreamEntityId(e)}});
  } else if (e.type == "UserSignedIn") {
    out.push_back({name_ + "_signed_in",
                   kSignedInSql,
                   {f.Str("credential_id"), StreamEntityId(e), std::to_string(f.Int("sign_count")),
                    Bool(f.Bool("backup_state")), at, pos}});
  }
  return f.status();
}

}  // namespace strato::projections

namespace strato::projections {

namespace {

class UserBulk final : public BulkFold {
 public:
  Status Add(const FoldEvent& fe) override {
    const events::RecordedEvent& e = fe.event;
    if (e.Category() != "user") return Status::Ok();
    domain::EventFields f(e.type, fe.data);
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
    } else if (e.type == "PasskeyAdded") {
      Passkey p;
      p.user_id = StreamEntityId(e);
      p.name = f.Str("name");
      p.public_key = f.Str("public_key");
      p.algorithm = f.Int("algorithm");
      p.sign_count = f.Int("sign_count");
      p.transports = f.Str("transports");
      p.backup_eligible = f.Bool("backup_eligible");
      p.backup_state = f.Bool("backup_state");
      p.aaguid = f.Str("aaguid");
      p.attestation_format = f.Str("attestation_format");
      p.created_at = FormatRfc3339(e.recorded_at);
      p.last_position = e.position;
      std::string id = f.Str("credential_id");
      STRATO_RETURN_IF_ERROR(f.status());
      if (!passkeys_.emplace(id, std::move(p)).second) {
        return Status::Conflict("passkeys: a duplicate credential at position " +
                                std::to_string(e.position));
      }
    } else if (e.type == "PasskeyRemoved") {
      std::string id = f.Str("credential_id");
      STRATO_RETURN_IF_ERROR(f.status());
      auto it = passkeys_.find(id);
      if (it != passkeys_.end() && it->second.user_id == StreamEntityId(e)) passkeys_.erase(it);
    } else if (e.type == "UserSignedIn") {
      std::string id = f.Str("credential_id");
      int64_t count = f.Int("sign_count");
      bool backup_state = f.Bool("backup_state");
      STRATO_RETURN_IF_ERROR(f.status());
      auto it = passkeys_.find(id);
      if (it != passkeys_.end() && it->second.user_id == StreamEntityId(e)) {
        it->second.sign_count = count;
        it->second.backup_state = backup_state;
        it->second.last_used_at = FormatRfc3339(e.recorded_at);
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
    STRATO_RETURN_IF_ERROR(tx.CopyIn("COPY users (user_id, username, display_name, created_at, "
                                     "updated_at, last_position) FROM STDIN",
                                     rows.data())
                               .WithContext("users"));
    events::PgCopyText keys;
    for (const auto& [id, p] : passkeys_) {
      keys.Add(id)
          .Add(p.user_id)
          .Add(p.name)
          .Add(p.public_key)
          .Add(p.algorithm)
          .Add(p.sign_count)
          .Add(p.transports)
          .AddBool(p.backup_eligible)
          .AddBool(p.backup_state)
          .Add(p.aaguid)
          .Add(p.attestation_format)
          .Add(p.created_at);
      if (p.last_used_at.empty()) {
        keys.AddNull();
      } else {
        keys.Add(p.last_used_at);
      }
      keys.Add(p.last_position).EndRow();
    }
    return tx
        .CopyIn(
            "COPY passkeys (credential_id, user_id, name, public_key, algorithm, sign_count, "
            "transports, backup_eligible, backup_state, aaguid, attestation_format, created_at, "
            "last_used_at, last_position) FROM STDIN",
            keys.data())
        .WithContext("passkeys");
  }

 private:
  struct User {
    std::string username, display_name, created_at, updated_at;
    int64_t last_position = 0;
  };
  struct Passkey {
    std::string user_id, name, public_key, transports, aaguid, attestation_format, created_at,
        last_used_at;
    int64_t algorithm = 0, sign_count = 0, last_position = 0;
    bool backup_eligible = false, backup_state = false;
  };
  std::unordered_map<std::string, User> users_;
  std::unordered_map<std::string, Passkey> passkeys_;
  std::unordered_set<std::string> usernames_;
};

}  // namespace

std::unique_ptr<BulkFold> UserProjection::StartBulk() const {
  return std::make_unique<UserBulk>();
}

}  // namespace strato::projections
