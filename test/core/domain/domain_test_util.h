// Given/when/then for the pure domain: Given folds events into a state, When decides a command
// against it (and checks that every emitted event folds, since Evolve must accept whatever
// Decide emits), Fails returns the error of a refused command as "code: sentence".
#pragma once

#include <doctest/doctest.h>

#include <ostream>
#include <string>

#include "core/clock.h"
#include "core/domain/domain_event.h"
#include "core/status.h"

namespace strato::domain::testing {

inline DecideContext Ctx(std::string actor = "user-1") {
  return DecideContext{std::move(actor), FromUnixMicros(1'750'000'000'000'000)};
}

template <typename State>
State Given(const Events& events) {
  State s;
  for (const DomainEvent& e : events) {
    Status st = Evolve(s, e);
    REQUIRE_MESSAGE(st.ok(), e.type << ": " << st.ToString());
  }
  return s;
}

template <typename State>
void Fold(State& s, const Events& events) {
  for (const DomainEvent& e : events) {
    Status st = Evolve(s, e);
    REQUIRE_MESSAGE(st.ok(), e.type << " " << e.data << ": " << st.ToString());
  }
}

// The events the command emits; the command must succeed.
template <typename State, typename Command>
Events When(const State& s, const Command& command, const DecideContext& ctx = Ctx()) {
  auto result = Decide(s, command, ctx);
  REQUIRE_MESSAGE(result.ok(), result.status().ToString());
  State after = s;
  Fold(after, *result);
  CHECK(after.version == s.version + static_cast<int64_t>(result->size()));
  return *result;
}

// The state after the command's events; the command must succeed.
template <typename State, typename Command>
State After(State s, const Command& command, const DecideContext& ctx = Ctx()) {
  Events events = When(s, command, ctx);
  Fold(s, events);
  return s;
}

// "code: sentence" of a refused command; "ok" when it was not refused.
template <typename State, typename Command>
std::string Fails(const State& s, const Command& command, const DecideContext& ctx = Ctx()) {
  auto result = Decide(s, command, ctx);
  return result.ok() ? std::string("ok") : result.status().ToString();
}

inline DomainEvent Ev(std::string type, std::string data = "{}") {
  return DomainEvent{std::move(type), std::move(data)};
}

}  // namespace strato::domain::testing

namespace strato::domain {
// Lets doctest print events when a comparison fails.
inline std::ostream& operator<<(std::ostream& os, const DomainEvent& e) {
  return os << e.type << " " << e.data;
}
inline std::ostream& operator<<(std::ostream& os, const Events& events) {
  os << "[";
  for (const DomainEvent& e : events) os << "\n  " << e;
  return os << "]";
}
}  // namespace strato::domain
