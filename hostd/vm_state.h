// A VM's state in the supervisor: where its reconcile stands. What its VMM process does is kept
// apart (VmmProcess in supervisor.h: alive or not, spawned or adopted, exit asked for), and so is
// `dirty` (a step is owed: something changed since the last one), which can be set in any state,
// during a step above all. Loop thread only.
//
// The transitions, all of them; every change goes through MoveVmState:
//
//   from             to               when
//   kUnknown         kIdle            its desired row arrives (a fetch; an event for a VM not
//                                     fetched yet fetches the row first)
//   kIdle            kStepping        Dispatch starts a reconcile step off the loop
//   kAwaitingGuest   kStepping        the guest is looked at again: every second, at the stop's
//                                     deadline (which forces it), at once when the desired state
//                                     changes (a forced stop, a start)
//   kStepping        kIdle            the step is done: converged, failed (it backs off and
//                                     retries), or it asked the VMM to exit (the exit dispatches
//                                     again); also a graceful stop whose VMM exited during the step
//   kStepping        kAwaitingGuest   the step pressed the guest's power button (or found it
//                                     pressed for this generation) and the VMM still runs
//   kStepping        kGone            the step deleted the VM and removed its files
//   kAwaitingGuest   kIdle            the VMM exited by itself: the guest powered off
//   kGone            kIdle            the VM is wanted again (a desired state other than deleted)
//
// Nothing goes back to kUnknown; no step starts from kUnknown or kGone (kGone means: desired
// deleted, no VMM, files removed); only a step's completion leaves kStepping (it always comes
// back, also when the VMM exits meanwhile).
#pragma once

#include <string_view>

namespace strato::hostd {

enum class VmState {
  kUnknown,        // no desired row yet (e.g. a VMM adopted at start, before the fetch)
  kIdle,           // desired row known, no step running
  kStepping,       // a reconcile step runs off the loop
  kAwaitingGuest,  // a graceful stop pressed the power button and waits for the guest
  kGone,           // deleted and cleaned up
};

const char* VmStateName(VmState state);

// Whether the table above has `from` -> `to` (a state to itself is not a transition: false).
bool TransitionAllowed(VmState from, VmState to);

// Moves `state` to `to`. A transition the table does not have is a bug: it asserts in debug
// builds; in release builds it is logged as an error naming the VM and both states, false is
// returned, and the state still moves, so it says what the supervisor does (a step that runs
// is kStepping whatever came before).
bool MoveVmState(VmState& state, VmState to, std::string_view vm_id);

}  // namespace strato::hostd
