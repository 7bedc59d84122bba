// libFuzzer target for the parsers that read attacker-controlled bytes before any signature is
// checked: authenticatorData (with its COSE key and extensions), a stored COSE key, and
// clientDataJSON. Build and run: see core/webauthn/README.md.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/webauthn/authenticator_data.h"
#include "core/webauthn/client_data.h"
#include "core/webauthn/cose.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strato::webauthn;
  std::span<const uint8_t> in(data, size);
  auto ad = ParseAuthenticatorData(in);
  if (ad.ok() && ad->attested && ad->attested->credential_id.size() > kMaxCredentialIdBytes) {
    __builtin_trap();
  }
  auto key = ParseCoseKey(in);
  (void)key;
  auto cd = ParseClientData(std::string_view(reinterpret_cast<const char*>(data), size));
  (void)cd;
  return 0;
}
