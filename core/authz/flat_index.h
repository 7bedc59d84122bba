// Insert-only open-addressing hash indexes used by MemoryTupleStore on the check path: one probe
// sequence in a flat array instead of a chain of heap nodes.
//
// Keys are never removed (an entity whose tuples are all deleted keeps an empty slot), which
// keeps probing simple. Not thread-safe by themselves: MemoryTupleStore's lock guards them. They
// own their arrays.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strato::authz::internal {

inline uint64_t Mix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xFF51AFD7ED558CCDull;
  k ^= k >> 33;
  k *= 0xC4CEB9FE1A85EC53ull;
  k ^= k >> 33;
  return k;
}

inline uint64_t HashText(std::string_view s) {
  uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a, then mixed: ids are short
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001B3ull;
  }
  return Mix64(h);
}

struct NoExtra {};

// uint64 key -> uint32 value, plus an optional small payload kept in the slot itself (read
// without touching any other memory).
template <typename Extra = NoExtra>
class FlatIndex64T {
 public:
  static constexpr uint32_t kMissing = UINT32_MAX;

  struct Slot {
    uint64_t key = 0;
    uint32_t value = kMissing;
    Extra extra{};
  };

  const Slot* FindSlot(uint64_t key) const {
    if (slots_.empty()) return nullptr;
    for (size_t i = Mix64(key) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.value == kMissing) return nullptr;
      if (s.key == key) return &s;
    }
  }
  Slot* FindSlot(uint64_t key) {
    return const_cast<Slot*>(static_cast<const FlatIndex64T*>(this)->FindSlot(key));
  }

  uint32_t Find(uint64_t key) const {
    const Slot* s = FindSlot(key);
    return s == nullptr ? kMissing : s->value;
  }

  // Returns the slot for key, inserting one with value make_value() when absent. The reference
  // is valid until the next insertion.
  template <typename F>
  Slot& FindOrInsertSlot(uint64_t key, F make_value) {
    if ((size_ + 1) * 2 > slots_.size()) Grow();
    for (size_t i = Mix64(key) & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.value == kMissing) {
        s.key = key;
        s.value = make_value();
        ++size_;
        return s;
      }
      if (s.key == key) return s;
    }
  }

  template <typename F>
  uint32_t FindOrInsert(uint64_t key, F make_value) {
    return FindOrInsertSlot(key, make_value).value;
  }

 private:
  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 64 : old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.value == kMissing) continue;
      for (size_t i = Mix64(s.key) & mask_;; i = (i + 1) & mask_) {
        if (slots_[i].value == kMissing) {
          slots_[i] = s;
          break;
        }
      }
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

using FlatIndex64 = FlatIndex64T<>;

// Interns strings: text -> dense uint32 symbol, and back.
class SymbolTable {
 public:
  static constexpr uint32_t kMissing = UINT32_MAX;

  uint32_t Find(std::string_view text) const {
    if (slots_.empty()) return kMissing;
    const uint64_t h = HashText(text);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.sym == kMissing) return kMissing;
      if (s.hash == static_cast<uint32_t>(h >> 32) && Text(s.sym) == text) return s.sym;
    }
  }

  uint32_t Intern(std::string_view text) {
    const uint32_t found = Find(text);
    if (found != kMissing) return found;
    if ((size() + 1) * 2 > slots_.size()) Grow();
    const uint32_t sym = static_cast<uint32_t>(size());
    arena_.append(text);
    ends_.push_back(static_cast<uint32_t>(arena_.size()));
    Place(HashText(text), sym);
    return sym;
  }

  std::string_view Text(uint32_t sym) const {
    const uint32_t begin = sym == 0 ? 0 : ends_[sym - 1];
    return std::string_view(arena_.data() + begin, ends_[sym] - begin);
  }
  size_t size() const { return ends_.size(); }

 private:
  struct Slot {
    uint32_t hash = 0;
    uint32_t sym = kMissing;
  };

  void Place(uint64_t h, uint32_t sym) {
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].sym == kMissing) {
        slots_[i] = Slot{static_cast<uint32_t>(h >> 32), sym};
        return;
      }
    }
  }

  void Grow() {
    slots_.assign(slots_.empty() ? 64 : slots_.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (uint32_t sym = 0; sym < size(); ++sym) Place(HashText(Text(sym)), sym);
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  std::string arena_;           // every text, back to back
  std::vector<uint32_t> ends_;  // ends_[sym] is where text sym ends in arena_
};

}  // namespace strato::authz::internal
