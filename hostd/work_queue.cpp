#include "hostd/work_queue.h"

#include "core/log.h"
#include "hostd/uv_status.h"

namespace strato::hostd {

void WorkQueue::Run(std::function<void()> work, std::function<void()> after) {
  struct Job {
    uv_work_t req;
    std::function<void()> work, after;
    WorkQueue* queue;
  };
  auto* job = new Job{{}, std::move(work), std::move(after), this};
  job->req.data = job;
  ++pending_;
  int rc = uv_queue_work(
      loop_, &job->req, [](uv_work_t* r) { static_cast<Job*>(r->data)->work(); },
      [](uv_work_t* r, int) {
        auto* j = static_cast<Job*>(r->data);
        WorkQueue* q = j->queue;
        --q->pending_;
        j->after();
        delete j;
        if (q->after_each_) q->after_each_();
      });
  if (rc != 0) {
    // Never seen (libuv refuses only a bad request): do the work here rather than lose it.
    log::Error("cannot queue work off the loop; doing it on the loop",
               {{"error", UvStatus(rc, "uv_queue_work").message()}});
    --pending_;
    job->work();
    job->after();
    delete job;
  }
}

}  // namespace strato::hostd
