// Reads of the users read model (users, passkeys) as structs, for the sign-in ceremonies, the
// account API and the account page alike. Parameterized statements on the caller's session;
// no state. Safe from any thread with its own session.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "events/pg/pg.h"

namespace strato::projections {

struct UserRow {
  std::string user_id, username, display_name;
};

// The user with that id, or with that username; nullopt when there is none.
Result<std::optional<UserRow>> FindUserById(events::PgConnection& db, const std::string& user_id);
Result<std::optional<UserRow>> FindUserByUsername(events::PgConnection& db,
                                                  const std::string& username);

// One passkey of a user, as the passkeys projection holds it. Times are UTC RFC 3339 text.
struct PasskeyRow {
  std::string credential_id, name;
  int64_t algorithm = 0;  // COSE algorithm number
  int64_t sign_count = 0;
  std::string transports;  // comma-separated, as the authenticator reported them
  bool backup_eligible = false, backup_state = false;
  std::string aaguid, attestation_format;
  std::string created_at;
  std::optional<std::string> last_used_at;  // nullopt when never used
};

// A user's passkeys, oldest first.
Result<std::vector<PasskeyRow>> ListPasskeys(events::PgConnection& db, const std::string& user_id);

// The user id a credential id is registered to; nullopt when it is registered to nobody.
Result<std::optional<std::string>> FindPasskeyOwner(events::PgConnection& db,
                                                    const std::string& credential_id);

}  // namespace strato::projections
