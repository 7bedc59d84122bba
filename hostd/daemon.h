// The host daemon: one libuv loop running two parts. The control link (control_link.h)
// registers the host, fetches its desired state, follows its VMs' events from the position that
// state is consistent at, heartbeats and sends the reports. The supervisor (supervisor.h) keeps
// one VMM process per VM (spawned detached, so they outlive hostd; adopted again at start) and
// reconciles each VM level-triggered (reconcile.h) on libuv worker threads. The daemon wires
// them to the loop: the timers (tick, heartbeat, resync) and the signals. Everything runs on the
// loop thread; the hypervisor is borrowed and must be thread-safe (hypervisor.h). RunDaemon
// returns when SIGTERM or SIGINT has stopped it: VMs are left running.
#pragma once

#include "core/clock.h"
#include "core/status.h"
#include "hostd/clock.h"
#include "hostd/config.h"
#include "hostd/hypervisor/hypervisor.h"

namespace strato::hostd {

// Where the daemon reads time: steady time for back-offs, retries and a VMM's age; wall-clock
// time for heartbeats and a graceful stop's deadline (kept on disk). Borrowed; thread-safe.
struct DaemonClocks {
  const SteadyClock* steady = &SystemSteadyClock::Instance();
  const Clock* wall = &SystemClock::Instance();
};

// Runs until SIGTERM/SIGINT. A non-OK Status for what cannot work (the loop cannot start).
Status RunDaemon(const HostdConfig& config, Hypervisor& hypervisor, DaemonClocks clocks = {});

}  // namespace strato::hostd
