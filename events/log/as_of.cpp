#include "events/log/as_of.h"

#include <cstdlib>
#include <map>
#include <variant>

#include "core/domain/state_json.h"
#include "core/parse.h"

namespace strato::events {
namespace {

using AnyState =
    std::variant<domain::VmState, domain::OrganizationState, domain::UserState, domain::HostState>;

std::optional<AnyState> EmptyStateFor(std::string_view category) {
  if (category == "vm") return AnyState(domain::VmState{});
  if (category == "org") return AnyState(domain::OrganizationState{});
  if (category == "user") return AnyState(domain::UserState{});
  if (category == "host") return AnyState(domain::HostState{});
  return std::nullopt;
}

Status Fold(AnyState& state, const RecordedEvent& e) {
  domain::DomainEvent de{e.type, e.data};
  Status s = std::visit([&](auto& st) { return domain::Evolve(st, de); }, state);
  return s.WithContext("folding " + e.stream_id + " at position " + std::to_string(e.position));
}

std::string Json(const AnyState& state) {
  return std::visit([](const auto& st) { return domain::ToJson(st); }, state);
}

}  // namespace

Result<int64_t> ResolveAsOf(EventStore& store, const std::string& as_of) {
  if (!as_of.empty() && as_of.find_first_not_of("0123456789") == std::string::npos) {
    std::optional<int64_t> position = ParseInt(as_of);
    if (!position || as_of.size() > 18) {
      return Status::InvalidArgument("--as-of " + as_of + " is too large");
    }
    return *position;
  }
  auto when = ParseRfc3339(as_of, "--as-of");
  if (!when.ok()) return when.status();
  auto last = store.LastPosition();
  if (!last.ok()) return last.status();
  // The last position recorded at or before `when`: binary search, times never decrease.
  int64_t lo = 0, hi = *last;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo + 1) / 2;
    auto e = store.ReadAll(mid - 1, 1);
    if (!e.ok()) return e.status();
    if (e->empty())
      return Status::Internal("the log has no event at position " + std::to_string(mid));
    if ((*e)[0].recorded_at <= *when) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

Result<std::string> StateAsOf(EventStore& store, const std::string& stream_id, int64_t position) {
  STRATO_RETURN_IF_ERROR(ValidateStreamId(stream_id));
  std::string_view category = std::string_view(stream_id).substr(0, stream_id.find('-'));
  auto state = EmptyStateFor(category);
  if (!state) {
    return Status::InvalidArgument("stream " + stream_id +
                                   " is not an aggregate (use vm-, org-, user- or host-)");
  }
  auto history = ReadWholeStream(store, stream_id);
  if (!history.ok()) return history.status();
  for (const auto& e : *history) {
    if (e.position > position) break;
    STRATO_RETURN_IF_ERROR(Fold(*state, e));
  }
  return Json(*state);
}

Status AllStatesAsOf(EventStore& store, int64_t position,
                     const std::function<void(const std::string& json)>& emit) {
  std::map<std::string, AnyState> states;
  int64_t after = 0;
  while (after < position) {
    auto batch = store.ReadAll(after, 2000);
    if (!batch.ok()) return batch.status();
    if (batch->empty()) break;
    for (const auto& e : *batch) {
      if (e.position > position) break;
      auto it = states.find(e.stream_id);
      if (it == states.end()) {
        auto fresh = EmptyStateFor(e.Category());
        if (!fresh) continue;  // reservation streams are not aggregates
        it = states.emplace(e.stream_id, std::move(*fresh)).first;
      }
      STRATO_RETURN_IF_ERROR(Fold(it->second, e));
    }
    after = batch->back().position;
  }
  for (const auto& [stream, state] : states) emit(Json(state));
  return Status::Ok();
}

}  // namespace strato::events
