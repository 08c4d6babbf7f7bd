// Timer is one timer of a table object (a supervisor's timeout, kill
// grace, drain wait...) on its executor: armed or not, so that the object
// keeps no flag of its own per timer. Destroying it cancels it, so that an
// object may go away with its timers set.
//
// For the executor's thread only; not thread-safe.
#ifndef REXEC_SERVER_TABLE_TIMER_H_
#define REXEC_SERVER_TABLE_TIMER_H_

#include <algorithm>
#include <functional>
#include <utility>

#include "absl/time/time.h"
#include "server/table/executor.h"

namespace rexec::table {

class Timer {
 public:
  Timer(Executor* executor, std::function<void()> fire)
      : executor_(executor), fire_(std::move(fire)) {}
  ~Timer() { Cancel(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  bool armed() const { return id_ != 0; }

  // Arms it unless it is armed already. Further off than a century is
  // never: a timeout of a thousand years is no timeout, and the deadline
  // must not overflow the clock. `fire` may destroy the timer's owner.
  void Set(absl::Duration after) {
    if (armed()) return;
    after = std::clamp(after, absl::ZeroDuration(), absl::Hours(24 * 365 * 100));
    id_ = executor_->After(after, [this] {
      id_ = 0;
      // A copy: `fire` may destroy the owner, and this timer with it.
      std::function<void()> fire = fire_;
      fire();
    });
  }
  void Cancel() { executor_->Cancel(std::exchange(id_, 0)); }

 private:
  Executor* const executor_;
  const std::function<void()> fire_;
  Executor::TimerId id_ = 0;
};

}  // namespace rexec::table

#endif  // REXEC_SERVER_TABLE_TIMER_H_
