// Internal bridge from CoseKey to OpenSSL: builds an EVP_PKEY so attestation checks can compare
// a certificate's key with the credential key. Stateless; the returned handle is owned by the
// caller.
#pragma once

#include "core/webauthn/cose.h"
#include "core/webauthn/crypto.h"

namespace strato::webauthn::internal {

Result<EvpPkeyPtr> CoseKeyToEvp(const CoseKey& key);

}  // namespace strato::webauthn::internal
