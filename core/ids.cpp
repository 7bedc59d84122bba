#include "core/ids.h"

#include <sodium.h>

#include <chrono>

namespace strato {
namespace {

void EnsureSodium() {
  // sodium_init is idempotent and thread-safe; it returns 1 when already initialised.
  static const int rc = sodium_init();
  assert(rc >= 0 && "libsodium failed to initialise");
  (void)rc;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Uuid Uuid::NewV4() {
  EnsureSodium();
  std::array<uint8_t, 16> b;
  randombytes_buf(b.data(), b.size());
  b[6] = (b[6] & 0x0F) | 0x40;
  b[8] = (b[8] & 0x3F) | 0x80;
  return Uuid(b);
}

Uuid Uuid::NewV7At(int64_t unix_ms) {
  EnsureSodium();
  std::array<uint8_t, 16> b;
  randombytes_buf(b.data(), b.size());
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(unix_ms >> (40 - 8 * i));
  b[6] = (b[6] & 0x0F) | 0x70;
  b[8] = (b[8] & 0x3F) | 0x80;
  return Uuid(b);
}

Uuid Uuid::NewV7() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return NewV7At(std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
}

Result<Uuid> Uuid::Parse(std::string_view text) {
  if (text.size() != 36) {
    return Status::InvalidArgument("\"" + std::string(text.substr(0, 64)) +
                                   "\" is not a UUID (expected 36 characters like "
                                   "123e4567-e89b-12d3-a456-426614174000)");
  }
  std::array<uint8_t, 16> b{};
  size_t out = 0;
  for (size_t i = 0; i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') break;
      ++i;
      continue;
    }
    int hi = HexValue(text[i]);
    int lo = HexValue(text[i + 1]);
    if (hi < 0 || lo < 0) break;
    b[out++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
  if (out != 16) {
    return Status::InvalidArgument("\"" + std::string(text) +
                                   "\" is not a UUID (hex digits in 8-4-4-4-12 groups expected)");
  }
  return Uuid(b);
}

bool Uuid::IsNil() const {
  for (uint8_t v : bytes_)
    if (v != 0) return false;
  return true;
}

std::string Uuid::ToString() const {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[bytes_[i] >> 4]);
    s.push_back(kHex[bytes_[i] & 0xF]);
  }
  return s;
}

Uuid Uuid::NameBased(std::string_view name) {
  std::array<uint8_t, 16> b{};
  crypto_generichash(b.data(), b.size(), reinterpret_cast<const unsigned char*>(name.data()),
                     name.size(), nullptr, 0);
  b[6] = static_cast<uint8_t>((b[6] & 0x0F) | 0x80);  // version 8
  b[8] = static_cast<uint8_t>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  return Uuid(b);
}

}  // namespace strato
