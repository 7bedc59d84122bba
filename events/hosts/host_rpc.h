// The control plane's side of the host protocol (schema/host_protocol.md). HostControl holds the
// logic without NATS: register, desired, report and heartbeat handlers that take a host id and
// a JSON payload and return the JSON reply, and the liveness monitor (CheckLiveness) that marks
// silent hosts unreachable and their VMs unknown. HostRpcService wires HostControl to NATS
// (queue subscriptions on strato.rpc.host.*.<verb> and strato.host.*.heartbeat). Every
// `strato serve` instance answers host requests (RunHostRequests: register, desired, report, in
// one queue group, so a leader change never makes hosts wait); the leader alone hears
// heartbeats and watches liveness (RunHostControlPlane with serve_requests off), so exactly one
// monitor marks hosts unreachable.
//
// Hosts are not trusted with the control plane's health (schema/host_protocol.md, "Limits"):
// every payload is decoded under a size and depth cap with every field bounded; HostRpcService
// puts each host's messages in a bounded queue of its own and a small worker pool serves the
// hosts round-robin, one message of a host at a time, so a host flooding messages waits behind
// itself only; a full queue is answered at once with `unavailable`.
//
// Threading: HostControl is thread-safe (handlers run on HostRpcService's workers, the monitor
// on the caller's thread). The store and the connection are borrowed and must outlive the
// objects using them. NATS comes through the bus library (events/bus/nats_bus.h) only.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "events/bus/nats_bus.h"
#include "events/commands/domain_commands.h"
#include "events/hosts/host_protocol.h"
#include "events/pg/pg.h"

namespace strato::events {

struct HostControlOptions {
  std::string database_url;  // the read models (host_desired_vms, vms, hosts)
  // Used for hosts that have not said how often they heartbeat (and right after start-up).
  std::chrono::milliseconds default_heartbeat_interval{5000};
  int missed_heartbeats = 3;  // intervals without a word before a host is unreachable
  std::chrono::milliseconds desired_wait{5000};  // bound on waiting for min_position
  const Clock* clock = nullptr;                  // null: the system clock
  // Told of every command the host RPC runs (registrations, reports, liveness), e.g. for the
  // web stack's metrics; may be empty.
  DomainCommands::Observer observer;
  // Reads a host's desired state (after the request was validated). Empty: the read model at
  // database_url (HostControl::ReadDesired). Tests and the fuzz target give one without
  // PostgreSQL.
  std::function<Result<DesiredReply>(const std::string& host_id, const DesiredRequest& request)>
      desired_reader;
};

class HostControl {
 public:
  HostControl(EventStore& store, HostControlOptions options);
  ~HostControl();
  HostControl(const HostControl&) = delete;
  HostControl& operator=(const HostControl&) = delete;

  std::string HandleRegister(const std::string& host_id, std::string_view payload);
  std::string HandleDesired(const std::string& host_id, std::string_view payload);
  std::string HandleReport(const std::string& host_id, std::string_view payload);
  void HandleHeartbeat(const std::string& host_id, std::string_view payload);

  // Starts the clock for every host the read model says is reachable, as if each had just
  // been heard from (a new leader gives hosts a full grace period).
  Status SeedFromReadModel();
  // As if every known host had just been heard from (after the bus itself was down).
  void ForgiveSilence();
  // Marks hosts not heard from for missed_heartbeats intervals unreachable, and their VMs'
  // observed state unknown. Returns the ids of the hosts it marked.
  Result<std::vector<std::string>> CheckLiveness();

  // The desired state of a host as a reply (also used by tests directly).
  Result<DesiredReply> ReadDesired(const std::string& host_id, const DesiredRequest& request);

  // Logs that a message of `host_id` was refused (at most one line per host a second, with a
  // count of those not logged since), so that a flood of bad messages cannot flood the log.
  void LogRefused(const std::string& host_id, std::string_view verb, const Status& why);

 private:
  struct Liveness {
    TimePoint last_heard;
    std::chrono::milliseconds interval{0};
    bool confirmed_reachable = false;  // we know the log says reachable
  };
  // Records that the host spoke; marks it reachable in the log when it was not known to be.
  void Heard(const std::string& host_id, int64_t interval_ms);
  Status MarkVmsUnknown(const std::string& host_id, const std::string& why);

  Result<std::unique_ptr<PgConnection>> TakeConnection();
  void ReturnConnection(std::unique_ptr<PgConnection> conn);

  EventStore& store_;
  HostControlOptions options_;
  const Clock& clock_;
  DomainCommands commands_;

  std::mutex mu_;  // guards liveness_ and pool_
  std::map<std::string, Liveness> liveness_;
  std::vector<std::unique_ptr<PgConnection>> pool_;

  struct Refusals {
    std::chrono::steady_clock::time_point logged;
    int64_t unlogged = 0;
  };
  std::mutex refused_mu_;  // guards refused_
  std::map<std::string, Refusals> refused_;
};

// How HostRpcService queues and serves host messages.
struct HostRpcLimits {
  int workers = 4;                  // threads running handlers
  size_t host_queue = 16;           // messages of one host waiting; more are refused
  size_t backlog = 4096;            // messages of all hosts waiting; more are refused
  size_t backlog_bytes = 64 << 20;  // their payload bytes; more are refused
  // nats.c's pending limits on each subscription (messages handed to no callback yet). The
  // callbacks only queue, so these are reached only if the process cannot keep up at all.
  int nats_pending_msgs = 65536;
  int nats_pending_bytes = 128 << 20;
};

// Which host traffic a HostRpcService takes.
enum class HostTraffic {
  kAll,         // requests and heartbeats
  kRequests,    // register, desired, report (any instance; a queue group shares them)
  kHeartbeats,  // heartbeats only (the liveness monitor's instance)
};

// NATS request/reply and heartbeat subscriptions feeding a HostControl. Destroying it
// unsubscribes and waits until no handler runs.
class HostRpcService {
 public:
  static Result<std::unique_ptr<HostRpcService>> Start(NatsConnection& conn, HostControl& control,
                                                       HostRpcLimits limits = {},
                                                       HostTraffic traffic = HostTraffic::kAll);
  ~HostRpcService();
  HostRpcService(const HostRpcService&) = delete;
  HostRpcService& operator=(const HostRpcService&) = delete;

  struct Impl;

 private:
  explicit HostRpcService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct HostControlPlaneOptions {
  std::string nats_url;
  HostControlOptions control;
  std::chrono::milliseconds check_every{500};
  // Whether this control plane answers host requests too. `strato serve` turns it off in its
  // leader, because every instance answers them (RunHostRequests).
  bool serve_requests = true;
};

// Connects to NATS (retrying), hears heartbeats (and host requests when serve_requests) and
// runs the liveness monitor until `stop`. Returns early only for what retrying cannot fix.
Status RunHostControlPlane(EventStore& store, HostControlPlaneOptions options,
                           const std::atomic<bool>& stop);

// Connects to NATS (retrying) and answers host requests (register, desired, report) until
// `stop`, in the queue group every `strato serve` instance shares. No liveness: that is the
// leader's (RunHostControlPlane).
Status RunHostRequests(EventStore& store, HostControlPlaneOptions options,
                       const std::atomic<bool>& stop);

}  // namespace strato::events
