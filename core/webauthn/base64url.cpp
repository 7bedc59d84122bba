#include "core/webauthn/base64url.h"

namespace strato::webauthn {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int Sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

std::string Describe(char c) {
  if (c >= 0x21 && c <= 0x7e) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s = "byte 0x";
  s += kHex[(static_cast<unsigned char>(c) >> 4) & 0xf];
  s += kHex[static_cast<unsigned char>(c) & 0xf];
  return s;
}

}  // namespace

std::string Base64UrlEncode(std::span<const uint8_t> bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (uint32_t{bytes[i]} << 16) | (uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = uint32_t{bytes[i]} << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (rest == 2) {
    uint32_t v = (uint32_t{bytes[i]} << 16) | (uint32_t{bytes[i + 1]} << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::string Base64UrlEncode(std::string_view bytes) {
  return Base64UrlEncode(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

Result<std::vector<uint8_t>> Base64UrlDecode(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (Sextet(text[i]) >= 0) continue;
    std::string m =
        "base64url text has " + Describe(text[i]) + " at position " + std::to_string(i) + "; ";
    if (text[i] == '=') {
      m += "WebAuthn uses unpadded base64url";
    } else if (text[i] == '+' || text[i] == '/') {
      m += "that is standard base64, not base64url (use '-' and '_')";
    } else {
      m += "only A-Z a-z 0-9 '-' '_' are allowed";
    }
    return Status::InvalidArgument(std::move(m));
  }
  if (text.size() % 4 == 1) {
    return Status::InvalidArgument("base64url text has length " + std::to_string(text.size()) +
                                   ", which leaves one dangling character; it was truncated");
  }
  std::vector<uint8_t> out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    acc = (acc << 6) | static_cast<uint32_t>(Sextet(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>((acc >> bits) & 0xff));
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
    return Status::InvalidArgument(
        "base64url text ends with non-zero unused bits in its last character; it is not the "
        "canonical encoding of any byte string");
  }
  return out;
}

}  // namespace strato::webauthn
