#include "core/webauthn/authenticator_data.h"

#include <string>

#include "core/webauthn/cbor.h"

namespace strato::webauthn {
namespace {

Status Bad(std::string m) {
  return WebAuthnError(ErrorKind::kMalformed, "authenticatorData " + std::move(m));
}

}  // namespace

Result<AuthenticatorData> ParseAuthenticatorData(std::span<const uint8_t> data) {
  constexpr size_t kFixed = 37;
  if (data.size() < kFixed) {
    return Bad("is " + std::to_string(data.size()) + " bytes; at least 37 are required");
  }
  AuthenticatorData out;
  std::copy(data.begin(), data.begin() + 32, out.rp_id_hash.begin());
  out.flags = data[32];
  out.sign_count = (uint32_t{data[33]} << 24) | (uint32_t{data[34]} << 16) |
                   (uint32_t{data[35]} << 8) | uint32_t{data[36]};
  size_t pos = kFixed;
  if (out.flags & kFlagAttestedCredential) {
    if (data.size() - pos < 18) {
      return Bad("has the AT flag but ends at offset " + std::to_string(data.size()) +
                 " before the AAGUID and credential id length");
    }
    AttestedCredentialData att;
    std::copy(data.begin() + pos, data.begin() + pos + 16, att.aaguid.begin());
    pos += 16;
    size_t id_len = (size_t{data[pos]} << 8) | data[pos + 1];
    pos += 2;
    if (id_len > kMaxCredentialIdBytes) {
      return Bad("credential id length is " + std::to_string(id_len) + " bytes; at most " +
                 std::to_string(kMaxCredentialIdBytes) + " are allowed");
    }
    if (data.size() - pos < id_len) {
      return Bad("credential id at offset " + std::to_string(pos) + " declares " +
                 std::to_string(id_len) + " bytes but only " + std::to_string(data.size() - pos) +
                 " remain");
    }
    att.credential_id.assign(data.begin() + pos, data.begin() + pos + id_len);
    pos += id_len;
    CborLimits limits;
    limits.max_depth = 2;
    size_t used = 0;
    auto key = DecodeCborPrefix(data.subspan(pos), &used, limits);
    if (!key.ok()) {
      return Malformed(key.status(),
                       "authenticatorData credential public key at offset " + std::to_string(pos));
    }
    att.public_key_cose.assign(data.begin() + pos, data.begin() + pos + used);
    pos += used;
    auto cose = CoseKeyFromCbor(key.value());
    if (!cose.ok()) return cose.status().WithContext("authenticatorData credential public key");
    att.public_key = std::move(cose).value();
    out.attested = std::move(att);
  }
  if (out.flags & kFlagExtensions) {
    if (pos >= data.size()) {
      return Bad("has the ED flag but no extensions map at offset " + std::to_string(pos));
    }
    auto ext = DecodeCbor(data.subspan(pos));
    if (!ext.ok()) {
      return Malformed(ext.status(),
                       "authenticatorData extensions at offset " + std::to_string(pos));
    }
    if (ext->type != CborType::kMap) {
      return Bad("extensions at offset " + std::to_string(pos) + " are a " +
                 std::string(CborTypeName(ext->type)) + "; expected a map");
    }
    out.extensions_cbor.assign(data.begin() + pos, data.end());
    pos = data.size();
  }
  if (pos != data.size()) {
    return Bad("has " + std::to_string(data.size() - pos) + " trailing bytes after offset " +
               std::to_string(pos) + " that no flag accounts for");
  }
  return out;
}

}  // namespace strato::webauthn
