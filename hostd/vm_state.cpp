#include "hostd/vm_state.h"

#include <cassert>
#include <string>

#include "core/log.h"

namespace strato::hostd {

const char* VmStateName(VmState state) {
  switch (state) {
    case VmState::kUnknown:
      return "unknown";
    case VmState::kIdle:
      return "idle";
    case VmState::kStepping:
      return "stepping";
    case VmState::kAwaitingGuest:
      return "awaiting-guest";
    case VmState::kGone:
      return "gone";
  }
  return "?";
}

bool TransitionAllowed(VmState from, VmState to) {
  using S = VmState;
  switch (from) {
    case S::kUnknown:
      return to == S::kIdle;
    case S::kIdle:
      return to == S::kStepping;
    case S::kStepping:
      return to == S::kIdle || to == S::kAwaitingGuest || to == S::kGone;
    case S::kAwaitingGuest:
      return to == S::kStepping || to == S::kIdle;
    case S::kGone:
      return to == S::kIdle;
  }
  return false;
}

bool MoveVmState(VmState& state, VmState to, std::string_view vm_id) {
  const bool allowed = TransitionAllowed(state, to);
  if (!allowed) {
    log::Error(
        "a VM moved between states the supervisor does not allow (a bug in hostd)",
        {{"vm_id", std::string(vm_id)}, {"from", VmStateName(state)}, {"to", VmStateName(to)}});
    assert(false && "a VM state transition not in the table");
  }
  state = to;
  return allowed;
}

}  // namespace strato::hostd
