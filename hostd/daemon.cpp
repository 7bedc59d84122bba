#include "hostd/daemon.h"

#include <signal.h>
#include <stdlib.h>
#include <uv.h>

#include <cstdint>

#include "core/log.h"
#include "hostd/control_link.h"
#include "hostd/supervisor.h"
#include "hostd/uv_status.h"
#include "hostd/work_queue.h"

namespace strato::hostd {
namespace {

constexpr uint64_t kTickMs = 100;

class Daemon {
 public:
  Daemon(const HostdConfig& config, Hypervisor& hv, DaemonClocks clocks)
      : config_(config),
        work_(&loop_),
        supervisor_(config, hv, &loop_, work_, *clocks.steady, *clocks.wall,
                    [this](events::VmReport r) { link_.Report(std::move(r)); }),
        link_(config, hv, &loop_, work_, supervisor_, *clocks.steady, *clocks.wall) {
    // After each piece of work: a stop waits for all of it to come back.
    work_.set_after_each([this] {
      if (stopping_) OnSignal();
    });
  }

  Status Run();

 private:
  void OnSignal();
  void OnTick();
  void Finish();
  Status StartTimer(uv_timer_t* timer, uv_timer_cb cb, uint64_t first, uint64_t every,
                    const char* what);

  HostdConfig config_;
  uv_loop_t loop_{};
  WorkQueue work_;
  Supervisor supervisor_;
  ControlLink link_;
  uv_timer_t tick_{}, heartbeat_{}, resync_{};
  uv_signal_t sigterm_{}, sigint_{};
  bool stopping_ = false;
  bool finished_ = false;
};

void Daemon::OnTick() {
  if (stopping_) return;
  link_.OnTick();
  // Until the host is registered nothing is dispatched (there is nobody to report to).
  if (link_.registered()) supervisor_.OnTick();
}

void Daemon::OnSignal() {
  if (!stopping_) {
    stopping_ = true;
    log::Info("stopping: VMs keep running");
    // uv_timer_stop cannot fail (it returns 0 in libuv 1.x).
    (void)uv_timer_stop(&tick_);
    (void)uv_timer_stop(&heartbeat_);
    (void)uv_timer_stop(&resync_);
    supervisor_.Stop();
    link_.Stop();
  }
  if (link_.ReleaseFollow()) return;  // that work's completion calls back here
  if (work_.pending() > 0) return;    // the last work's completion calls back here
  Finish();
}

void Daemon::Finish() {
  if (finished_) return;
  finished_ = true;
  link_.Close();
  supervisor_.Detach();  // without stopping the VMMs
  uv_close(reinterpret_cast<uv_handle_t*>(&tick_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&heartbeat_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&resync_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
  uv_stop(&loop_);
}

Status Daemon::StartTimer(uv_timer_t* timer, uv_timer_cb cb, uint64_t first, uint64_t every,
                          const char* what) {
  STRATO_RETURN_IF_ERROR(UvStatus(uv_timer_init(&loop_, timer), what));
  timer->data = this;
  return UvStatus(uv_timer_start(timer, cb, first, every), what);
}

Status Daemon::Run() {
  if (uv_loop_init(&loop_) != 0) return Status::Internal("cannot start the libuv loop");
  supervisor_.Adopt();
  STRATO_RETURN_IF_ERROR(link_.Connect());
  STRATO_RETURN_IF_ERROR(StartTimer(
      &tick_, [](uv_timer_t* t) { static_cast<Daemon*>(t->data)->OnTick(); }, 0, kTickMs,
      "starting the tick timer"));
  const uint64_t hb = static_cast<uint64_t>(config_.heartbeat_interval.count());
  STRATO_RETURN_IF_ERROR(StartTimer(
      &heartbeat_, [](uv_timer_t* t) { static_cast<Daemon*>(t->data)->link_.OnHeartbeat(); }, hb,
      hb, "starting the heartbeat timer"));
  const uint64_t rs = static_cast<uint64_t>(config_.resync_interval.count());
  STRATO_RETURN_IF_ERROR(StartTimer(
      &resync_, [](uv_timer_t* t) { static_cast<Daemon*>(t->data)->link_.OnResync(); }, rs, rs,
      "starting the resync timer"));
  STRATO_RETURN_IF_ERROR(UvStatus(uv_signal_init(&loop_, &sigterm_), "watching SIGTERM"));
  STRATO_RETURN_IF_ERROR(UvStatus(uv_signal_init(&loop_, &sigint_), "watching SIGINT"));
  sigterm_.data = this;
  sigint_.data = this;
  auto on_signal = [](uv_signal_t* s, int) { static_cast<Daemon*>(s->data)->OnSignal(); };
  STRATO_RETURN_IF_ERROR(
      UvStatus(uv_signal_start(&sigterm_, on_signal, SIGTERM), "watching SIGTERM"));
  STRATO_RETURN_IF_ERROR(UvStatus(uv_signal_start(&sigint_, on_signal, SIGINT), "watching SIGINT"));
  log::Info("hostd started",
            {{"host_id", config_.host_id},
             {"state_dir", config_.state_dir},
             {"hypervisor", config_.hypervisor},
             {"vmm", config_.hypervisor == "qemu" ? config_.qemu_binary : config_.ch_binary},
             {"adopted", static_cast<int64_t>(supervisor_.size())}});
  link_.Start();
  // uv_run answers whether handles remain; the first run ends at uv_stop, the second only
  // runs the close callbacks, whatever remains.
  (void)uv_run(&loop_, UV_RUN_DEFAULT);
  (void)uv_run(&loop_, UV_RUN_NOWAIT);
  link_.Abandon();
  return Status::Ok();
}

}  // namespace

Status RunDaemon(const HostdConfig& config, Hypervisor& hypervisor, DaemonClocks clocks) {
  if (getenv("UV_THREADPOOL_SIZE") == nullptr) setenv("UV_THREADPOOL_SIZE", "32", 1);
  Daemon daemon(config, hypervisor, clocks);
  return daemon.Run();
}

}  // namespace strato::hostd
