#include "server/rpc/cq_executor.h"

#include <grpcpp/alarm.h>

#include <chrono>
#include <utility>

namespace rexec::rpc {

// One timer: its alarm, and its function until it fires or is cancelled.
// Deletes itself when its tag comes back.
class CqExecutor::TimerTag final : public Tag {
 public:
  TimerTag(CqExecutor* executor, TimerId id, absl::AnyInvocable<void()> fn)
      : executor_(executor), id_(id), fn_(std::move(fn)) {}

  void Set(grpc::CompletionQueue* cq, absl::Duration delay) {
    alarm_.Set(cq,
               std::chrono::system_clock::now() +
                   absl::ToChronoNanoseconds(delay),
               this);
  }
  void Cancel() {
    fn_ = nullptr;  // destroyed now, on the queue's thread
    alarm_.Cancel();
  }
  void Run(bool ok) override {
    if (fn_) {
      executor_->timers_.erase(id_);
      // Out of the tag first: the function may set timers, or cancel this.
      absl::AnyInvocable<void()> fn = std::move(fn_);
      fn_ = nullptr;
      if (ok) fn();
    }
    delete this;
  }

 private:
  CqExecutor* const executor_;
  const TimerId id_;
  absl::AnyInvocable<void()> fn_;
  grpc::Alarm alarm_;
};

CqExecutor::~CqExecutor() {
  // The queue was drained: every timer's tag came back and deleted it.
  doorbell_.Close();
}

void CqExecutor::Post(absl::AnyInvocable<void()> fn) {
  {
    absl::MutexLock lock(&mu_);
    posted_.push_back(std::move(fn));
  }
  doorbell_.Ring(1);
}

void CqExecutor::OnPosted(bool ok) {
  doorbell_.Take();
  std::vector<absl::AnyInvocable<void()>> posted;
  {
    absl::MutexLock lock(&mu_);
    posted.swap(posted_);
  }
  // What these post comes on the next trip: others on the queue go first.
  for (auto& fn : posted) fn();
}

table::Executor::TimerId CqExecutor::After(absl::Duration delay,
                                           absl::AnyInvocable<void()> fn) {
  const TimerId id = next_timer_++;
  auto* timer = new TimerTag(this, id, std::move(fn));
  timers_[id] = timer;
  timer->Set(cq_, delay);
  return id;
}

void CqExecutor::Cancel(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  it->second->Cancel();
  timers_.erase(it);
}

}  // namespace rexec::rpc
