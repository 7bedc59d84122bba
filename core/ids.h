// Uuid: a 16-byte identifier, made as version 4 (random) or version 7 (time-ordered, for ids
// that benefit from index locality such as event ids). Plain value; thread-safe to create.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace strato {

class Uuid {
 public:
  Uuid() = default;  // the nil uuid
  explicit Uuid(const std::array<uint8_t, 16>& bytes) : bytes_(bytes) {}

  static Uuid NewV4();
  // Version 7: 48-bit Unix milliseconds, then random bits.
  static Uuid NewV7();
  static Uuid NewV7At(int64_t unix_ms);
  // Version 8 (custom), derived from a name with BLAKE2b-128: the same name always gives the
  // same id (for idempotency keys and ids derived from stable names).
  static Uuid NameBased(std::string_view name);
  // Accepts the canonical 8-4-4-4-12 form, either case.
  static Result<Uuid> Parse(std::string_view text);

  bool IsNil() const;
  int Version() const { return bytes_[6] >> 4; }
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  std::string ToString() const;  // lowercase canonical form

  friend bool operator==(const Uuid& a, const Uuid& b) { return a.bytes_ == b.bytes_; }
  friend bool operator!=(const Uuid& a, const Uuid& b) { return a.bytes_ != b.bytes_; }
  friend bool operator<(const Uuid& a, const Uuid& b) { return a.bytes_ < b.bytes_; }

 private:
  std::array<uint8_t, 16> bytes_{};
};

}  // namespace strato
