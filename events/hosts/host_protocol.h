// The host protocol (schema/host_protocol.md): the JSON messages hostd and the control plane
// exchange on strato.rpc.host.<id>.<verb> and strato.host.<id>.heartbeat, as plain structs with
// encoders and decoders. Pure values and functions: thread-safe, no I/O.
//
// Every decoder reads untrusted bytes (a host's NATS credentials are enough to send them): it
// checks the message's size and nesting depth before parsing, parses without recursion, and
// bounds or clamps every field (the limits below; schema/host_protocol.md, "Limits").
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace strato::events {

// Subjects.
std::string HostRpcSubject(std::string_view host_id, std::string_view verb);
std::string HostHeartbeatSubject(std::string_view host_id);
// "a host id is 1-64 letters, digits, '-' or '_'": a single NATS token and a stream id suffix.
Status ValidateHostId(std::string_view host_id);
// "a VM id is 1-64 letters, digits, '-' or '_'" (a VM id is a token of its events' subjects).
Status ValidateVmIdToken(std::string_view vm_id);

// --- Limits on what a host sends (the control plane refuses more; hostd stays within them).
// Brackets ('[' or '{') open at once; the deepest message of the protocol needs 3.
inline constexpr int kMaxHostJsonDepth = 8;
inline constexpr size_t kMaxRegistrationBytes = 16 * 1024;
inline constexpr size_t kMaxHeartbeatBytes = 4 * 1024;
inline constexpr size_t kMaxDesiredRequestBytes = 128 * 1024;
inline constexpr size_t kMaxReportBytes = 1024 * 1024;  // nats-server's default max_payload
inline constexpr size_t kMaxDesiredVmIds = 1024;
inline constexpr size_t kMaxReportsPerMessage = 200;
inline constexpr size_t kMaxReportErrorBytes = 4096;  // domain::kMaxVmErrorBytes
// heartbeat_interval_ms / interval_ms outside this range are clamped into it (0: not said).
inline constexpr int64_t kMinHeartbeatIntervalMs = 100;
inline constexpr int64_t kMaxHeartbeatIntervalMs = 3600 * 1000;
// Replies of the control plane, read by hostd (a desired reply lists every VM of the host).
inline constexpr size_t kMaxHostReplyBytes = 64 * 1024 * 1024;

// An error text as a report may carry it: invalid UTF-8 bytes replaced by '?', cut at a
// character boundary to at most kMaxReportErrorBytes (a VMM's text is reported verbatim
// otherwise).
std::string BoundedReportError(std::string_view text);

// The byte limit of a message from a host by its verb ("register", "desired", "report",
// "heartbeat"); 0 for a verb the protocol does not have.
size_t HostMessageByteLimit(std::string_view verb);
// The checks every decoder makes before parsing: at most `max_bytes` bytes and at most
// kMaxHostJsonDepth brackets open at once (counted outside strings, in one pass, no recursion).
// `what` names the message in the sentence ("a heartbeat").
Status CheckHostJsonShape(std::string_view json, size_t max_bytes, std::string_view what);

struct HostRegistration {
  std::string name;
  std::string address;
  int64_t cpu_count = 0;
  int64_t memory_mb = 0;
  int64_t disk_gb = 0;
  std::string hypervisor_kind;
  std::string hypervisor_version;
  int64_t heartbeat_interval_ms = 0;
  // Added later; a registration without them (an older hostd) means "", 1 and 1.
  std::string accelerator;              // "kvm", "tcg"; "" when not said
  int64_t cpu_allocation_ratio = 1;     // N:1, 1 to domain::kMaxCpuAllocationRatio
  int64_t memory_allocation_ratio = 1;  // N:1, 1 to domain::kMaxMemoryAllocationRatio
};

struct DesiredRequest {
  std::vector<std::string> vm_ids;  // empty: every VM on the host
  int64_t min_position = 0;
};

struct DesiredVm {
  std::string vm_id;
  std::string name;
  std::string image;
  int64_t cpu_count = 1;
  int64_t memory_mb = 512;
  int64_t disk_gb = 1;
  std::string desired;  // running, stopped, paused, deleted
  int64_t generation = 0;
  std::string last_action;
  bool force = false;
  int64_t position = 0;
};

struct DesiredReply {
  int64_t position = 0;
  std::vector<DesiredVm> vms;
};

struct VmReport {
  std::string vm_id;
  std::string state;
  int64_t generation = 0;
  std::optional<std::string> error;
};

struct VmReportResult {
  std::string vm_id;
  Status status;
  bool appended = false;
  int64_t position = 0;
};

struct Heartbeat {
  std::string sent_at;
  int64_t interval_ms = 0;
  int64_t vms = 0;
  int64_t vms_running = 0;
  double load1 = 0, load5 = 0, load15 = 0;
  int64_t memory_available_mb = 0;
  int64_t uptime_s = 0;
};

std::string EncodeRegistration(const HostRegistration& r);
Result<HostRegistration> DecodeRegistration(std::string_view json);
std::string EncodeDesiredRequest(const DesiredRequest& r);
Result<DesiredRequest> DecodeDesiredRequest(std::string_view json);
std::string EncodeDesiredReply(const DesiredReply& r);
Result<DesiredReply> DecodeDesiredReply(std::string_view json);
std::string EncodeReports(const std::vector<VmReport>& reports);
Result<std::vector<VmReport>> DecodeReports(std::string_view json);
std::string EncodeReportResults(const std::vector<VmReportResult>& results);
Result<std::vector<VmReportResult>> DecodeReportResults(std::string_view json);
std::string EncodeHeartbeat(const Heartbeat& h);
Result<Heartbeat> DecodeHeartbeat(std::string_view json);

// {"ok": false, "code": ..., "error": ...}
std::string EncodeErrorReply(const Status& s);
// {"ok": true, "position": N}
std::string EncodeOkPosition(int64_t position);
// The Status of a reply: Ok when "ok" is true, else the code and error it carries.
Status ReplyStatus(std::string_view json);
// The "position" of an ok reply (register).
Result<int64_t> DecodeOkPosition(std::string_view json);

// Code <-> its name in replies ("invalid_argument").
std::string CodeWireName(Code code);
Code CodeFromWireName(std::string_view name);

}  // namespace strato::events
