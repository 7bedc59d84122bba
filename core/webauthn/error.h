// WebAuthnStatus and WebAuthnResult<T>: the outcome of a verification step, carrying an
// ErrorKind the HTTP layer can branch on plus a sentence for people and logs.
//
// Plain values: copyable, movable, safe to hand between threads. Messages name what was wrong
// and never contain key material, signatures or session secrets (credential ids may appear).
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

class [[nodiscard]] WebAuthnStatus {
 public:
  WebAuthnStatus() = default;
  WebAuthnStatus(ErrorKind kind, std::string message) : kind_(kind), message_(std::move(message)) {
    assert(kind != ErrorKind::kNone && "an error status needs a kind");
  }
  static WebAuthnStatus Ok() { return WebAuthnStatus(); }

  bool ok() const { return kind_ == ErrorKind::kNone; }
  ErrorKind kind() const { return kind_; }
  const std::string& message() const { return message_; }

  // The same failure as a strato::Status (malformed/unsupported → invalid_argument, counter
  // regression → failed_precondition, untrusted chain → permission_denied, others →
  // unauthenticated), for code paths that only carry Status.
  Status ToStatus() const;

  // "malformed: clientDataJSON is not valid JSON ..." for logs.
  std::string ToString() const;

  // A copy whose message is prefixed with context: "attestationObject: <message>".
  WebAuthnStatus WithContext(std::string_view context) const;

 private:
  ErrorKind kind_ = ErrorKind::kNone;
  std::string message_;
};

// Turns a lower-level Status (from base64url or CBOR decoding) into a kMalformed failure.
WebAuthnStatus Malformed(const Status& status, std::string_view context);

template <typename T>
class [[nodiscard]] WebAuthnResult {
 public:
  WebAuthnResult(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  WebAuthnResult(WebAuthnStatus status)                  // NOLINT: implicit by design
      : status_(std::move(status)) {
    assert(!status_.ok() && "a WebAuthnResult built from a status must carry an error");
  }

  bool ok() const { return value_.has_value(); }
  const WebAuthnStatus& status() const { return status_; }
  ErrorKind kind() const { return status_.kind(); }

  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::optional<T> value_;
  WebAuthnStatus status_;
};

}  // namespace strato::webauthn

#define STRATO_WEBAUTHN_RETURN_IF_ERROR(expr)               \
  do {                                                      \
    ::strato::webauthn::WebAuthnStatus wa_status_ = (expr); \
    if (!wa_status_.ok()) return wa_status_;                \
  } while (0)
