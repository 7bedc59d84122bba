// Internal: attestation statement verification (WebAuthn §8) for the formats none, packed,
// fido-u2f, tpm, android-key and apple. Trust (chain to an anchor) is decided by the caller,
// VerifyRegistration, from the returned certificate chain.
//
// Stateless and thread-safe. The input borrows the caller's data for the call; the outcome owns
// its certificates.
#pragma once

#include <array>
#include <span>
#include <string_view>
#include <vector>

#include "core/webauthn/authenticator_data.h"
#include "core/webauthn/cbor.h"
#include "core/webauthn/crypto.h"
#include "core/webauthn/webauthn.h"

namespace strato::webauthn::internal {

struct AttestationInput {
  std::string_view fmt;
  const CborValue& statement;  // attStmt map
  std::span<const uint8_t> auth_data_bytes;
  const AuthenticatorData& auth_data;  // with attested credential data present
  std::array<uint8_t, 32> client_data_hash{};
};

struct AttestationOutcome {
  AttestationType type = AttestationType::kNone;
  std::vector<X509Ptr> chain;  // x5c, leaf first; empty for none and self attestation
};

Result<AttestationOutcome> VerifyAttestationStatement(const AttestationInput& in);

}  // namespace strato::webauthn::internal
