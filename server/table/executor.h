// Executor is the one thread a table object (a supervisor, an attachment)
// lives on, as an interface: work posted to it from any thread, and timers
// that fire on it. On a server it is a completion queue's worker
// (server/rpc/cq_executor.h); in a unit test, a plain loop the test turns
// (tests/table/test_executor.h). The table sees neither gRPC nor threads.
//
// Post() is thread-safe. After() and Cancel() are for the executor's own
// thread: a timer is set and cancelled by the object it belongs to.
#ifndef REXEC_SERVER_TABLE_EXECUTOR_H_
#define REXEC_SERVER_TABLE_EXECUTOR_H_

#include <cstdint>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"

namespace rexec::table {

class Executor {
 public:
  // 0 is no timer.
  using TimerId = uint64_t;

  virtual ~Executor() = default;

  // Runs `fn` on the executor's thread, after what was posted before it.
  // Never from inside Post().
  virtual void Post(absl::AnyInvocable<void()> fn) = 0;
  // Runs `fn` on the executor's thread once `delay` has passed (at once for
  // a delay of zero or less, but never from inside After()), unless
  // Cancel()led first.
  virtual TimerId After(absl::Duration delay, absl::AnyInvocable<void()> fn) = 0;
  // Once it returns, the timer's function will not run, and has been
  // destroyed. A timer that ran already, or 0, is no error.
  virtual void Cancel(TimerId id) = 0;
};

}  // namespace rexec::table

#endif  // REXEC_SERVER_TABLE_EXECUTOR_H_
