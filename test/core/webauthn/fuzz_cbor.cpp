// libFuzzer target for the strict CBOR decoder (and base64url, which shares the build).
// Besides "no crash, no leak, no overflow" under ASan, it checks invariants: prefix decoding
// never claims more bytes than it was given, whole-input decoding succeeds exactly when the
// prefix decoder used every byte, and base64url round-trips any input.
// Build and run: see core/webauthn/README.md.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "core/webauthn/base64url.h"
#include "core/webauthn/cbor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strato::webauthn;
  std::span<const uint8_t> in(data, size);

  size_t used = 0;
  auto prefix = DecodeCborPrefix(in, &used);
  auto whole = DecodeCbor(in);
  if (prefix.ok() && used > size) std::abort();
  if (whole.ok() != (prefix.ok() && used == size)) std::abort();
  if (!whole.ok() && whole.status().message().empty()) std::abort();

  std::string text = Base64UrlEncode(in);
  auto back = Base64UrlDecode(text);
  if (!back.ok() || back.value().size() != size ||
      !std::equal(back.value().begin(), back.value().end(), data)) {
    std::abort();
  }
  // Arbitrary bytes as base64url text must never crash the decoder either.
  auto decoded = Base64UrlDecode(std::string_view(reinterpret_cast<const char*>(data), size));
  (void)decoded;
  return 0;
}
