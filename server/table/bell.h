// Bell carries events from other threads (the poller's, another call's) to
// one object on its executor's thread: Ring() ORs event bits in and, unless
// a turn is already posted, posts one, which hands the object every bit
// rung since. Rings coalesce: a busy child costs one turn per batch of
// readiness, not one per event, and only readiness crosses threads, never
// bytes.
//
// The object may go away at any time after Close() (or the bell's
// destruction) on its executor's thread: a turn posted before finds it
// gone, and Ringer()s held by other threads ring nothing. Ring() and
// Ringer() are thread-safe; construction, Close() and destruction are for
// the executor's thread.
#ifndef REXEC_SERVER_TABLE_BELL_H_
#define REXEC_SERVER_TABLE_BELL_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/table/executor.h"

namespace rexec::table {

class Bell {
 public:
  // `on_ring` gets the bits rung since its last call; it may destroy the
  // bell's owner (nothing of the bell is touched after it returns).
  Bell(Executor* executor, std::function<void(uint32_t)> on_ring);
  ~Bell() { Close(); }
  Bell(const Bell&) = delete;
  Bell& operator=(const Bell&) = delete;

  void Ring(uint32_t events) const { Ring(state_, events); }
  // A function that rings `events`, for a callback that may outlive the
  // bell (a poller watch, a reply to mail): after Close() it does nothing.
  std::function<void()> Ringer(uint32_t events) const;
  // Idempotent.
  void Close();

 private:
  struct State {
    explicit State(Executor* executor) : executor(executor) {}
    Executor* const executor;
    absl::Mutex mu;
    uint32_t events ABSL_GUARDED_BY(mu) = 0;
    bool posted ABSL_GUARDED_BY(mu) = false;
    bool closed ABSL_GUARDED_BY(mu) = false;
    // Read only on the executor's thread, after `closed` was checked there;
    // never reset, so a turn that runs it is never running a destroyed one.
    std::function<void(uint32_t)> on_ring;
  };
  static void Ring(const std::shared_ptr<State>& state, uint32_t events);
  static void Turn(const std::shared_ptr<State>& state);

  std::shared_ptr<State> state_;
};

}  // namespace rexec::table

#endif  // REXEC_SERVER_TABLE_BELL_H_
