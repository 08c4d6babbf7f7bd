// CqTimer is one timer of an object that lives on a completion queue (a
// supervisor's timeout, kill grace, drain and shutdown): a grpc::Alarm, the
// tag that comes back, and whether it is armed, so that the object never
// keeps a flag of its own per timer. From Set() until its tag comes back
// (fired, or cancelled) it counts as one operation in flight of its
// owner's (`in_flight`), which the owner must not outlive.
//
// Touched only on the owner's completion-queue thread; not thread-safe.
#ifndef REXEC_SERVER_RPC_CQ_TIMER_H_
#define REXEC_SERVER_RPC_CQ_TIMER_H_

#include <grpcpp/alarm.h>
#include <grpcpp/completion_queue.h>

#include <algorithm>
#include <chrono>

#include "absl/time/time.h"
#include "server/rpc/tag.h"

namespace rexec::rpc {

template <typename Owner>
class CqTimer final : public Tag {
 public:
  // `fire` runs when the timer fires (not when cancelled); `after` runs
  // every time its tag comes back, after `fire`.
  CqTimer(Owner* owner, void (Owner::*fire)(), void (Owner::*after)(),
          int* in_flight)
      : owner_(owner), fire_(fire), after_(after), in_flight_(in_flight) {}

  bool armed() const { return armed_; }

  // Arms it unless it is armed already. Further off than a century is
  // never: a timeout of a thousand years is no timeout, and the deadline
  // must not overflow the clock.
  void Set(grpc::CompletionQueue* cq, absl::Duration after) {
    if (armed_) return;
    armed_ = true;
    ++*in_flight_;
    after = std::clamp(after, absl::ZeroDuration(), absl::Hours(24 * 365 * 100));
    alarm_.Set(cq,
               std::chrono::system_clock::now() +
                   absl::ToChronoNanoseconds(after),
               this);
  }
  void Cancel() {
    if (armed_) alarm_.Cancel();
  }

  void Run(bool ok) override {
    armed_ = false;
    --*in_flight_;
    if (ok) (owner_->*fire_)();
    (owner_->*after_)();  // may destroy the owner, and this timer
  }

 private:
  Owner* const owner_;
  void (Owner::*const fire_)();
  void (Owner::*const after_)();
  int* const in_flight_;
  bool armed_ = false;
  grpc::Alarm alarm_;
};

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_CQ_TIMER_H_
