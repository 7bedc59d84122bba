#include <doctest/doctest.h>

#include "core/webauthn/cbor.h"

using namespace strato::webauthn;
using strato::Result;

namespace {

Result<CborValue> Decode(std::initializer_list<uint8_t> bytes, const CborLimits& limits = {}) {
  std::vector<uint8_t> v(bytes);
  return DecodeCbor(v, limits);
}

bool Has(const Result<CborValue>& r, const std::string& needle) {
  return !r.ok() && r.status().message().find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("cbor decodes integers strings and simple values") {
  auto u = Decode({0x18, 0x64});
  REQUIRE(u.ok());
  CHECK(u->AsInt() == 100);
  auto n = Decode({0x38, 0x63});
  REQUIRE(n.ok());
  CHECK(n->AsInt() == -100);
  auto big = Decode({0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  REQUIRE(big.ok());
  CHECK(big->type == CborType::kUnsigned);
  CHECK_FALSE(big->AsInt().has_value());
  auto bytes = Decode({0x43, 1, 2, 3});
  REQUIRE(bytes.ok());
  CHECK(bytes->bytes == std::vector<uint8_t>{1, 2, 3});
  auto text = Decode({0x62, 'h', 'i'});
  REQUIRE(text.ok());
  CHECK(text->text == "hi");
  CHECK(Decode({0xf5})->boolean);
  CHECK(Decode({0xf6})->type == CborType::kNull);
}

TEST_CASE("cbor decodes a COSE-like map and finds keys by integer and text") {
  // {1: 2, 3: -7, "fmt": "none"}
  auto m = Decode({0xa3, 0x01, 0x02, 0x03, 0x26, 0x63, 'f', 'm', 't', 0x64, 'n', 'o', 'n', 'e'});
  REQUIRE(m.ok());
  CHECK(m->Find(1)->AsInt() == 2);
  CHECK(m->Find(3)->AsInt() == -7);
  CHECK(m->Find("fmt")->text == "none");
  CHECK(m->Find(4) == nullptr);
  CHECK(m->Find("alg") == nullptr);
}

TEST_CASE("cbor refuses truncated input with the offset") {
  auto r = Decode({0x82, 0x81, 0x00});
  CHECK(Has(r, "offset 3"));
  CHECK(Has(r, "input ends"));
  CHECK(Has(Decode({0x82, 0x01}), "too short"));
  auto s = Decode({0x45, 1, 2});
  CHECK(Has(s, "declares 5 bytes but only 2 remain"));
  auto h = Decode({0x19, 0x01});
  CHECK(Has(h, "argument bytes"));
  CHECK_FALSE(Decode({}).ok());
}

TEST_CASE("cbor refuses trailing bytes") {
  auto r = Decode({0x01, 0x02});
  CHECK(Has(r, "ends at offset 1"));
  CHECK(Has(r, "1 trailing bytes"));
}

TEST_CASE("cbor prefix decoding reports the bytes used") {
  std::vector<uint8_t> v = {0xa1, 0x01, 0x02, 0xff, 0xff};
  size_t used = 0;
  auto r = DecodeCborPrefix(v, &used);
  REQUIRE(r.ok());
  CHECK(used == 3);
}

TEST_CASE("cbor refuses input over the size limit") {
  std::vector<uint8_t> v(300, 0x00);
  v[0] = 0x59;  // byte string, 2-byte length
  v[1] = 0x01;
  v[2] = 0x29;  // 297 bytes
  CborLimits limits;
  limits.max_input_bytes = 256;
  auto r = DecodeCbor(v, limits);
  CHECK(Has(r, "the limit is 256"));
  CHECK(DecodeCbor(v).ok());
}

TEST_CASE("cbor refuses nesting deeper than the limit") {
  std::vector<uint8_t> deep(40, 0x81);  // [[[[...]]]]
  deep.push_back(0x00);
  auto r = DecodeCbor(deep);
  CHECK(Has(r, "deeper than the limit of 16"));
  std::vector<uint8_t> ok(16, 0x81);
  ok.push_back(0x00);
  CHECK(DecodeCbor(ok).ok());
}

TEST_CASE("cbor refuses counts larger than the input can hold") {
  // An array claiming 2^32 elements must fail fast, not allocate.
  auto r = Decode({0x9a, 0xff, 0xff, 0xff, 0xff, 0x00});
  CHECK(Has(r, "too short"));
  auto m = Decode({0xbb, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  CHECK(Has(m, "too short"));
}

TEST_CASE("cbor refuses indefinite lengths tags floats and odd simple values") {
  CHECK(Has(Decode({0x5f, 0x41, 0x00, 0xff}), "indefinite length"));
  CHECK(Has(Decode({0x9f, 0xff}), "indefinite length"));
  CHECK(Has(Decode({0xc2, 0x41, 0x00}), "tagged"));
  CHECK(Has(Decode({0xf9, 0x3c, 0x00}), "floating-point"));
  CHECK(Has(Decode({0xff}), "break"));
  CHECK(Has(Decode({0xf0}), "simple value 16"));
  CHECK(Has(Decode({0x1c}), "reserved"));
}

TEST_CASE("cbor refuses repeated and non-scalar map keys") {
  CHECK(Has(Decode({0xa2, 0x01, 0x00, 0x01, 0x00}), "map key is repeated"));
  CHECK(Has(Decode({0xa1, 0x80, 0x00}), "map key is a array"));
}

TEST_CASE("cbor refuses text that is not UTF-8") {
  CHECK(Has(Decode({0x62, 0xc3, 0x28}), "not UTF-8"));
  CHECK(Has(Decode({0x63, 0xed, 0xa0, 0x80}), "not UTF-8"));  // a UTF-16 surrogate
  CHECK(Decode({0x62, 0xc3, 0xa9}).ok());
}

TEST_CASE("cbor refuses more items than the item limit") {
  std::vector<uint8_t> v = {0x98, 0x64};  // array of 100
  v.insert(v.end(), 100, 0x00);
  CborLimits limits;
  limits.max_items = 50;
  CHECK(Has(DecodeCbor(v, limits), "limit of 50 items"));
  CHECK(DecodeCbor(v).ok());
}

TEST_CASE("cbor nested arrays that each claim the rest of the input fail without amplifying") {
  // 16 levels of "array of 60000 elements" followed by nothing: each count fits in the
  // remaining bytes, so only decoding can show the lie. Elements are appended as they decode,
  // so this fails fast instead of allocating 16 x 60000 placeholder values.
  std::vector<uint8_t> v;
  for (int i = 0; i < 16; ++i) {
    v.insert(v.end(), {0x99, 0xea, 0x60});
  }
  v.resize(200000, 0x00);
  auto r = DecodeCbor(v);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("items") != std::string::npos);
}
