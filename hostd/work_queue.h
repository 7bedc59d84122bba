// WorkQueue: blocking work off the loop. Run hands `work` to a libuv worker thread (hypervisor
// calls, NATS requests, creating and destroying the consumer) and runs `after` on the loop when
// it is done. It counts what is under way, so the daemon closes its loop only once every piece
// of work has come back. Loop thread only (except `work` itself).
#pragma once

#include <functional>

typedef struct uv_loop_s uv_loop_t;

namespace strato::hostd {

class WorkQueue {
 public:
  explicit WorkQueue(uv_loop_t* loop) : loop_(loop) {}
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // When libuv refuses the work (only a bad request; never seen) it is logged and done on the
  // loop rather than lost.
  void Run(std::function<void()> work, std::function<void()> after);
  int pending() const { return pending_; }
  // Runs on the loop after each `after` (the daemon: finish stopping once nothing is pending).
  void set_after_each(std::function<void()> f) { after_each_ = std::move(f); }

 private:
  uv_loop_t* loop_;
  int pending_ = 0;
  std::function<void()> after_each_;
};

}  // namespace strato::hostd
