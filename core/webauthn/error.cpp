#include "core/webauthn/error.h"

namespace strato::webauthn {

std::string_view ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kNone:
      return "none";
    case ErrorKind::kMalformed:
      return "malformed";
    case ErrorKind::kWrongType:
      return "wrong_type";
    case ErrorKind::kChallengeMismatch:
      return "challenge_mismatch";
    case ErrorKind::kOriginMismatch:
      return "origin_mismatch";
    case ErrorKind::kCrossOrigin:
      return "cross_origin";
    case ErrorKind::kRpIdMismatch:
      return "rp_id_mismatch";
    case ErrorKind::kFlags:
      return "flags";
    case ErrorKind::kCredentialIdMismatch:
      return "credential_id_mismatch";
    case ErrorKind::kUserHandleMismatch:
      return "user_handle_mismatch";
    case ErrorKind::kUnsupportedAlgorithm:
      return "unsupported_algorithm";
    case ErrorKind::kSignature:
      return "signature";
    case ErrorKind::kUnsupportedFormat:
      return "unsupported_format";
    case ErrorKind::kAttestationInvalid:
      return "attestation_invalid";
    case ErrorKind::kUntrustedChain:
      return "untrusted_chain";
    case ErrorKind::kCounterRegression:
      return "counter_regression";
    case ErrorKind::kInternal:
      return "internal";
  }
  return "unknown";
}

Status WebAuthnStatus::ToStatus() const {
  switch (kind_) {
    case ErrorKind::kNone:
      return Status::Ok();
    case ErrorKind::kMalformed:
    case ErrorKind::kUnsupportedAlgorithm:
    case ErrorKind::kUnsupportedFormat:
      return Status::InvalidArgument(message_);
    case ErrorKind::kCounterRegression:
      return Status::FailedPrecondition(message_);
    case ErrorKind::kUntrustedChain:
      return Status::PermissionDenied(message_);
    case ErrorKind::kInternal:
      return Status::Internal(message_);
    default:
      return Status::Unauthenticated(message_);
  }
}

std::string WebAuthnStatus::ToString() const {
  if (ok()) return "ok";
  std::string out(ErrorKindName(kind_));
  out += ": ";
  out += message_;
  return out;
}

WebAuthnStatus WebAuthnStatus::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string m(context);
  m += ": ";
  m += message_;
  return WebAuthnStatus(kind_, std::move(m));
}

WebAuthnStatus Malformed(const Status& status, std::string_view context) {
  assert(!status.ok());
  std::string m(context);
  m += ": ";
  m += status.message();
  return WebAuthnStatus(ErrorKind::kMalformed, std::move(m));
}

}  // namespace strato::webauthn
