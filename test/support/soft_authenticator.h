// SoftAuthenticator: a software WebAuthn authenticator for HTTP tests of the ceremonies — it
// makes a real ES256 key pair (OpenSSL), answers registration with a "none" attestation and
// sign-in with a real signature, and can be told to misbehave (another origin or RP id, a
// counter that goes backwards, an unknown algorithm) so the server's refusals can be tested
// without a browser. The browser test (test/browser) covers Chromium's own authenticator.
//
// One object per test thread; it owns its key.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace strato::test {

struct CeremonyTweaks {
  std::string origin;     // empty: the authenticator's origin
  std::string rp_id;      // empty: the authenticator's RP id
  std::string type;       // empty: webauthn.create / webauthn.get
  int64_t cose_alg = -7;  // what the COSE key claims (registration)
  bool user_present = true;
  bool user_verified = true;  // the UV flag (a PIN or biometric was checked)
  std::string challenge;      // empty: the one from the options
};

class SoftAuthenticator {
 public:
  SoftAuthenticator(std::string rp_id, std::string origin);
  ~SoftAuthenticator();

  // The credential JSON (WebAuthn's JSON form, base64url fields) answering creation options
  // whose challenge and user.id are given in base64url.
  std::string Register(const std::string& challenge_b64, const std::string& user_handle_b64,
                       const CeremonyTweaks& tweaks = {});
  // The credential JSON answering request options; the counter goes up by one first unless
  // `counter` is given. With `discoverable`, the response carries the user handle.
  std::string SignIn(const std::string& challenge_b64, bool discoverable,
                     const CeremonyTweaks& tweaks = {}, int64_t counter = -1);

  const std::string& credential_id() const { return credential_id_b64_; }
  uint32_t counter() const { return counter_; }

 private:
  struct Key;
  std::unique_ptr<Key> key_;
  std::string rp_id_, origin_;
  std::string credential_id_;  // raw
  std::string credential_id_b64_;
  std::string user_handle_;  // raw
  uint32_t counter_ = 0;
};

std::string B64Url(const std::string& raw);
std::string FromB64Url(const std::string& text);

}  // namespace strato::test
