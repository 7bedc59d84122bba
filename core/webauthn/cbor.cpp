#include "core/webauthn/cbor.h"

#include <limits>

namespace strato::webauthn {
namespace {

class Decoder {
 public:
  Decoder(std::span<const uint8_t> in, const CborLimits& limits) : in_(in), limits_(limits) {}

  Status Item(size_t depth, CborValue* out) {
    if (depth > limits_.max_depth) {
      return Error("nesting is deeper than the limit of " + std::to_string(limits_.max_depth));
    }
    if (++items_ > limits_.max_items) {
      return Error("holds more than the limit of " + std::to_string(limits_.max_items) + " items");
    }
    out->offset = pos_;
    if (pos_ >= in_.size()) return Error("input ends where an item was expected");
    uint8_t initial = in_[pos_++];
    int major = initial >> 5;
    int info = initial & 0x1f;
    if (major == 7) return Simple(info, out);
    uint64_t arg = 0;
    if (info < 24) {
      arg = static_cast<uint64_t>(info);
    } else if (info <= 27) {
      size_t width = size_t{1} << (info - 24);
      if (in_.size() - pos_ < width) {
        return ErrorAt(out->offset, "header needs " + std::to_string(width) +
                                        " argument bytes but the input ends");
      }
      for (size_t i = 0; i < width; ++i) arg = (arg << 8) | in_[pos_++];
    } else if (info == 31) {
      return ErrorAt(out->offset, "uses an indefinite length; WebAuthn requires definite lengths");
    } else {
      return ErrorAt(out->offset, "uses reserved additional information " + std::to_string(info));
    }
    switch (major) {
      case 0:
        out->type = CborType::kUnsigned;
        out->number = arg;
        return Status::Ok();
      case 1:
        out->type = CborType::kNegative;
        out->number = arg;
        return Status::Ok();
      case 2:
      case 3: {
        if (arg > in_.size() - pos_) {
          return ErrorAt(out->offset, std::string(major == 2 ? "byte" : "text") +
                                          " string declares " + std::to_string(arg) +
                                          " bytes but only " + std::to_string(in_.size() - pos_) +
                                          " remain");
        }
        const uint8_t* p = in_.data() + pos_;
        pos_ += static_cast<size_t>(arg);
        if (major == 2) {
          out->type = CborType::kBytes;
          out->bytes.assign(p, p + arg);
        } else {
          out->type = CborType::kText;
          out->text.assign(reinterpret_cast<const char*>(p), static_cast<size_t>(arg));
          if (!ValidUtf8(out->text)) return ErrorAt(out->offset, "text string is not UTF-8");
        }
        return Status::Ok();
      }
      case 4:
      case 5: {
        // Every element takes at least one byte (two per map entry), so a count larger than
        // the rest of the input is a lie and is refused early. Elements are appended as they
        // decode, never pre-allocated from the declared count, so memory stays proportional to
        // the items actually present (at most max_items) however the counts nest.
        uint64_t min_bytes = major == 4 ? arg : arg * 2;
        if (arg > in_.size() || min_bytes > in_.size() - pos_) {
          return ErrorAt(out->offset, std::string(major == 4 ? "array" : "map") + " declares " +
                                          std::to_string(arg) +
                                          " elements but the input is too short to hold them");
        }
        size_t n = static_cast<size_t>(arg);
        if (major == 4) {
          out->type = CborType::kArray;
          for (size_t i = 0; i < n; ++i) {
            Status s = Item(depth + 1, &out->items.emplace_back());
            if (!s.ok()) return s;
          }
          return Status::Ok();
        }
        out->type = CborType::kMap;
        for (size_t i = 0; i < n; ++i) {
          Status s = Item(depth + 1, &out->items.emplace_back());
          if (!s.ok()) return s;
          const CborValue& key = out->items[i];
          if (!key.is_int() && key.type != CborType::kText) {
            return ErrorAt(key.offset, "map key is a " + std::string(CborTypeName(key.type)) +
                                           "; only integer and text keys are accepted");
          }
          for (size_t j = 0; j < i; ++j) {
            if (SameKey(out->items[j], key)) {
              return ErrorAt(key.offset, "map key is repeated");
            }
          }
          s = Item(depth + 1, &out->values.emplace_back());
          if (!s.ok()) return s;
        }
        return Status::Ok();
      }
      case 6:
        return ErrorAt(out->offset, "is a tagged item; WebAuthn structures use no tags");
    }
    return ErrorAt(out->offset, "has an unknown major type");
  }

  size_t pos() const { return pos_; }

  Status ErrorAt(size_t offset, const std::string& what) const {
    return Status::InvalidArgument("CBOR item at offset " + std::to_string(offset) + " " + what);
  }

 private:
  Status Error(const std::string& what) const {
    return Status::InvalidArgument("CBOR at offset " + std::to_string(pos_) + ": " + what);
  }

  Status Simple(int info, CborValue* out) {
    switch (info) {
      case 20:
      case 21:
        out->type = CborType::kBool;
        out->boolean = info == 21;
        return Status::Ok();
      case 22:
        out->type = CborType::kNull;
        return Status::Ok();
      case 25:
      case 26:
      case 27:
        return ErrorAt(out->offset, "is a floating-point number; WebAuthn structures use none");
      case 31:
        return ErrorAt(out->offset, "is a 'break' outside an indefinite-length item");
      default:
        return ErrorAt(out->offset,
                       "is the simple value " + std::to_string(info) + ", which is not accepted");
    }
  }

  static bool SameKey(const CborValue& a, const CborValue& b) {
    if (a.type != b.type) return false;
    if (a.type == CborType::kText) return a.text == b.text;
    return a.number == b.number;
  }

  static bool ValidUtf8(const std::string& s) {
    size_t i = 0;
    while (i < s.size()) {
      unsigned char c = static_cast<unsigned char>(s[i]);
      size_t len;
      uint32_t cp;
      if (c < 0x80) {
        ++i;
        continue;
      } else if ((c & 0xe0) == 0xc0) {
        len = 2;
        cp = c & 0x1f;
      } else if ((c & 0xf0) == 0xe0) {
        len = 3;
        cp = c & 0x0f;
      } else if ((c & 0xf8) == 0xf0) {
        len = 4;
        cp = c & 0x07;
      } else {
        return false;
      }
      if (s.size() - i < len) return false;
      for (size_t k = 1; k < len; ++k) {
        unsigned char cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xc0) != 0x80) return false;
        cp = (cp << 6) | (cc & 0x3f);
      }
      if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
          cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return false;
      }
      i += len;
    }
    return true;
  }

  std::span<const uint8_t> in_;
  const CborLimits& limits_;
  size_t pos_ = 0;
  size_t items_ = 0;
};

}  // namespace

std::string_view CborTypeName(CborType type) {
  switch (type) {
    case CborType::kUnsigned:
      return "unsigned integer";
    case CborType::kNegative:
      return "negative integer";
    case CborType::kBytes:
      return "byte string";
    case CborType::kText:
      return "text string";
    case CborType::kArray:
      return "array";
    case CborType::kMap:
      return "map";
    case CborType::kBool:
      return "boolean";
    case CborType::kNull:
      return "null";
  }
  return "unknown";
}

std::optional<int64_t> CborValue::AsInt() const {
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (type == CborType::kUnsigned && number <= kMax) return static_cast<int64_t>(number);
  if (type == CborType::kNegative && number <= kMax) return -1 - static_cast<int64_t>(number);
  return std::nullopt;
}

const CborValue* CborValue::Find(int64_t key) const {
  if (type != CborType::kMap) return nullptr;
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].is_int() && items[i].AsInt() == key) return &values[i];
  }
  return nullptr;
}

const CborValue* CborValue::Find(std::string_view key) const {
  if (type != CborType::kMap) return nullptr;
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].type == CborType::kText && items[i].text == key) return &values[i];
  }
  return nullptr;
}

Result<CborValue> DecodeCborPrefix(std::span<const uint8_t> input, size_t* consumed,
                                   const CborLimits& limits) {
  if (input.size() > limits.max_input_bytes) {
    return Status::InvalidArgument("CBOR input is " + std::to_string(input.size()) +
                                   " bytes; the limit is " +
                                   std::to_string(limits.max_input_bytes));
  }
  Decoder decoder(input, limits);
  CborValue value;
  Status s = decoder.Item(0, &value);
  if (!s.ok()) return s;
  if (consumed != nullptr) *consumed = decoder.pos();
  return value;
}

Result<CborValue> DecodeCbor(std::span<const uint8_t> input, const CborLimits& limits) {
  size_t used = 0;
  Result<CborValue> value = DecodeCborPrefix(input, &used, limits);
  if (!value.ok()) return value;
  if (used != input.size()) {
    return Status::InvalidArgument("CBOR item ends at offset " + std::to_string(used) +
                                   " but the input has " + std::to_string(input.size() - used) +
                                   " trailing bytes");
  }
  return value;
}

}  // namespace strato::webauthn
