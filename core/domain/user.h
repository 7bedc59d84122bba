// The User aggregate: a person who signs in with passkeys (WebAuthn credentials). Decide and
// Evolve are pure functions over plain values (no I/O, thread-safe). Stream: user-<user_id>.
// The cryptography (attestation and assertion checks) happens before a command is made
// (core/webauthn); the aggregate keeps what was verified: each passkey's public key and
// signature counter, and refuses a sign-in whose counter does not move forward.
//
// Usernames are unique by reservation, not by hope: registering also appends UsernameReserved
// ({"user_id": ...}) to the stream UsernameStreamId(username) with expected version "no stream"
// in the same append, so a second registration of the name conflicts. The pipeline does that
// append; UsernameReservedEvent builds the event.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/domain/domain_event.h"
#include "core/status.h"

namespace strato::domain {

// A verified WebAuthn credential as the user's stream keeps it. Binary fields are base64url
// text (no padding), as they travel in WebAuthn's JSON.
struct Passkey {
  std::string credential_id;  // base64url, 16-1023 bytes decoded
  std::string public_key;     // base64url of the COSE_Key
  int64_t algorithm = 0;      // COSE algorithm: -7 ES256, -8 EdDSA, -257 RS256
  int64_t sign_count = 0;     // the authenticator's signature counter last seen
  std::string transports;     // comma-separated ("internal,hybrid"), as the browser said
  bool backup_eligible = false;
  bool backup_state = false;
  std::string aaguid;              // the authenticator model, as a UUID text
  std::string attestation_format;  // "none", "packed", "fido-u2f", ...
  std::string name;                // a label the user sees ("Passkey 1")

  friend bool operator==(const Passkey&, const Passkey&) = default;
};

inline constexpr size_t kMaxPasskeysPerUser = 20;

struct UserState {
  int64_t version = 0;  // events folded
  bool exists = false;
  std::string id;
  std::string username;
  std::string display_name;
  std::vector<Passkey> passkeys;
  int64_t sign_ins = 0;

  const Passkey* FindPasskey(std::string_view credential_id) const;
};

// Registers a user, with their first passkey when `passkey` is set (one append: a person who
// registered always has a way to sign in).
struct RegisterUser {
  std::string user_id;
  std::string username;      // 3-32 of a-z 0-9 '-' '_', starting with a letter
  std::string display_name;  // 1-100 characters
  std::optional<Passkey> passkey;
};
struct ChangeDisplayName {
  std::string display_name;
};
struct AddPasskey {
  Passkey passkey;
};
// The last passkey cannot be removed: the user could never sign in again.
struct RemovePasskey {
  std::string credential_id;
};
// A verified assertion. The counter must move forward unless the authenticator does not count
// (both zero).
struct RecordSignIn {
  std::string credential_id;
  int64_t sign_count = 0;
  bool user_verified = false;
  bool backup_state = false;
};
// A sign-in that failed verification, for the audit trail. `reason` is a short sentence with
// no secrets in it.
struct RecordSignInFailure {
  std::string credential_id;
  std::string reason;
};

using UserCommand = std::variant<RegisterUser, ChangeDisplayName, AddPasskey, RemovePasskey,
                                 RecordSignIn, RecordSignInFailure>;

Result<Events> Decide(const UserState& state, const UserCommand& command, const DecideContext& ctx);
Status Evolve(UserState& state, const DomainEvent& event);

Status ValidateUsername(std::string_view username);
Status ValidateDisplayName(std::string_view display_name);
Status ValidatePasskey(const Passkey& passkey);

std::string UserStreamId(std::string_view user_id);       // "user-<user_id>"
std::string UsernameStreamId(std::string_view username);  // "username-<username>"
// The reservation event for UsernameStreamId(username): {"user_id": ...}.
DomainEvent UsernameReservedEvent(std::string_view user_id);
// "passkey-<BLAKE2b-128 hex of the credential id>": the reservation stream of a credential.
std::string PasskeyStreamId(std::string_view credential_id);
// The reservation event for PasskeyStreamId(id): {"user_id": ...}.
DomainEvent PasskeyReservedEvent(std::string_view user_id);

}  // namespace strato::domain
