// authenticatorData (WebAuthn §6.1): rpIdHash, flags, signCount, and when present the attested
// credential data (AAGUID, credential id, COSE public key) and the extensions map.
//
// A parsed AuthenticatorData is a plain owned value; parsing is stateless and thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/webauthn/cose.h"
#include "core/webauthn/error.h"

namespace strato::webauthn {

inline constexpr uint8_t kFlagUserPresent = 0x01;         // UP
inline constexpr uint8_t kFlagUserVerified = 0x04;        // UV
inline constexpr uint8_t kFlagBackupEligible = 0x08;      // BE
inline constexpr uint8_t kFlagBackupState = 0x10;         // BS
inline constexpr uint8_t kFlagAttestedCredential = 0x40;  // AT
inline constexpr uint8_t kFlagExtensions = 0x80;          // ED

// Credential ids longer than this are refused (WebAuthn §5.8.3 caps them at 1023 bytes).
inline constexpr size_t kMaxCredentialIdBytes = 1023;

struct AttestedCredentialData {
  std::array<uint8_t, 16> aaguid{};
  std::vector<uint8_t> credential_id;
  std::vector<uint8_t> public_key_cose;  // the COSE_Key exactly as encoded in authenticatorData
  CoseKey public_key;
};

struct AuthenticatorData {
  std::array<uint8_t, 32> rp_id_hash{};
  uint8_t flags = 0;
  uint32_t sign_count = 0;
  std::optional<AttestedCredentialData> attested;
  std::vector<uint8_t> extensions_cbor;  // the raw extensions map when ED is set

  bool user_present() const { return (flags & kFlagUserPresent) != 0; }
  bool user_verified() const { return (flags & kFlagUserVerified) != 0; }
  bool backup_eligible() const { return (flags & kFlagBackupEligible) != 0; }
  bool backup_state() const { return (flags & kFlagBackupState) != 0; }
};

// Parses authenticatorData. The AT and ED flags must match what follows the fixed 37 bytes
// exactly: no missing and no trailing bytes. The COSE key is parsed (kUnsupportedAlgorithm for
// unknown algorithms); everything else wrong is kMalformed with the byte offset.
Result<AuthenticatorData> ParseAuthenticatorData(std::span<const uint8_t> data);

}  // namespace strato::webauthn
