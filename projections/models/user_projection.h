// UserProjection: the users read model, tables users (schema/migrations/0003) and passkeys
// (0004), folded from the user-<id> streams (schema/events.md): UserRegistered adds the user,
// UserDisplayNameChanged changes the display name, PasskeyAdded / PasskeyRemoved add and remove
// a passkey, UserSignedIn moves its signature counter and last use. Usernames are unique by
// reservation in the log, and unique in the table too (lookup by username at sign-in). A batch is
// one pipeline of parameterized statements. Use from one thread at a time (the runner's).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "projections/runner/planned_projection.h"

namespace strato::projections {

class UserProjection final : public PlannedProjection {
 public:
  static constexpr const char* kName = "users";

  UserProjection() : PlannedProjection(kName) {}
  std::vector<std::string> tables() const override { return {"users", "passkeys"}; }
  std::unique_ptr<BulkFold> StartBulk() const override;

 private:
  Status Plan(const events::RecordedEvent& e, std::vector<events::PgStatement>& out) const override;
};

}  // namespace strato::projections
