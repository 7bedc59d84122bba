#include "events/host_rpc.h"

#include <nats/nats.h>

#include <condition_variable>
#include <thread>

#include "core/log.h"

namespace strato::events {
namespace {

constexpr const char* kQueueGroup = "strato-host-control";
// The projection that folds host_desired_vms (projections/host_projection.h; events/ does not
// include projections/).
constexpr const char* kHostProjection = "hosts";

std::string HostActor(const std::string& host_id) {
  return "host-" + host_id;
}

CommandContext HostContext(const std::string& host_id) {
  CommandContext ctx;
  ctx.actor = HostActor(host_id);
  return ctx;
}

CommandContext SystemContext() {
  CommandContext ctx;
  ctx.actor = "system";
  return ctx;
}

}  // namespace

HostControl::HostControl(EventStore& store, HostControlOptions options)
    : store_(store),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : SystemClock::Instance()),
      commands_(store, PipelineOptions{5, options_.clock}) {
  if (options_.observer) commands_.SetObserver(options_.observer);
}

HostControl::~HostControl() = default;

Result<std::unique_ptr<PgConnection>> HostControl::TakeConnection() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (!pool_.empty()) {
      std::unique_ptr<PgConnection> c = std::move(pool_.back());
      pool_.pop_back();
      if (c->Healthy()) return c;
    }
  }
  return PgConnection::Connect(options_.database_url);
}

void HostControl::ReturnConnection(std::unique_ptr<PgConnection> conn) {
  if (!conn || !conn->Healthy()) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (pool_.size() < 8) pool_.push_back(std::move(conn));
}

void HostControl::Heard(const std::string& host_id, int64_t interval_ms) {
  bool confirm = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Liveness& l = liveness_[host_id];
    l.last_heard = clock_.Now();
    if (interval_ms > 0) {
      l.interval = std::chrono::milliseconds(interval_ms);
    } else if (l.interval.count() == 0) {
      l.interval = options_.default_heartbeat_interval;
    }
    confirm = !l.confirmed_reachable;
  }
  if (!confirm) return;
  auto out = commands_.Host(HostContext(host_id), host_id, domain::MarkHostReachable{});
  if (!out.ok()) {
    if (out.status().code() != Code::kNotFound) {
      log::Warn("could not mark a host reachable",
                {{"host_id", host_id}, {"error", out.status().message()}});
    }
    return;
  }
  if (!out->events.empty()) log::Info("host reachable again", {{"host_id", host_id}});
  std::lock_guard<std::mutex> lock(mu_);
  liveness_[host_id].confirmed_reachable = true;
}

std::string HostControl::HandleRegister(const std::string& host_id, std::string_view payload) {
  Status valid = ValidateHostId(host_id);
  if (!valid.ok()) return EncodeErrorReply(valid);
  auto reg = DecodeRegistration(payload);
  if (!reg.ok()) return EncodeErrorReply(reg.status());
  domain::RegisterHost cmd;
  cmd.host_id = host_id;
  cmd.name = reg->name;
  cmd.address = reg->address;
  cmd.cpu_count = reg->cpu_count;
  cmd.memory_mb = reg->memory_mb;
  cmd.disk_gb = reg->disk_gb;
  cmd.hypervisor_kind = reg->hypervisor_kind;
  cmd.hypervisor_version = reg->hypervisor_version;
  auto out = commands_.Host(HostContext(host_id), host_id, cmd);
  if (!out.ok()) return EncodeErrorReply(out.status());
  if (!out->events.empty()) {
    log::Info("host registered", {{"host_id", host_id}, {"name", reg->name}});
  }
  Heard(host_id, reg->heartbeat_interval_ms);
  return EncodeOkPosition(out->position);
}

Result<DesiredReply> HostControl::ReadDesired(const std::string& host_id,
                                              const DesiredRequest& request) {
  auto conn = TakeConnection();
  if (!conn.ok()) return conn.status().WithContext("reading the desired state");
  PgConnection& c = **conn;
  PgArray ids;
  for (const auto& id : request.vm_ids) ids.Add(id);
  const auto deadline = std::chrono::steady_clock::now() + options_.desired_wait;
  for (;;) {
    STRATO_RETURN_IF_ERROR(c.Run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    DesiredReply reply;
    Status failed;
    auto pos =
        c.Exec("SELECT position FROM projection_checkpoints WHERE name = $1", {kHostProjection});
    if (!pos.ok()) {
      failed = pos.status();
    } else {
      reply.position = pos->rows() > 0 ? pos->GetInt64(0, 0) : 0;
      auto rows =
          request.vm_ids.empty()
              ? c.ExecPrepared("host_desired_all",
                               "SELECT vm_id, name, image, cpu_count, memory_mb, disk_gb, desired, "
                               "generation, last_action, force, position FROM host_desired_vms "
                               "WHERE host_id = $1 ORDER BY vm_id",
                               {host_id})
              : c.ExecPrepared("host_desired_some",
                               "SELECT vm_id, name, image, cpu_count, memory_mb, disk_gb, desired, "
                               "generation, last_action, force, position FROM host_desired_vms "
                               "WHERE host_id = $1 AND vm_id = ANY($2::text[]) ORDER BY vm_id",
                               {host_id, ids.Literal()});
      if (!rows.ok()) {
        failed = rows.status();
      } else {
        for (int i = 0; i < rows->rows(); ++i) {
          DesiredVm v;
          v.vm_id = std::string(rows->Get(i, 0));
          v.name = std::string(rows->Get(i, 1));
          v.image = std::string(rows->Get(i, 2));
          v.cpu_count = rows->GetInt64(i, 3);
          v.memory_mb = rows->GetInt64(i, 4);
          v.disk_gb = rows->GetInt64(i, 5);
          v.desired = std::string(rows->Get(i, 6));
          v.generation = rows->GetInt64(i, 7);
          v.last_action = std::string(rows->Get(i, 8));
          v.force = rows->Get(i, 9) == "t";
          v.position = rows->GetInt64(i, 10);
          reply.vms.push_back(std::move(v));
        }
      }
    }
    Status ended = c.Run(failed.ok() ? "COMMIT" : "ROLLBACK");
    if (!failed.ok()) return failed.WithContext("reading the desired state");
    STRATO_RETURN_IF_ERROR(ended);
    if (reply.position >= request.min_position || std::chrono::steady_clock::now() >= deadline) {
      ReturnConnection(std::move(*conn));
      return reply;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }
}

std::string HostControl::HandleDesired(const std::string& host_id, std::string_view payload) {
  Status valid = ValidateHostId(host_id);
  if (!valid.ok()) return EncodeErrorReply(valid);
  auto req = DecodeDesiredRequest(payload);
  if (!req.ok()) return EncodeErrorReply(req.status());
  auto reply = ReadDesired(host_id, *req);
  if (!reply.ok()) return EncodeErrorReply(reply.status());
  Heard(host_id, 0);
  return EncodeDesiredReply(*reply);
}

std::string HostControl::HandleReport(const std::string& host_id, std::string_view payload) {
  Status valid = ValidateHostId(host_id);
  if (!valid.ok()) return EncodeErrorReply(valid);
  auto reports = DecodeReports(payload);
  if (!reports.ok()) return EncodeErrorReply(reports.status());
  std::vector<VmReportResult> results;
  for (const VmReport& r : *reports) {
    VmReportResult res;
    res.vm_id = r.vm_id;
    auto state = domain::ParseVmObservedState(r.state);
    if (r.vm_id.empty()) {
      res.status = Status::InvalidArgument("a VM report needs a vm_id");
    } else if (!state.ok()) {
      res.status = state.status();
    } else {
      domain::ReportVmObserved cmd;
      cmd.host_id = host_id;
      cmd.state = *state;
      cmd.generation = r.generation;
      cmd.error = r.error;
      auto out = commands_.Vm(HostContext(host_id), r.vm_id, cmd);
      if (!out.ok()) {
        res.status = out.status();
        log::Warn("host report refused",
                  {{"host_id", host_id}, {"vm_id", r.vm_id}, {"error", out.status().message()}});
      } else {
        res.appended = !out->events.empty();
        res.position = out->position;
      }
    }
    results.push_back(std::move(res));
  }
  Heard(host_id, 0);
  return EncodeReportResults(results);
}

void HostControl::HandleHeartbeat(const std::string& host_id, std::string_view payload) {
  if (!ValidateHostId(host_id).ok()) return;
  auto hb = DecodeHeartbeat(payload);
  if (!hb.ok()) {
    log::Warn("bad heartbeat", {{"host_id", host_id}, {"error", hb.status().message()}});
    return;
  }
  Heard(host_id, hb->interval_ms);
}

Status HostControl::SeedFromReadModel() {
  auto conn = TakeConnection();
  if (!conn.ok()) return conn.status();
  auto rows = (*conn)->Exec("SELECT host_id FROM hosts WHERE reachable = $1", {"true"});
  if (!rows.ok()) return rows.status();
  TimePoint now = clock_.Now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int i = 0; i < rows->rows(); ++i) {
      Liveness& l = liveness_[std::string(rows->Get(i, 0))];
      l.last_heard = now;
      if (l.interval.count() == 0) l.interval = options_.default_heartbeat_interval;
      l.confirmed_reachable = true;
    }
  }
  ReturnConnection(std::move(*conn));
  return Status::Ok();
}

void HostControl::ForgiveSilence() {
  std::lock_guard<std::mutex> lock(mu_);
  TimePoint now = clock_.Now();
  for (auto& [id, l] : liveness_) l.last_heard = now;
}

Status HostControl::MarkVmsUnknown(const std::string& host_id, const std::string& why) {
  auto conn = TakeConnection();
  if (!conn.ok()) return conn.status();
  auto rows = (*conn)->Exec(
      "SELECT vm_id FROM vms WHERE host_id = $1 AND NOT deleted ORDER BY vm_id", {host_id});
  if (!rows.ok()) return rows.status();
  std::vector<std::string> ids;
  for (int i = 0; i < rows->rows(); ++i) ids.emplace_back(rows->Get(i, 0));
  ReturnConnection(std::move(*conn));
  Status first;
  for (const std::string& id : ids) {
    auto vm = commands_.LoadVm(id);
    if (!vm.ok()) {
      if (first.ok()) first = vm.status();
      continue;
    }
    if (vm->host_id != host_id || vm->desired == domain::VmDesiredState::kDeleted) continue;
    if (vm->observed == domain::VmObservedState::kUnknown) continue;
    domain::ReportVmObserved cmd;  // no host: from the liveness monitor
    cmd.state = domain::VmObservedState::kUnknown;
    cmd.generation = vm->observed_generation;
    cmd.error = why;
    auto out = commands_.Vm(SystemContext(), id, cmd);
    if (!out.ok() && first.ok()) first = out.status();
  }
  return first;
}

Result<std::vector<std::string>> HostControl::CheckLiveness() {
  std::vector<std::pair<std::string, std::chrono::milliseconds>> overdue;
  {
    std::lock_guard<std::mutex> lock(mu_);
    TimePoint now = clock_.Now();
    for (auto& [id, l] : liveness_) {
      if (!l.confirmed_reachable) continue;
      auto silent = std::chrono::duration_cast<std::chrono::milliseconds>(now - l.last_heard);
      if (silent > l.interval * options_.missed_heartbeats) overdue.emplace_back(id, silent);
    }
  }
  std::vector<std::string> marked;
  Status first;
  for (const auto& [id, silent] : overdue) {
    std::string why = "the host has sent no heartbeat for " +
                      std::to_string((silent.count() + 500) / 1000) + " s";
    auto out = commands_.Host(SystemContext(), id, domain::MarkHostUnreachable{why});
    if (!out.ok() && out.status().code() != Code::kNotFound) {
      if (first.ok()) first = out.status();
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      liveness_[id].confirmed_reachable = false;
    }
    if (!out.ok()) continue;  // never registered: nothing to mark
    log::Warn("host unreachable", {{"host_id", id}, {"reason", why}});
    Status s = MarkVmsUnknown(id, "host unreachable: " + why);
    if (!s.ok() && first.ok()) first = s;
    marked.push_back(id);
  }
  if (!first.ok() && marked.empty()) return first;
  return marked;
}

// --- NATS

struct HostRpcService::Impl {
  HostControl* control = nullptr;
  natsConnection* nc = nullptr;
  std::vector<natsSubscription*> subs;
  std::mutex mu;
  std::condition_variable cv;
  int live = 0;  // subscriptions whose completion callback has not run

  static void OnComplete(void* closure) {
    auto* impl = static_cast<Impl*>(closure);
    std::lock_guard<std::mutex> lock(impl->mu);
    --impl->live;
    impl->cv.notify_all();
  }

  // strato.rpc.host.<id>.<verb> or strato.host.<id>.heartbeat: the token after "host".
  static std::string HostIdOf(const char* subject) {
    std::string s(subject);
    size_t p = s.find(".host.");
    if (p == std::string::npos) return "";
    p += 6;
    size_t e = s.find('.', p);
    return s.substr(p, e == std::string::npos ? std::string::npos : e - p);
  }

  static void OnRpc(natsConnection* nc, natsSubscription*, natsMsg* msg, void* closure) {
    auto* impl = static_cast<Impl*>(closure);
    const char* subject = natsMsg_GetSubject(msg);
    std::string id = HostIdOf(subject);
    std::string_view payload(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
    std::string subj(subject);
    std::string verb = subj.substr(subj.rfind('.') + 1);
    std::string reply;
    if (verb == "register") {
      reply = impl->control->HandleRegister(id, payload);
    } else if (verb == "desired") {
      reply = impl->control->HandleDesired(id, payload);
    } else if (verb == "report") {
      reply = impl->control->HandleReport(id, payload);
    } else {
      reply = EncodeErrorReply(Status::NotFound("there is no host request named " + verb));
    }
    const char* to = natsMsg_GetReply(msg);
    if (to != nullptr && *to != '\0') {
      natsStatus s = natsConnection_Publish(nc, to, reply.data(), static_cast<int>(reply.size()));
      if (s != NATS_OK) {
        log::Warn("could not answer a host request",
                  {{"subject", subj}, {"error", NatsError(s, "replying").message()}});
      }
    }
    natsMsg_Destroy(msg);
  }

  static void OnHeartbeat(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* impl = static_cast<Impl*>(closure);
    std::string id = HostIdOf(natsMsg_GetSubject(msg));
    std::string_view payload(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
    impl->control->HandleHeartbeat(id, payload);
    natsMsg_Destroy(msg);
  }
};

HostRpcService::HostRpcService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<HostRpcService>> HostRpcService::Start(NatsConnection& conn,
                                                              HostControl& control) {
  auto impl = std::make_unique<Impl>();
  impl->control = &control;
  impl->nc = conn.native();
  struct Spec {
    const char* subject;
    natsMsgHandler handler;
  };
  const Spec specs[] = {{"strato.rpc.host.*.register", &Impl::OnRpc},
                        {"strato.rpc.host.*.desired", &Impl::OnRpc},
                        {"strato.rpc.host.*.report", &Impl::OnRpc},
                        {"strato.host.*.heartbeat", &Impl::OnHeartbeat}};
  Status failed;
  for (const Spec& spec : specs) {
    natsSubscription* sub = nullptr;
    natsStatus s = natsConnection_QueueSubscribe(&sub, impl->nc, spec.subject, kQueueGroup,
                                                 spec.handler, impl.get());
    if (s == NATS_OK) {
      {
        std::lock_guard<std::mutex> lock(impl->mu);
        ++impl->live;
      }
      s = natsSubscription_SetOnCompleteCB(sub, &Impl::OnComplete, impl.get());
      if (s == NATS_OK) s = natsSubscription_SetPendingLimits(sub, -1, -1);
      impl->subs.push_back(sub);
    }
    if (s != NATS_OK) {
      failed = NatsError(s, std::string("subscribing to ") + spec.subject);
      break;
    }
  }
  std::unique_ptr<HostRpcService> service(new HostRpcService(std::move(impl)));
  if (!failed.ok()) return failed;  // the destructor unsubscribes what was subscribed
  natsConnection_Flush(service->impl_->nc);
  return service;
}

HostRpcService::~HostRpcService() {
  for (natsSubscription* sub : impl_->subs) {
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
  }
  std::unique_lock<std::mutex> lock(impl_->mu);
  if (!impl_->cv.wait_for(lock, std::chrono::seconds(10), [&] { return impl_->live <= 0; })) {
    lock.unlock();
    log::Error("host request handlers did not stop within 10 s; leaking their state");
    (void)impl_.release();
  }
}

Status RunHostControlPlane(EventStore& store, HostControlPlaneOptions options,
                           const std::atomic<bool>& stop) {
  auto pause = [&stop](std::chrono::milliseconds d) {
    auto until = std::chrono::steady_clock::now() + d;
    while (!stop && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  };
  HostControl control(store, options.control);
  while (!stop) {
    Status seeded = control.SeedFromReadModel();
    if (seeded.ok()) break;
    log::Warn("host liveness cannot read the hosts yet", {{"error", seeded.message()}});
    pause(std::chrono::seconds(1));
  }
  while (!stop) {
    NatsOptions no;
    no.url = options.nats_url;
    no.name = "strato-host-control";
    auto conn = NatsConnection::Connect(no);
    if (!conn.ok()) {
      pause(std::chrono::seconds(1));
      continue;
    }
    auto service = HostRpcService::Start(**conn, control);
    if (!service.ok()) {
      log::Warn("cannot serve host requests", {{"error", service.status().message()}});
      pause(std::chrono::seconds(1));
      continue;
    }
    log::Info("serving host requests and watching host liveness");
    control.ForgiveSilence();
    bool was_connected = true;
    while (!stop) {
      bool up = (*conn)->connected();
      if (up && !was_connected) control.ForgiveSilence();  // heartbeats could not reach us
      was_connected = up;
      if (up) {
        auto marked = control.CheckLiveness();
        if (!marked.ok()) {
          log::Warn("host liveness check failed", {{"error", marked.status().message()}});
        }
      }
      pause(options.check_every);
    }
    service->reset();
    conn->reset();
  }
  return Status::Ok();
}

}  // namespace strato::events
