// The WebAuthn relying-party verifier: the two ceremony checks the HTTP layer calls.
// VerifyRegistration turns a browser's attestation response into a credential to store;
// VerifyAssertion checks a sign-in against a stored credential. Both are pure: no clock reads
// (the verification time is a parameter), no I/O, no global state.
//
// Safe to call from any thread at once. All inputs are borrowed for the call; results are owned
// values. Failures are Status values with an ErrorKind (see error.h) and a sentence.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/webauthn/base64url.h"
#include "core/webauthn/error.h"
#include "core/webauthn/relying_party.h"

namespace strato::webauthn {

// --- Registration -------------------------------------------------------------------------

// AuthenticatorAttestationResponse with its binary fields decoded.
struct RegistrationResponse {
  std::vector<uint8_t> raw_id;
  std::string client_data_json;  // the exact bytes the browser sent
  std::vector<uint8_t> attestation_object;
  std::vector<std::string> transports;  // passed through to the stored credential
};

// Decodes the PublicKeyCredential JSON a browser sends after navigator.credentials.create()
// ({"id","rawId","type":"public-key","response":{"clientDataJSON","attestationObject",
// "transports"?}}, binary fields base64url). kMalformed when it does not fit.
Result<RegistrationResponse> ParseRegistrationResponseJson(std::string_view json);

struct RegistrationOptions {
  std::vector<uint8_t> challenge;  // the raw challenge bytes issued for this ceremony
  bool require_user_presence = true;
  bool require_user_verification = false;
  // COSE algorithms the RP accepts for new credentials; empty means every supported one.
  std::vector<int64_t> allowed_algorithms;
  // DER certificates that attestation chains (x5c) must lead to. Empty: chains are not
  // checked and the credential comes back with attestation_trusted = false.
  std::vector<std::vector<uint8_t>> trust_anchors;
  // Refuse attestations that could not be traced to a trust anchor (none, self, or no anchors).
  bool require_trusted_attestation = false;
  // The time at which certificate validity is judged (normally now; tests pin it).
  std::chrono::sys_seconds verification_time{};
};

enum class AttestationType { kNone, kSelf, kBasic, kAttCA, kAnonCA };
std::string_view AttestationTypeName(AttestationType type);  // "none", "self", "basic", ...

// What to store for a newly registered credential.
struct RegisteredCredential {
  std::vector<uint8_t> credential_id;
  std::vector<uint8_t> public_key_cose;  // COSE_Key bytes as the authenticator encoded them
  int64_t algorithm = 0;                 // COSE alg, e.g. -7
  uint32_t sign_count = 0;
  bool user_verified = false;
  bool backup_eligible = false;
  bool backup_state = false;
  std::array<uint8_t, 16> aaguid{};
  std::string attestation_format;  // "none", "packed", "fido-u2f", "tpm", "android-key", "apple"
  AttestationType attestation_type = AttestationType::kNone;
  bool attestation_trusted = false;  // x5c verified to one of options.trust_anchors
  std::vector<std::string> transports;
};

// WebAuthn §7.1 steps 5-26 (without the RP's own bookkeeping: it must still check that the
// credential id is not already registered to another user).
Result<RegisteredCredential> VerifyRegistration(const RelyingParty& rp,
                                                const RegistrationOptions& options,
                                                const RegistrationResponse& response);

// --- Authentication (sign-in) ----------------------------------------------------------------

// AuthenticatorAssertionResponse with its binary fields decoded.
struct AssertionResponse {
  std::vector<uint8_t> raw_id;
  std::string client_data_json;
  std::vector<uint8_t> authenticator_data;
  std::vector<uint8_t> signature;
  std::optional<std::vector<uint8_t>> user_handle;  // absent, null or "" → nullopt
};

// Decodes the PublicKeyCredential JSON a browser sends after navigator.credentials.get().
Result<AssertionResponse> ParseAssertionResponseJson(std::string_view json);

// The credential as the RP stored it at registration.
struct StoredCredential {
  std::vector<uint8_t> credential_id;
  std::vector<uint8_t> public_key_cose;
  uint32_t sign_count = 0;
};

struct AssertionOptions {
  std::vector<uint8_t> challenge;
  bool require_user_presence = true;
  bool require_user_verification = false;
  // Discoverable sign-in: the user handle of the account the credential belongs to. When set,
  // the response must carry exactly this userHandle.
  std::optional<std::vector<uint8_t>> expected_user_handle;
};

struct AssertionResult {
  std::vector<uint8_t> credential_id;
  uint32_t new_sign_count = 0;  // store this
  bool user_verified = false;
  bool backup_eligible = false;
  bool backup_state = false;
  std::optional<std::vector<uint8_t>> user_handle;
};

// WebAuthn §7.2 steps 5-21. A signCount that did not grow (both counters non-zero and
// new <= stored) fails with ErrorKind::kCounterRegression after the signature verified, so the
// caller knows the response is authentic but possibly from a cloned authenticator.
Result<AssertionResult> VerifyAssertion(const RelyingParty& rp, const AssertionOptions& options,
                                        const StoredCredential& credential,
                                        const AssertionResponse& response);

// --- Trust anchors ---------------------------------------------------------------------------

// Reads every certificate in PEM text into DER, for RegistrationOptions::trust_anchors.
// kMalformed when the text holds no certificate or a broken one.
Result<std::vector<std::vector<uint8_t>>> LoadPemCertificates(std::string_view pem);

}  // namespace strato::webauthn
