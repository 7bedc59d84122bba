#include "core/domain/user.h"

#include <sodium.h>

#include <type_traits>

namespace strato::domain {
namespace {

constexpr std::string_view kAggregate = "the User aggregate";

std::string Named(const UserState& s) {
  return "user " + s.username;
}

DomainEvent PasskeyAddedEvent(const Passkey& p) {
  return JsonObjectBuilder()
      .Str("credential_id", p.credential_id)
      .Str("public_key", p.public_key)
      .Int("algorithm", p.algorithm)
      .Int("sign_count", p.sign_count)
      .Str("transports", p.transports)
      .Bool("backup_eligible", p.backup_eligible)
      .Bool("backup_state", p.backup_state)
      .Str("aaguid", p.aaguid)
      .Str("attestation_format", p.attestation_format)
      .Str("name", p.name)
      .Event("PasskeyAdded");
}

// The passkey as it will be stored: validated, and named "Passkey <n>" when it has no name.
Result<Passkey> Labelled(const UserState& s, Passkey p) {
  if (p.name.empty()) p.name = "Passkey " + std::to_string(s.passkeys.size() + 1);
  STRATO_RETURN_IF_ERROR(ValidatePasskey(p));
  return p;
}

Result<Events> Register(const UserState& s, const RegisterUser& c) {
  if (s.exists) return Status::AlreadyExists(Named(s) + " is already registered");
  if (c.user_id.empty()) return Status::InvalidArgument("a user id is required");
  STRATO_RETURN_IF_ERROR(ValidateUsername(c.username));
  STRATO_RETURN_IF_ERROR(ValidateDisplayName(c.display_name));
  Events out{JsonObjectBuilder()
                 .Str("user_id", c.user_id)
                 .Str("username", c.username)
                 .Str("display_name", c.display_name)
                 .Event("UserRegistered")};
  if (c.passkey) {
    auto p = Labelled(UserState{}, *c.passkey);
    if (!p.ok()) return p.status();
    out.push_back(PasskeyAddedEvent(*p));
  }
  return out;
}

Result<Events> Add(const UserState& s, const AddPasskey& c) {
  if (s.FindPasskey(c.passkey.credential_id) != nullptr) {
    return Status::AlreadyExists("this passkey is already registered to " + Named(s));
  }
  if (s.passkeys.size() >= kMaxPasskeysPerUser) {
    return Status::FailedPrecondition(Named(s) + " has " + std::to_string(kMaxPasskeysPerUser) +
                                      " passkeys, the most allowed; remove one first");
  }
  auto p = Labelled(s, c.passkey);
  if (!p.ok()) return p.status();
  return Events{PasskeyAddedEvent(*p)};
}

Result<Events> Remove(const UserState& s, const RemovePasskey& c) {
  const Passkey* p = s.FindPasskey(c.credential_id);
  if (p == nullptr) return Status::NotFound(Named(s) + " has no such passkey");
  if (s.passkeys.size() == 1) {
    return Status::FailedPrecondition("\"" + p->name + "\" is the last passkey of " + Named(s) +
                                      "; add another before removing it");
  }
  return Events{JsonObjectBuilder().Str("credential_id", c.credential_id).Event("PasskeyRemoved")};
}

Result<Events> SignIn(const UserState& s, const RecordSignIn& c) {
  const Passkey* p = s.FindPasskey(c.credential_id);
  if (p == nullptr) return Status::NotFound(Named(s) + " has no such passkey");
  if (c.sign_count < 0 || c.sign_count > 0xFFFFFFFFLL) {
    return Status::InvalidArgument("a signature counter is a 32-bit unsigned number");
  }
  if ((c.sign_count != 0 || p->sign_count != 0) && c.sign_count <= p->sign_count) {
    return Status::FailedPrecondition(
        "the signature counter of passkey \"" + p->name + "\" went from " +
        std::to_string(p->sign_count) + " to " + std::to_string(c.sign_count) +
        "; it should only increase, so the passkey may have been cloned");
  }
  return Events{JsonObjectBuilder()
                    .Str("credential_id", c.credential_id)
                    .Int("sign_count", c.sign_count)
                    .Bool("user_verified", c.user_verified)
                    .Bool("backup_state", c.backup_state)
                    .Event("UserSignedIn")};
}

Result<Events> SignInFailed(const UserState& s, const RecordSignInFailure& c) {
  STRATO_RETURN_IF_ERROR(CheckText("a failure reason", c.reason, 1, 300));
  return Events{JsonObjectBuilder()
                    .Str("credential_id", c.credential_id)
                    .Str("reason", c.reason)
                    .Event("UserSignInFailed")};
}

bool IsBase64Url(std::string_view v) {
  for (char c : v) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
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

Status ValidatePasskey(const Passkey& p) {
  // 16 to 1023 bytes decoded: 22 to 1364 base64url characters.
  if (p.credential_id.size() < 22 || p.credential_id.size() > 1364 ||
      !IsBase64Url(p.credential_id)) {
    return Status::InvalidArgument(
        "a passkey's credential id must be 16 to 1023 bytes in base64url without padding");
  }
  if (p.public_key.empty() || p.public_key.size() > 2800 || !IsBase64Url(p.public_key)) {
    return Status::InvalidArgument(
        "a passkey's public key must be a COSE key in base64url without padding");
  }
  if (p.algorithm != -7 && p.algorithm != -8 && p.algorithm != -257) {
    return Status::InvalidArgument(
        "a passkey's algorithm must be ES256 (-7), EdDSA (-8) or RS256 "
        "(-257); got " +
        std::to_string(p.algorithm));
  }
  if (p.sign_count < 0 || p.sign_count > 0xFFFFFFFFLL) {
    return Status::InvalidArgument("a signature counter is a 32-bit unsigned number");
  }
  if (p.transports.size() > 200 || HasControlCharacter(p.transports)) {
    return Status::InvalidArgument("a passkey's transports must be a short list of names");
  }
  if (p.aaguid.size() > 36 || HasControlCharacter(p.aaguid)) {
    return Status::InvalidArgument("a passkey's AAGUID must be a UUID");
  }
  STRATO_RETURN_IF_ERROR(CheckToken("a passkey's attestation format", p.attestation_format, 32));
  return CheckText("a passkey's name", p.name, 1, 64);
}

const Passkey* UserState::FindPasskey(std::string_view credential_id) const {
  for (const Passkey& p : passkeys) {
    if (p.credential_id == credential_id) return &p;
  }
  return nullptr;
}

std::string PasskeyStreamId(std::string_view credential_id) {
  unsigned char hash[16];
  crypto_generichash(hash, sizeof hash,
                     reinterpret_cast<const unsigned char*>(credential_id.data()),
                     credential_id.size(), nullptr, 0);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "passkey-";
  for (unsigned char b : hash) {
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
  return out;
}

DomainEvent PasskeyReservedEvent(std::string_view user_id) {
  return JsonObjectBuilder().Str("user_id", user_id).Event("PasskeyReserved");
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
        if constexpr (std::is_same_v<C, AddPasskey>) return Add(state, c);
        if constexpr (std::is_same_v<C, RemovePasskey>) return Remove(state, c);
        if constexpr (std::is_same_v<C, RecordSignIn>) return SignIn(state, c);
        if constexpr (std::is_same_v<C, RecordSignInFailure>) return SignInFailed(state, c);
      },
      command);
}

Status Evolve(UserState& s, const DomainEvent& e) {
  static constexpr std::string_view kTypes[] = {"UserRegistered", "UserDisplayNameChanged",
                                                "PasskeyAdded",   "PasskeyRemoved",
                                                "UserSignedIn",   "UserSignInFailed"};
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
  } else if (e.type == "UserDisplayNameChanged") {
    std::string display = f.Str("display_name");
    STRATO_RETURN_IF_ERROR(f.status());
    s.display_name = std::move(display);
  } else if (e.type == "PasskeyAdded") {
    Passkey p;
    p.credential_id = f.Str("credential_id");
    p.public_key = f.Str("public_key");
    p.algorithm = f.Int("algorithm");
    p.sign_count = f.Int("sign_count");
    p.transports = f.Str("transports");
    p.backup_eligible = f.Bool("backup_eligible");
    p.backup_state = f.Bool("backup_state");
    p.aaguid = f.Str("aaguid");
    p.attestation_format = f.Str("attestation_format");
    p.name = f.Str("name");
    STRATO_RETURN_IF_ERROR(f.status());
    s.passkeys.push_back(std::move(p));
  } else if (e.type == "PasskeyRemoved") {
    std::string id = f.Str("credential_id");
    STRATO_RETURN_IF_ERROR(f.status());
    std::erase_if(s.passkeys, [&](const Passkey& p) { return p.credential_id == id; });
  } else if (e.type == "UserSignedIn") {
    std::string id = f.Str("credential_id");
    int64_t count = f.Int("sign_count");
    bool backup_state = f.Bool("backup_state");
    STRATO_RETURN_IF_ERROR(f.status());
    for (Passkey& p : s.passkeys) {
      if (p.credential_id != id) continue;
      p.sign_count = count;
      p.backup_state = backup_state;
    }
    ++s.sign_ins;
  }
  ++s.version;
  return Status::Ok();
}

}  // namespace strato::domain
