#include "events/hosts/host_rpc.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <thread>

#include "core/log.h"

namespace strato::events {
namespace {

constexpr const char* kQueueGroup = "strato-host-control";
// The projection that folds host_desired_vms (projections/models/host_projection.h; events/ does
// not include projections/).
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
  if (!reg.ok()) {
    LogRefused(host_id, "register", reg.status());
    return EncodeErrorReply(reg.status());
  }
  domain::RegisterHost cmd;
  cmd.host_id = host_id;
  cmd.name = reg->name;
  cmd.address = reg->address;
  cmd.cpu_count = reg->cpu_count;
  cmd.memory_mb = reg->memory_mb;
  cmd.disk_gb = reg->disk_gb;
  cmd.hypervisor_kind = reg->hypervisor_kind;
  cmd.hypervisor_version = reg->hypervisor_version;
  cmd.accelerator = reg->accelerator;
  cmd.cpu_allocation_ratio = reg->cpu_allocation_ratio;
  cmd.memory_allocation_ratio = reg->memory_allocation_ratio;
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
  if (!req.ok()) {
    LogRefused(host_id, "desired", req.status());
    return EncodeErrorReply(req.status());
  }
  if (req->min_position > 0) {
    // Waiting is for a read model a little behind the log, never for a position the log has
    // not reached: that would hold a worker for desired_wait and answer nothing new.
    auto head = store_.LastPosition();
    if (!head.ok()) return EncodeErrorReply(head.status().WithContext("reading the log's head"));
    if (req->min_position > *head) {
      Status beyond = Status::InvalidArgument("min_position " + std::to_string(req->min_position) +
                                              " is beyond the end of the log (position " +
                                              std::to_string(*head) + ")");
      LogRefused(host_id, "desired", beyond);
      return EncodeErrorReply(beyond);
    }
  }
  auto reply =
      options_.desired_reader ? options_.desired_reader(host_id, *req) : ReadDesired(host_id, *req);
  if (!reply.ok()) return EncodeErrorReply(reply.status());
  Heard(host_id, 0);
  return EncodeDesiredReply(*reply);
}

std::string HostControl::HandleReport(const std::string& host_id, std::string_view payload) {
  Status valid = ValidateHostId(host_id);
  if (!valid.ok()) return EncodeErrorReply(valid);
  auto reports = DecodeReports(payload);
  if (!reports.ok()) {
    LogRefused(host_id, "report", reports.status());
    return EncodeErrorReply(reports.status());
  }
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
    LogRefused(host_id, "heartbeat", hb.status());
    return;
  }
  Heard(host_id, hb->interval_ms);
}

void HostControl::LogRefused(const std::string& host_id, std::string_view verb, const Status& why) {
  const auto now = std::chrono::steady_clock::now();
  int64_t unlogged = 0;
  {
    std::lock_guard<std::mutex> lock(refused_mu_);
    if (refused_.size() > 10000) refused_.clear();  // host ids come from subjects: bound them
    auto [it, fresh] = refused_.try_emplace(host_id);
    if (!fresh && now - it->second.logged < std::chrono::seconds(1)) {
      ++it->second.unlogged;
      return;
    }
    unlogged = it->second.unlogged;
    it->second = Refusals{now, 0};
  }
  // Field values are bounded: the host chose them.
  log::Warn("refused a message from a host", {{"host_id", host_id.substr(0, 64)},
                                              {"message", verb.substr(0, 32)},
                                              {"error", why.message().substr(0, 512)},
                                              {"refused_since_last_line", unlogged}});
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

// nats.c's delivery threads only sort messages into per-host queues (HostQueues); workers
// take them round-robin over the hosts with work, one message per host at a time.
struct HostRpcService::Impl {
  struct Job {
    std::string verb;
    std::string payload;
    std::string reply_to;  // empty: no answer (heartbeats)
  };
  struct HostQueue {
    std::deque<Job> jobs;
    bool busy = false;  // a worker runs one of its jobs
  };

  HostControl* control = nullptr;
  NatsConnection* conn = nullptr;
  HostRpcLimits limits;
  std::vector<std::unique_ptr<MessageSubscription>> subs;
  std::vector<std::thread> workers;

  std::mutex mu;                    // guards everything below
  std::condition_variable work_cv;  // ready gained a host, or stopping
  bool stopping = false;
  std::map<std::string, HostQueue> hosts;  // hosts with queued or running jobs
  std::deque<std::string> ready;           // hosts with queued jobs and none running, in turn
  size_t queued = 0;
  size_t queued_bytes = 0;

  // strato.rpc.host.<id>.<verb> or strato.host.<id>.heartbeat: the host id and the verb
  // (the subscriptions' wildcards make the id exactly one token).
  static std::pair<std::string, std::string> Parts(std::string_view subject) {
    std::string_view rest;
    if (subject.rfind("strato.rpc.host.", 0) == 0) {
      rest = subject.substr(16);
    } else if (subject.rfind("strato.host.", 0) == 0) {
      rest = subject.substr(12);
    } else {
      return {"", ""};
    }
    size_t dot = rest.find('.');
    if (dot == std::string_view::npos) return {std::string(rest), ""};
    return {std::string(rest.substr(0, dot)), std::string(rest.substr(dot + 1))};
  }

  void Answer(const std::string& to, const std::string& reply, std::string_view subject) {
    if (to.empty()) return;
    Status s = conn->Publish(to, reply);
    if (!s.ok()) {
      log::Warn("could not answer a host request",
                {{"subject", subject.substr(0, 200)}, {"error", s.message()}});
    }
  }

  void Refuse(const std::string& host_id, const std::string& verb, const std::string& to,
              const Status& why, std::string_view subject) {
    control->LogRefused(host_id, verb, why);
    Answer(to, EncodeErrorReply(why), subject);
  }

  // On a bus delivery thread: checks what can be checked without parsing and queues.
  void Accept(const BusMessage& msg) {
    std::string_view subject = msg.subject;
    std::string to(msg.reply_to);
    auto [host_id, verb] = Parts(subject);
    const size_t size = msg.data.size();

    Status valid = ValidateHostId(host_id);
    if (!valid.ok()) return Refuse(host_id, verb, to, valid, subject);
    const size_t limit = HostMessageByteLimit(verb);
    if (limit == 0) {
      return Refuse(host_id, verb, to,
                    Status::NotFound("there is no host request named " + verb.substr(0, 64)),
                    subject);
    }
    if (size > limit) {
      return Refuse(host_id, verb, to,
                    Status::InvalidArgument("a " + verb + " message is " + std::to_string(size) +
                                            " bytes long; at most " + std::to_string(limit) +
                                            " are accepted"),
                    subject);
    }
    Status full;
    {
      std::lock_guard<std::mutex> lock(mu);
      auto it = hosts.find(host_id);
      const size_t mine = it == hosts.end() ? 0 : it->second.jobs.size();
      if (stopping) {
        full = Status::Unavailable("the control plane is stopping; retry later");
      } else if (mine >= limits.host_queue) {
        full = Status::Unavailable("host " + host_id + " already has " + std::to_string(mine) +
                                   " messages waiting; retry later");
      } else if (queued >= limits.backlog || queued_bytes + size > limits.backlog_bytes) {
        full = Status::Unavailable(
            "the control plane has too many host messages waiting; "
            "retry later");
      } else {
        HostQueue& q = it == hosts.end() ? hosts[host_id] : it->second;
        q.jobs.push_back(Job{verb, std::string(msg.data), std::move(to)});
        ++queued;
        queued_bytes += size;
        if (!q.busy && q.jobs.size() == 1) {
          ready.push_back(host_id);
          work_cv.notify_one();
        }
        return;
      }
    }
    Refuse(host_id, verb, to, full, subject);
  }

  void Work() {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      work_cv.wait(lock, [&] { return stopping || !ready.empty(); });
      if (stopping) return;
      std::string host_id = std::move(ready.front());
      ready.pop_front();
      HostQueue& q = hosts[host_id];
      Job job = std::move(q.jobs.front());
      q.jobs.pop_front();
      q.busy = true;
      --queued;
      queued_bytes -= job.payload.size();
      lock.unlock();
      Run(host_id, job);
      lock.lock();
      HostQueue& after = hosts[host_id];
      after.busy = false;
      if (after.jobs.empty()) {
        hosts.erase(host_id);
      } else {
        ready.push_back(host_id);  // behind every other host waiting
        work_cv.notify_one();
      }
    }
  }

  void Run(const std::string& host_id, const Job& job) {
    if (job.verb == "heartbeat") {
      control->HandleHeartbeat(host_id, job.payload);
      return;
    }
    std::string reply;
    if (job.verb == "register") {
      reply = control->HandleRegister(host_id, job.payload);
    } else if (job.verb == "desired") {
      reply = control->HandleDesired(host_id, job.payload);
    } else {
      reply = control->HandleReport(host_id, job.payload);
    }
    Answer(job.reply_to, reply, HostRpcSubject(host_id, job.verb));
  }

  void StopWorkers() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stopping = true;
    }
    work_cv.notify_all();
    for (std::thread& t : workers) t.join();
    workers.clear();
  }
};

HostRpcService::HostRpcService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<HostRpcService>> HostRpcService::Start(NatsConnection& conn,
                                                              HostControl& control,
                                                              HostRpcLimits limits,
                                                              HostTraffic traffic) {
  auto impl = std::make_unique<Impl>();
  impl->control = &control;
  impl->conn = &conn;
  limits.workers = std::max(limits.workers, 1);
  limits.host_queue = std::max<size_t>(limits.host_queue, 1);
  impl->limits = limits;
  for (int i = 0; i < limits.workers; ++i) {
    impl->workers.emplace_back([p = impl.get()] { p->Work(); });
  }
  std::unique_ptr<HostRpcService> service(new HostRpcService(std::move(impl)));
  Impl* p = service->impl_.get();
  std::vector<const char*> subjects;
  if (traffic != HostTraffic::kHeartbeats) {
    subjects = {"strato.rpc.host.*.register", "strato.rpc.host.*.desired",
                "strato.rpc.host.*.report"};
  }
  if (traffic != HostTraffic::kRequests) subjects.push_back("strato.host.*.heartbeat");
  for (const char* subject : subjects) {
    MessageSubscription::Options o;
    o.subject = subject;
    o.queue = kQueueGroup;
    o.pending_messages = limits.nats_pending_msgs;
    o.pending_bytes = limits.nats_pending_bytes;
    auto sub = MessageSubscription::Start(conn, o, [p](const BusMessage& m) { p->Accept(m); });
    if (!sub.ok()) return sub.status();  // the destructor unsubscribes what was subscribed
    p->subs.push_back(std::move(*sub));
  }
  STRATO_RETURN_IF_ERROR(
      conn.Flush(std::chrono::seconds(5)).WithContext("flushing the host subscriptions"));
  return service;
}

HostRpcService::~HostRpcService() {
  if (!impl_) return;
  // Each subscription's destructor waits until its deliveries have ended; then a worker ends
  // after its current message (bounded by desired_wait); queued ones are dropped: their hosts
  // time out and ask again.
  impl_->subs.clear();
  impl_->StopWorkers();
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
    auto service = HostRpcService::Start(
        **conn, control, {}, options.serve_requests ? HostTraffic::kAll : HostTraffic::kHeartbeats);
    if (!service.ok()) {
      log::Warn("cannot hear hosts", {{"error", service.status().message()}});
      pause(std::chrono::seconds(1));
      continue;
    }
    log::Info(options.serve_requests ? "serving host requests and watching host liveness"
                                     : "hearing host heartbeats and watching host liveness");
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

Status RunHostRequests(EventStore& store, HostControlPlaneOptions options,
                       const std::atomic<bool>& stop) {
  HostControl control(store, options.control);
  while (!stop) {
    NatsOptions no;
    no.url = options.nats_url;
    no.name = "strato-host-requests";
    auto conn = NatsConnection::Connect(no);
    std::unique_ptr<HostRpcService> service;
    if (conn.ok()) {
      auto started = HostRpcService::Start(**conn, control, {}, HostTraffic::kRequests);
      if (started.ok()) {
        service = std::move(*started);
      } else {
        log::Warn("cannot serve host requests", {{"error", started.status().message()}});
      }
    }
    if (service) {
      log::Info("serving host requests");
      // nats.c reconnects by itself; the service stays until this instance stops.
      while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      service.reset();
      break;
    }
    for (int i = 0; i < 20 && !stop; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Status::Ok();
}

}  // namespace strato::events
