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

Status WebAuthnError(ErrorKind kind, std::string message) {
  assert(kind != ErrorKind::kNone && "an error needs a kind");
  Code code = Code::kUnauthenticated;
  switch (kind) {
    case ErrorKind::kMalformed:
    case ErrorKind::kUnsupportedAlgorithm:
    case ErrorKind::kUnsupportedFormat:
      code = Code::kInvalidArgument;
      break;
    case ErrorKind::kCounterRegression:
      code = Code::kFailedPrecondition;
      break;
    case ErrorKind::kUntrustedChain:
      code = Code::kPermissionDenied;
      break;
    case ErrorKind::kInternal:
      code = Code::kInternal;
      break;
    default:
      break;
  }
  return Status(code, std::move(message)).WithReason(std::string(ErrorKindName(kind)));
}

ErrorKind KindOf(const Status& status) {
  if (status.ok()) return ErrorKind::kNone;
  for (int k = static_cast<int>(ErrorKind::kMalformed); k <= static_cast<int>(ErrorKind::kInternal);
       ++k) {
    if (status.reason() == ErrorKindName(static_cast<ErrorKind>(k))) {
      return static_cast<ErrorKind>(k);
    }
  }
  return status.code() == Code::kInvalidArgument ? ErrorKind::kMalformed : ErrorKind::kInternal;
}

Status Malformed(const Status& status, std::string_view context) {
  assert(!status.ok());
  std::string m(context);
  m += ": ";
  m += status.message();
  return WebAuthnError(ErrorKind::kMalformed, std::move(m));
}

}  // namespace strato::webauthn
