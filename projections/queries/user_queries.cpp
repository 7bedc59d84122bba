#include "projections/queries/user_queries.h"

namespace strato::projections {

namespace {

constexpr const char* kUtc = "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'";

Result<std::optional<UserRow>> FindUserWhere(events::PgConnection& db, const char* sql,
                                             const std::string& value) {
  auto r = db.Exec(sql, {value});
  if (!r.ok()) return r.status().WithContext("reading users");
  if (r->rows() == 0) return std::optional<UserRow>();
  return std::optional<UserRow>(
      UserRow{std::string(r->Get(0, 0)), std::string(r->Get(0, 1)), std::string(r->Get(0, 2))});
}

}  // namespace

Result<std::optional<UserRow>> FindUserById(events::PgConnection& db, const std::string& user_id) {
  return FindUserWhere(db, "SELECT user_id, username, display_name FROM users WHERE user_id = $1",
                       user_id);
}

Result<std::optional<UserRow>> FindUserByUsername(events::PgConnection& db,
                                                  const std::string& username) {
  return FindUserWhere(db, "SELECT user_id, username, display_name FROM users WHERE username = $1",
                       username);
}

Result<std::vector<PasskeyRow>> ListPasskeys(events::PgConnection& db, const std::string& user_id) {
  auto r = db.Exec(std::string("SELECT credential_id, name, algorithm, sign_count, transports, "
                               "backup_eligible, backup_state, aaguid, attestation_format, "
                               "to_char(created_at AT TIME ZONE 'UTC', ") +
                       kUtc + "), to_char(last_used_at AT TIME ZONE 'UTC', " + kUtc +
                       ") FROM passkeys WHERE user_id = $1 ORDER BY created_at, credential_id",
                   {user_id});
  if (!r.ok()) return r.status().WithContext("reading passkeys");
  std::vector<PasskeyRow> out;
  out.reserve(static_cast<size_t>(r->rows()));
  for (int i = 0; i < r->rows(); ++i) {
    PasskeyRow p;
    p.credential_id = std::string(r->Get(i, 0));
    p.name = std::string(r->Get(i, 1));
    p.algorithm = r->GetInt64(i, 2);
    p.sign_count = r->GetInt64(i, 3);
    p.transports = std::string(r->Get(i, 4));
    p.backup_eligible = r->Get(i, 5) == "t";
    p.backup_state = r->Get(i, 6) == "t";
    p.aaguid = std::string(r->Get(i, 7));
    p.attestation_format = std::string(r->Get(i, 8));
    p.created_at = std::string(r->Get(i, 9));
    if (!r->IsNull(i, 10)) p.last_used_at = std::string(r->Get(i, 10));
    out.push_back(std::move(p));
  }
  return out;
}

Result<std::optional<std::string>> FindPasskeyOwner(events::PgConnection& db,
                                                    const std::string& credential_id) {
  auto r = db.Exec("SELECT user_id FROM passkeys WHERE credential_id = $1", {credential_id});
  if (!r.ok()) return r.status().WithContext("finding the owner of a passkey");
  if (r->rows() == 0) return std::optional<std::string>();
  return std::optional<std::string>(std::string(r->Get(0, 0)));
}

}  // namespace strato::projections
