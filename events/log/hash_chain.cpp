#include "events/log/hash_chain.h"

#include <sodium.h>

namespace strato::events {
namespace {

void PutU64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}

void PutBytes(std::string& out, std::string_view s) {
  PutU64(out, s.size());
  out.append(s);
}

}  // namespace

std::string CanonicalBytes(const RecordedEvent& e) {
  std::string out;
  out.reserve(96 + e.stream_id.size() + e.type.size() + e.data.size() + e.metadata.size());
  out.append("strato.event.v1");
  PutU64(out, static_cast<uint64_t>(e.position));
  PutBytes(out, e.stream_id);
  PutU64(out, static_cast<uint64_t>(e.stream_version));
  out.append(reinterpret_cast<const char*>(e.event_id.bytes().data()), 16);
  PutBytes(out, e.type);
  PutBytes(out, e.data);
  PutBytes(out, e.metadata);
  PutU64(out, static_cast<uint64_t>(UnixMicros(e.recorded_at)));
  out.append(reinterpret_cast<const char*>(e.command_id.bytes().data()), 16);
  return out;
}

Hash ChainHash(const Hash& previous, const RecordedEvent& e) {
  std::string bytes = CanonicalBytes(e);
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, 32);
  crypto_generichash_update(&st, previous.data(), previous.size());
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(bytes.data()),
                            bytes.size());
  Hash out{};
  crypto_generichash_final(&st, out.data(), out.size());
  return out;
}

bool ChainVerifier::Add(const RecordedEvent& e) {
  if (first_bad_ != 0) return false;
  if (e.position != expected_position_) {
    first_bad_ = expected_position_;
    problem_ = "position " + std::to_string(expected_position_) + " is missing (next found is " +
               std::to_string(e.position) + ")";
    return false;
  }
  Hash h = ChainHash(previous_, e);
  if (h != e.hash) {
    first_bad_ = e.position;
    problem_ = "the hash stored at position " + std::to_string(e.position) +
               " does not match its contents and the chain before it";
    return false;
  }
  previous_ = h;
  ++expected_position_;
  ++count_;
  return true;
}

}  // namespace strato::events
