// The control link: hostd's side of the host protocol (schema/host_protocol.md) over NATS. It
// registers the host, fetches the whole desired state (position P), follows
// strato.events.vm.<host-id>.> from P + 1 and applies each event to the desired rows (fetching
// the row of a VM it does not know yet, batched), heartbeats, refetches everything at each
// resync, and batches, deduplicates and retries the supervisor's reports. Each request is a
// RetryingRequest (retry.h): one in flight, retried after a wait. NATS requests block, so they
// run off the loop (WorkQueue); the consumer's messages arrive on nats.c's delivery thread and
// are handed to the loop through a uv_async_t. Everything else runs on the loop thread.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "core/clock.h"
#include "core/status.h"
#include "events/bus/nats_link.h"
#include "events/hosts/host_protocol.h"
#include "hostd/clock.h"
#include "hostd/config.h"
#include "hostd/hypervisor/hypervisor.h"
#include "hostd/retry.h"
#include "hostd/supervisor.h"
#include "hostd/work_queue.h"

namespace strato::hostd {

struct VmEvent;  // one VM event from the bus, decoded (control_link.cpp)

class ControlLink {
 public:
  // The hypervisor only for its Kind() ("cloud-hypervisor 43.0", once a VMM has answered),
  // registered with the host.
  ControlLink(const HostdConfig& config, const Hypervisor& hv, uv_loop_t* loop, WorkQueue& work,
              Supervisor& supervisor, const SteadyClock& steady, const Clock& wall);
  ControlLink(const ControlLink&) = delete;
  ControlLink& operator=(const ControlLink&) = delete;

  // Before the loop runs: connects to NATS on the loop, retrying every 0.5 s until it answers;
  // then the event inbox. Non-OK only when libuv refuses the inbox.
  Status Connect();
  // Registers the host; the rest (fetch, follow) follows from the tick and the replies.
  void Start() { StartRegister(); }

  // A report from the supervisor: sent in the next batch unless the control plane already
  // holds the same.
  void Report(events::VmReport report);

  void OnTick();       // every 100 ms: retries that are due, pending reports and fetches
  void OnHeartbeat();  // every heartbeat interval
  void OnResync();     // every resync interval: the whole desired state again

  // Registered, and not told since that the control plane does not know the host.
  bool registered() const { return registered_; }

  // Stopping: no request is started any more.
  void Stop() { stopping_ = true; }
  // Hands the consumer to a worker thread to unsubscribe (it waits for the delivery thread);
  // true when it did, and the daemon waits for that work to come back.
  bool ReleaseFollow();
  // The end (the loop's last turn): closes the NATS connection and the inbox handle.
  void Close();
  // After the loop has stopped: the connection is left to the process exit (destroying it after
  // its loop has stopped would wait on the adapter's handles).
  void Abandon() { (void)nats_.release(); }

 private:
  // What the control plane holds of a VM's reports.
  struct Ledger {
    std::optional<events::VmReport> reported;  // what it last accepted
    std::optional<events::VmReport> logged;    // the last VmObserved seen on the bus
    int64_t logged_position = 0;
  };
  void StartRegister();
  void StartFullFetch();
  void StartFollow();
  void OnInbox();
  void QueueFetch(const std::string& vm_id, int64_t min_position);
  void FlushFetches();
  void FlushReports();

  // One event from the bus, in steps: skip what the snapshot holds, decode, then either what
  // the log says was observed or a change of the desired state.
  void ApplyEvent(int64_t sequence, const std::string& payload);
  bool Advance(int64_t sequence);
  void ApplyObserved(const VmEvent& e);
  void ApplyDesiredChange(const VmEvent& e);

  HostdConfig config_;
  const Hypervisor& hv_;
  uv_loop_t* loop_;
  WorkQueue& work_;
  Supervisor& supervisor_;
  const SteadyClock& steady_;
  const Clock& wall_;
  std::unique_ptr<events::NatsLink> nats_;
  std::unique_ptr<events::NatsFollow> follow_;
  uv_async_t inbox_async_{};
  bool inbox_open_ = false;

  std::mutex inbox_mu_;  // the only state shared with other threads
  std::deque<std::pair<int64_t, std::string>> inbox_;

  bool stopping_ = false;
  bool registered_ = false;
  bool have_snapshot_ = false;
  int64_t position_ = 0;  // the last bus sequence applied (or the snapshot's position)

  // Fixed waits (first == cap): the control plane is either back or not.
  RetryingRequest register_{std::chrono::milliseconds(1000), std::chrono::milliseconds(1000)};
  RetryingRequest full_fetch_{std::chrono::milliseconds(0), std::chrono::milliseconds(0)};
  RetryingRequest follow_request_{std::chrono::milliseconds(1000), std::chrono::milliseconds(1000)};
  RetryingRequest fetch_{std::chrono::milliseconds(500), std::chrono::milliseconds(500)};
  RetryingRequest report_{std::chrono::milliseconds(1000), std::chrono::milliseconds(1000)};

  std::map<std::string, int64_t> pending_fetch_;  // vm id -> the position its row must reach
  std::map<std::string, events::VmReport> pending_reports_;
  std::map<std::string, Ledger> ledger_;
};

}  // namespace strato::hostd
