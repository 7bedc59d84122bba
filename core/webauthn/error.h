// Why a WebAuthn verification step failed: an ErrorKind the HTTP layer can branch on, carried by
// an ordinary strato::Status (its reason) beside a sentence for people and logs.
//
// Messages name what was wrong and never contain key material, signatures or session secrets
// (credential ids may appear).
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/status.h"

namespace strato::webauthn {

// Why a ceremony was refused. The values are stable: endpoints map them to responses and audit
// events, so never renumber or reuse one.
enum class ErrorKind {
  kNone = 0,
  kMalformed = 1,              // undecodable base64url, JSON, CBOR or structure
  kWrongType = 2,              // clientDataJSON.type is not the ceremony's type
  kChallengeMismatch = 3,      // clientDataJSON.challenge is not the challenge issued
  kOriginMismatch = 4,         // clientDataJSON.origin is not an allowed origin
  kCrossOrigin = 5,            // crossOrigin / topOrigin present but not allowed
  kRpIdMismatch = 6,           // authenticatorData.rpIdHash is not SHA-256(rp id)
  kFlags = 7,                  // UP / UV missing when required, or BS without BE
  kCredentialIdMismatch = 8,   // rawId differs from the attested or stored credential id
  kUserHandleMismatch = 9,     // userHandle differs from the one expected
  kUnsupportedAlgorithm = 10,  // COSE kty/alg/crv unknown or not allowed by the RP
  kSignature = 11,             // the assertion signature does not verify
  kUnsupportedFormat = 12,     // attestation statement format not implemented
  kAttestationInvalid = 13,    // the attestation statement does not verify
  kUntrustedChain = 14,        // attestation chain does not lead to a trust anchor
  kCounterRegression = 15,     // signCount did not grow: possibly a cloned authenticator
  kInternal = 16,              // a library (OpenSSL) failed in a way input cannot explain
};

// "challenge_mismatch", ... — stable names for logs, metrics and tests.
std::string_view ErrorKindName(ErrorKind kind);

// A refused ceremony step is a strato::Status like any other failure, with the ErrorKind's
// name as its reason ("challenge_mismatch") and a code the HTTP layer can use as it is:
// malformed/unsupported → invalid_argument, counter regression → failed_precondition, untrusted
// chain → permission_denied, internal → internal, every other kind → unauthenticated.
Status WebAuthnError(ErrorKind kind, std::string message);

// The kind a Status carries: kNone when OK; for a Status that did not come from WebAuthnError,
// kMalformed when its code is invalid_argument and kInternal otherwise.
ErrorKind KindOf(const Status& status);
template <typename T>
ErrorKind KindOf(const Result<T>& result) {
  return result.ok() ? ErrorKind::kNone : KindOf(result.status());
}

// Turns a lower-level Status (from base64url or CBOR decoding) into a kMalformed failure.
Status Malformed(const Status& status, std::string_view context);

}  // namespace strato::webauthn
