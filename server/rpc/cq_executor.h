// CqExecutor is the table's Executor on one completion queue, run by that
// queue's one worker thread: posted work rides a Doorbell (one grpc::Alarm
// whose deadline has passed, rung again only once its tag came back, so a
// burst of posts costs one trip through the queue), and each timer is an
// alarm of its own, owned here until its tag comes back, fired or
// cancelled: the table's objects may go away with timers set.
//
// Post() is thread-safe; After() and Cancel() are for the queue's thread.
// Outlives everything posted to it: it goes after its queue was drained.
#ifndef REXEC_SERVER_RPC_CQ_EXECUTOR_H_
#define REXEC_SERVER_RPC_CQ_EXECUTOR_H_

#include <grpcpp/completion_queue.h>

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "server/rpc/doorbell.h"
#include "server/rpc/tag.h"
#include "server/table/executor.h"

namespace rexec::rpc {

class CqExecutor final : public table::Executor {
 public:
  explicit CqExecutor(grpc::CompletionQueue* cq)
      : cq_(cq), doorbell_(cq, &posted_tag_) {}
  ~CqExecutor() override;

  void Post(absl::AnyInvocable<void()> fn) override;
  TimerId After(absl::Duration delay, absl::AnyInvocable<void()> fn) override;
  void Cancel(TimerId id) override;

 private:
  class TimerTag;
  void OnPosted(bool ok);

  grpc::CompletionQueue* const cq_;
  MemberTag<CqExecutor> posted_tag_{this, &CqExecutor::OnPosted};
  Doorbell doorbell_;
  absl::Mutex mu_;
  std::vector<absl::AnyInvocable<void()>> posted_ ABSL_GUARDED_BY(mu_);
  // The queue's thread only.
  absl::flat_hash_map<TimerId, TimerTag*> timers_;
  TimerId next_timer_ = 1;
};

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_CQ_EXECUTOR_H_
