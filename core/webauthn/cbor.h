// A strict CBOR (RFC 8949) decoder for the subset WebAuthn uses: unsigned and negative integers,
// byte and text strings, arrays, maps, false/true/null. It builds a small owned value tree.
//
// Strict on purpose: definite lengths only, no tags, no floats, map keys only integers or text
// and never repeated, UTF-8 checked in text, nesting depth and total size bounded, trailing bytes
// refused. Errors are InvalidArgument Statuses naming the byte offset. Pure functions with no
// state: safe from any thread. Depends on core/status.h only, so the fuzz target builds alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace strato::webauthn {

enum class CborType { kUnsigned, kNegative, kBytes, kText, kArray, kMap, kBool, kNull };

std::string_view CborTypeName(CborType type);

// One decoded item. Maps keep their entries in encoded order as parallel key/value vectors.
struct CborValue {
  CborType type = CborType::kNull;
  // kUnsigned: the value. kNegative: n where the value is -1 - n.
  uint64_t number = 0;
  bool boolean = false;
  std::vector<uint8_t> bytes;     // kBytes
  std::string text;               // kText
  std::vector<CborValue> items;   // kArray elements, or kMap keys
  std::vector<CborValue> values;  // kMap values (same length as items)
  size_t offset = 0;              // where the item starts in the decoded input

  bool is_int() const { return type == CborType::kUnsigned || type == CborType::kNegative; }
  // The integer value when it fits an int64_t.
  std::optional<int64_t> AsInt() const;
  // Map lookups; nullptr when absent or when this is not a map.
  const CborValue* Find(int64_t key) const;
  const CborValue* Find(std::string_view key) const;
};

struct CborLimits {
  size_t max_depth = 16;  // nesting of arrays and maps
  size_t max_input_bytes = 256 * 1024;
  size_t max_items = 10000;  // total items decoded, all levels together
};

// Decodes exactly one item that spans the whole input.
Result<CborValue> DecodeCbor(std::span<const uint8_t> input, const CborLimits& limits = {});

// Decodes one item from the start of the input and reports how many bytes it used; the rest is
// left to the caller (authenticatorData holds a COSE key followed by an extensions map).
Result<CborValue> DecodeCborPrefix(std::span<const uint8_t> input, size_t* consumed,
                                   const CborLimits& limits = {});

}  // namespace strato::webauthn
