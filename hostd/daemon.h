// The host daemon: one libuv loop that registers the host, fetches its desired state, follows
// its VMs' events from the position that state is consistent at, heartbeats, supervises one
// VMM process per VM (spawned detached, so they outlive hostd; adopted again at start) and
// reconciles each VM level-triggered (reconcile.h) on libuv worker threads, reporting what it
// observes. Everything in the Daemon runs on its loop thread; the hypervisor is borrowed and
// must be thread-safe (hypervisor.h). RunDaemon returns when SIGTERM or SIGINT has stopped it:
// VMs are left running.
#pragma once

#include "core/status.h"
#include "hostd/config.h"
#include "hostd/hypervisor/hypervisor.h"

namespace strato::hostd {

// Runs until SIGTERM/SIGINT. A non-OK Status for what cannot work (the loop cannot start).
Status RunDaemon(const HostdConfig& config, Hypervisor& hypervisor);

}  // namespace strato::hostd
