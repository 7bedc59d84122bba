#include "hostd/control_link.h"

#include <stdlib.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <rapidjson/document.h>

#include <algorithm>
#include <vector>

#include "core/log.h"
#include "events/bus/nats_bus.h"
#include "events/log/event.h"
#include "hostd/nats_permissions.h"
#include "hostd/uv_status.h"

namespace strato::hostd {

using std::chrono::milliseconds;

constexpr milliseconds kRpcTimeout{10000};
constexpr size_t kReportBatch = events::kMaxReportsPerMessage;
constexpr size_t kFetchBatch = 100;
// Asking again without a failure: a fetched row older than the event that asked for it, a
// report accepted after the log had said otherwise.
constexpr milliseconds kAskAgain{200};
// A failed registration is logged once per outage, then every this many attempts: a control
// plane that is not up yet is ordinary at start-up.
constexpr int kRegisterLogEvery = 30;

struct VmEvent {
  std::string vm_id;
  std::string type;
  int64_t position = 0;
  rapidjson::Document data;  // an object

  std::string Str(const char* k) const {
    auto it = data.FindMember(k);
    return it != data.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
  }
  int64_t Num(const char* k) const {
    auto it = data.FindMember(k);
    return it != data.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : 0;
  }
};

namespace {

// Errors compare as reported (bounded): the log holds the bounded text.
bool SameReport(const events::VmReport& a, const events::VmReport& b) {
  if (a.state != b.state || a.generation != b.generation) return false;
  if (a.error.has_value() != b.error.has_value()) return false;
  return !a.error || *a.error == *b.error ||
         events::BoundedReportError(*a.error) == events::BoundedReportError(*b.error);
}

// A VM event (stream "vm-<id>") with an object for data; nullopt for anything else.
std::optional<VmEvent> DecodeVmEvent(const std::string& payload) {
  auto e = events::FromJsonLine(payload);
  if (!e.ok()) {
    log::Warn("an event on the bus does not decode", {{"error", e.status().message()}});
    return std::nullopt;
  }
  if (e->stream_id.rfind("vm-", 0) != 0) return std::nullopt;
  std::optional<VmEvent> out(std::in_place);
  out->vm_id = e->stream_id.substr(3);
  out->type = e->type;
  out->position = e->position;
  out->data.Parse(e->data.c_str());
  if (!out->data.IsObject()) return std::nullopt;
  return out;
}

// What a command event changes in a VM's desired row; false for an event that changes nothing
// hostd acts on.
bool ChangeDesired(const VmEvent& e, events::DesiredVm& d) {
  auto set = [&](const char* desired, const char* action) {
    d.desired = desired;
    d.last_action = action;
    d.generation = e.Num("generation");
  };
  if (e.type == "VmStartRequested") {
    set("running", "start");
  } else if (e.type == "VmResumeRequested") {
    set("running", "resume");
  } else if (e.type == "VmRestartRequested") {
    set("running", "restart");
  } else if (e.type == "VmStopRequested") {
    set("stopped", "stop");
    auto f = e.data.FindMember("force");
    d.force = f != e.data.MemberEnd() && f->value.IsBool() && f->value.GetBool();
  } else if (e.type == "VmPauseRequested") {
    set("paused", "pause");
  } else if (e.type == "VmDeleteRequested") {
    set("deleted", "delete");
  } else if (e.type == "VmResized") {
    d.cpu_count = e.Num("cpu_count");
    d.memory_mb = e.Num("memory_mb");
    d.disk_gb = e.Num("disk_gb");
    d.generation = e.Num("generation");
    d.last_action = "resize";
  } else if (e.type == "VmRenamed") {
    d.name = e.Str("name");
  } else {
    return false;
  }
  return true;
}

}  // namespace

ControlLink::ControlLink(const HostdConfig& config, const Hypervisor& hv, uv_loop_t* loop,
                         WorkQueue& work, Supervisor& supervisor, const SteadyClock& steady,
                         const Clock& wall)
    : config_(config),
      hv_(hv),
      loop_(loop),
      work_(work),
      supervisor_(supervisor),
      steady_(steady),
      wall_(wall) {}

Status ControlLink::Connect() {
  events::NatsLinkOptions no;
  no.url = config_.nats_url;
  no.name = "strato-hostd " + config_.host_id;
  no.user = config_.nats_user;
  no.password = config_.nats_password;
  no.inbox_prefix = HostInboxPrefix(config_.host_id);
  for (int attempt = 0;; ++attempt) {
    auto link = events::NatsLink::Connect(loop_, no);
    if (link.ok()) {
      nats_ = std::move(*link);
      break;
    }
    if (attempt % 10 == 0) {
      log::Warn("cannot reach NATS yet; retrying", {{"error", link.status().message()}});
    }
    usleep(500 * 1000);
  }
  inbox_async_.data = this;
  STRATO_RETURN_IF_ERROR(
      UvStatus(uv_async_init(loop_, &inbox_async_,
                             [](uv_async_t* a) { static_cast<ControlLink*>(a->data)->OnInbox(); }),
               "starting the event inbox"));
  inbox_open_ = true;
  return Status::Ok();
}

void ControlLink::Close() {
  if (nats_) nats_->Close();
  if (inbox_open_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&inbox_async_), nullptr);
    inbox_open_ = false;
  }
}

bool ControlLink::ReleaseFollow() {
  if (!follow_) return false;
  // Unsubscribing waits for the delivery thread: off the loop.
  auto f = std::make_shared<std::unique_ptr<events::NatsFollow>>(std::move(follow_));
  work_.Run([f] { f->reset(); }, [] {});
  return true;
}

// ---------------------------------------------------------------------------------------------
// Register, fetch, follow.

void ControlLink::StartRegister() {
  if (stopping_ || !register_.Due(steady_.Now())) return;
  register_.Start();
  events::HostRegistration reg;
  reg.name = config_.host_name;
  reg.address = config_.address;
  reg.cpu_count = config_.cpu_count;
  reg.memory_mb = config_.memory_mb;
  reg.disk_gb = config_.disk_gb;
  // Kind() is "<kind> <version>" ("qemu 7.2.19"), or the kind alone while the driver has not
  // learned its version (Cloud Hypervisor's comes from a VMM's vmm.ping): then the version
  // main.cpp read from the binary at start, else "unknown".
  const std::string kind = hv_.Kind();
  size_t space = kind.find(' ');
  reg.hypervisor_kind = kind.substr(0, space);
  reg.hypervisor_version = space != std::string::npos            ? kind.substr(space + 1)
                           : !config_.hypervisor_version.empty() ? config_.hypervisor_version
                                                                 : "unknown";
  reg.accelerator = config_.accelerator;
  reg.cpu_allocation_ratio = config_.cpu_allocation_ratio;
  reg.memory_allocation_ratio = config_.memory_allocation_ratio;
  reg.heartbeat_interval_ms = config_.heartbeat_interval.count();
  auto reply = std::make_shared<Result<std::string>>(Status::Internal("not sent"));
  events::NatsLink* nats = nats_.get();
  std::string subject = events::HostRpcSubject(config_.host_id, "register");
  std::string body = events::EncodeRegistration(reg);
  work_.Run(
      [nats, subject, body, reply] { *reply = nats->Request(subject, body, kRpcTimeout); },
      [this, reply] {
        Result<int64_t> p = reply->ok() ? events::DecodeOkPosition(**reply) : reply->status();
        if (!p.ok()) {
          register_.Failed(steady_.Now());
          if ((register_.failures() - 1) % kRegisterLogEvery == 0) {
            log::Warn("registering the host failed; will retry", {{"error", p.status().message()}});
          }
          return;
        }
        register_.Succeeded();
        log::Info("host registered", {{"host_id", config_.host_id}});
        registered_ = true;
        StartFullFetch();
      });
}

void ControlLink::StartFullFetch() {
  if (stopping_ || !registered_ || !full_fetch_.Due(steady_.Now())) return;
  full_fetch_.Start();
  auto reply = std::make_shared<Result<std::string>>(Status::Internal("not sent"));
  events::NatsLink* nats = nats_.get();
  std::string subject = events::HostRpcSubject(config_.host_id, "desired");
  work_.Run([nats, subject, reply] { *reply = nats->Request(subject, "{}", kRpcTimeout); },
            [this, reply] {
              Result<events::DesiredReply> r =
                  reply->ok() ? events::DecodeDesiredReply(**reply) : reply->status();
              if (!r.ok()) {
                // Again at the next tick while there is no snapshot, else at the next resync.
                full_fetch_.Failed(steady_.Now());
                log::Warn("fetching the desired state failed; will retry",
                          {{"error", r.status().message()}});
                if (r.status().code() == Code::kNotFound) registered_ = false;
                return;
              }
              full_fetch_.Succeeded();
              if (!have_snapshot_) {
                position_ = r->position;
                have_snapshot_ = true;
                log::Info("desired state fetched", {{"vms", static_cast<int64_t>(r->vms.size())},
                                                    {"position", r->position}});
              }
              for (const auto& row : r->vms) supervisor_.ApplyRow(row);
              supervisor_.Resynced();
              if (!follow_) StartFollow();
            });
}

void ControlLink::StartFollow() {
  if (follow_ || stopping_ || !have_snapshot_) return;
  if (!follow_request_.Due(steady_.Now())) return;
  follow_request_.Start();
  auto out =
      std::make_shared<Result<std::unique_ptr<events::NatsFollow>>>(Status::Internal("not run"));
  events::NatsLink* nats = nats_.get();
  int64_t after = position_;
  std::string filter = events::VmEventsSubjectForHost(config_.host_id);
  ControlLink* self = this;
  work_.Run(
      [nats, filter, after, out, self] {
        *out = nats->Follow(
            events::kEventStreamName, filter, after, [self](int64_t seq, std::string payload) {
              {
                std::lock_guard<std::mutex> lock(self->inbox_mu_);
                self->inbox_.emplace_back(seq, std::move(payload));
              }
              Status woke = UvStatus(uv_async_send(&self->inbox_async_), "waking the loop");
              // Only while the loop closes: the next resync heals it.
              if (!woke.ok()) log::Warn("event not handed over", {{"error", woke.message()}});
            });
      },
      [this, out, after] {
        if (!out->ok()) {
          follow_request_.Failed(steady_.Now());
          log::Warn("following the host's events failed; will retry",
                    {{"error", out->status().message()}});
          return;
        }
        follow_request_.Succeeded();
        follow_ = std::move(**out);
        // Stopping: the daemon, called after every piece of work, unsubscribes it again.
        if (stopping_) return;
        log::Info("following the host's VM events", {{"after", after}});
      });
}

void ControlLink::OnInbox() {
  std::deque<std::pair<int64_t, std::string>> batch;
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    batch.swap(inbox_);
  }
  for (auto& [seq, payload] : batch) ApplyEvent(seq, payload);
}

// ---------------------------------------------------------------------------------------------
// Events.

void ControlLink::ApplyEvent(int64_t sequence, const std::string& payload) {
  if (!Advance(sequence)) return;
  std::optional<VmEvent> e = DecodeVmEvent(payload);
  if (!e) return;
  if (e->type == "VmObserved") {
    ApplyObserved(*e);
  } else {
    ApplyDesiredChange(*e);
  }
}

// Skips what the snapshot (or an earlier message) already holds; false to skip.
bool ControlLink::Advance(int64_t sequence) {
  if (sequence > 0 && sequence <= position_) return false;  // at or before the snapshot
  if (sequence > 0) position_ = sequence;
  return true;
}

// What the log says was observed: kept, to check the next accepted report against; when it is
// not what hostd sees, hostd says its own view again.
void ControlLink::ApplyObserved(const VmEvent& e) {
  const VmRecord* vm = supervisor_.Find(e.vm_id);
  if (vm == nullptr) return;
  events::VmReport seen{e.vm_id, e.Str("state"), e.Num("generation"), std::nullopt};
  auto err = e.data.FindMember("error");
  if (err != e.data.MemberEnd() && err->value.IsString()) seen.error = err->value.GetString();
  Ledger& ledger = ledger_[e.vm_id];
  ledger.logged = seen;
  ledger.logged_position = e.position;
  if (!vm->observation || !vm->has_desired()) return;
  if (SameReport(*vm->observation, seen)) {
    ledger.reported = seen;
    return;
  }
  // The log says something other than what hostd sees: the liveness monitor's "unknown", or
  // an older report of ours arriving late. Say it again (a report already queued, or the
  // one the running step ends with, goes out because `reported` no longer matches).
  ledger.reported.reset();
  if (pending_reports_.count(e.vm_id) || vm->state == VmState::kStepping) return;
  Report(*vm->observation);
}

// A command's event: the VM's desired row changes, and the supervisor acts on it at once. A VM
// not known yet (or newly placed here) has its row fetched instead.
void ControlLink::ApplyDesiredChange(const VmEvent& e) {
  const VmRecord* vm = supervisor_.Find(e.vm_id);
  if (vm == nullptr || !vm->has_desired() || e.type == "VmScheduled") {
    QueueFetch(e.vm_id, e.position);
    return;
  }
  if (e.position <= vm->desired.position) return;  // the row already holds it
  events::DesiredVm row = vm->desired;
  if (!ChangeDesired(e, row)) return;
  row.position = e.position;
  supervisor_.ApplyRow(row);
}

void ControlLink::QueueFetch(const std::string& vm_id, int64_t min_position) {
  int64_t& p = pending_fetch_[vm_id];
  if (min_position > p) p = min_position;
  FlushFetches();
}

void ControlLink::FlushFetches() {
  if (pending_fetch_.empty() || !registered_ || stopping_) return;
  if (!fetch_.Due(steady_.Now())) return;
  events::DesiredRequest req;
  auto asked = std::make_shared<std::map<std::string, int64_t>>();
  while (!pending_fetch_.empty() && req.vm_ids.size() < kFetchBatch) {
    auto it = pending_fetch_.begin();
    req.vm_ids.push_back(it->first);
    req.min_position = std::max(req.min_position, it->second);
    asked->insert(*it);
    pending_fetch_.erase(it);
  }
  fetch_.Start();
  auto reply = std::make_shared<Result<std::string>>(Status::Internal("not sent"));
  events::NatsLink* nats = nats_.get();
  std::string subject = events::HostRpcSubject(config_.host_id, "desired");
  std::string body = events::EncodeDesiredRequest(req);
  work_.Run(
      [nats, subject, body, reply] { *reply = nats->Request(subject, body, kRpcTimeout); },
      [this, asked, reply] {
        Result<events::DesiredReply> r =
            reply->ok() ? events::DecodeDesiredReply(**reply) : reply->status();
        if (!r.ok()) {
          fetch_.Failed(steady_.Now());  // before queueing again: they wait for the back-off
          log::Warn("fetching desired VMs failed; will retry", {{"error", r.status().message()}});
          for (const auto& [id, p] : *asked) QueueFetch(id, p);
          return;
        }
        fetch_.Succeeded();
        for (const auto& row : r->vms) supervisor_.ApplyRow(row);
        for (const auto& [id, p] : *asked) {
          if (r->position < p) {
            pending_fetch_[id] = std::max(pending_fetch_[id], p);
            fetch_.RetryAfter(steady_.Now(), kAskAgain);
          }
        }
        FlushFetches();
      });
}

// ---------------------------------------------------------------------------------------------
// Reports and heartbeats.

void ControlLink::Report(events::VmReport report) {
  // The control plane refuses a batch with an error text it cannot take (host_protocol.md).
  if (report.error) report.error = events::BoundedReportError(*report.error);
  const Ledger& ledger = ledger_[report.vm_id];
  if (ledger.reported && SameReport(*ledger.reported, report)) {
    pending_reports_.erase(report.vm_id);
    return;
  }
  std::string id = report.vm_id;
  pending_reports_[id] = std::move(report);
  FlushReports();
}

void ControlLink::FlushReports() {
  if (pending_reports_.empty() || !registered_ || stopping_) return;
  if (!report_.Due(steady_.Now())) return;
  auto batch = std::make_shared<std::vector<events::VmReport>>();
  while (!pending_reports_.empty() && batch->size() < kReportBatch) {
    batch->push_back(std::move(pending_reports_.begin()->second));
    pending_reports_.erase(pending_reports_.begin());
  }
  report_.Start();
  auto reply = std::make_shared<Result<std::string>>(Status::Internal("not sent"));
  events::NatsLink* nats = nats_.get();
  std::string subject = events::HostRpcSubject(config_.host_id, "report");
  work_.Run(
      [nats, subject, batch, reply] {
        *reply = nats->Request(subject, events::EncodeReports(*batch), kRpcTimeout);
      },
      [this, batch, reply] {
        // A newer report of the same VM queued meanwhile wins over one sent again.
        auto requeue = [this](const events::VmReport& r) {
          if (!pending_reports_.count(r.vm_id)) pending_reports_[r.vm_id] = r;
        };
        Result<std::vector<events::VmReportResult>> results =
            reply->ok() ? events::DecodeReportResults(**reply) : reply->status();
        if (!results.ok()) {
          report_.Failed(steady_.Now());
          log::Warn("reporting failed; will retry", {{"error", results.status().message()}});
          for (const auto& r : *batch) requeue(r);
          return;
        }
        report_.Succeeded();
        for (size_t i = 0; i < batch->size(); ++i) {
          const events::VmReport& sent = (*batch)[i];
          Ledger& ledger = ledger_[sent.vm_id];
          if (i < results->size() && !(*results)[i].status.ok()) {
            const Status& s = (*results)[i].status;
            if (s.code() == Code::kUnavailable || s.code() == Code::kConflict ||
                s.code() == Code::kInternal) {
              requeue(sent);
              report_.RetryAfter(steady_.Now(), report_.Backoff());  // as after a failure
            } else {
              log::Warn("a report was refused", {{"vm_id", sent.vm_id}, {"error", s.message()}});
              ledger.reported = sent;  // do not insist on what the control plane refuses
            }
            continue;
          }
          // Accepted, unless the log has since said otherwise (then say it again).
          const events::VmReportResult* res = i < results->size() ? &(*results)[i] : nullptr;
          if (res != nullptr && ledger.logged && ledger.logged_position > res->position &&
              !SameReport(*ledger.logged, sent)) {
            requeue(sent);
            report_.RetryAfter(steady_.Now(), kAskAgain);
            continue;
          }
          ledger.reported = sent;
        }
        FlushReports();
      });
}

void ControlLink::OnHeartbeat() {
  if (stopping_ || !registered_) return;
  events::Heartbeat hb;
  hb.sent_at = FormatRfc3339(wall_.Now());
  hb.interval_ms = config_.heartbeat_interval.count();
  Supervisor::Counts counts = supervisor_.Count();
  hb.vms = counts.vms;
  hb.vms_running = counts.running;
  double loads[3] = {0, 0, 0};
  if (getloadavg(loads, 3) == 3) {
    hb.load1 = loads[0];
    hb.load5 = loads[1];
    hb.load15 = loads[2];
  }
  struct sysinfo si {};
  if (sysinfo(&si) == 0) {
    hb.memory_available_mb =
        static_cast<int64_t>(si.freeram) * static_cast<int64_t>(si.mem_unit) / (1024 * 1024);
    hb.uptime_s = si.uptime;
  }
  Status s = nats_->Publish(events::HostHeartbeatSubject(config_.host_id), EncodeHeartbeat(hb));
  if (!s.ok()) log::Debug("heartbeat not sent", {{"error", s.message()}});
}

void ControlLink::OnResync() {
  if (stopping_ || !have_snapshot_) return;
  StartFullFetch();
}

void ControlLink::OnTick() {
  if (stopping_) return;
  if (!registered_) {
    StartRegister();  // when its retry is due
    return;
  }
  if (!have_snapshot_) StartFullFetch();
  if (have_snapshot_ && !follow_) StartFollow();
  FlushReports();
  FlushFetches();
}

}  // namespace strato::hostd
