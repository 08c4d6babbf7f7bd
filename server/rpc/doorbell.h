// Doorbell hands events from other threads to an object on its own
// completion-queue thread (the CqExecutor's posted work rides one): Ring() records event bits and, unless a ring is
// already on its way, sets a grpc::Alarm whose deadline has passed, which is
// the documented way to post a tag to a completion queue. The call then
// Take()s the bits when its tag comes back.
//
// The deadline is the infinite past, not now: gRPC keeps time in whole
// milliseconds and rounds a deadline up, so "now" became a timer that its
// timer thread fired up to 1 ms later, a hop and a wait on every child's
// exit (strace showed it; the spawn round trip fell from 2.1 to 1.6 ms).
// A deadline already past completes at once, on the ringing thread.
//
// Ring() is thread-safe; Take() and Close() are for the owning CQ thread.
#ifndef REXEC_SERVER_RPC_DOORBELL_H_
#define REXEC_SERVER_RPC_DOORBELL_H_

#include <grpcpp/alarm.h>
#include <grpcpp/completion_queue.h>

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace rexec::rpc {

class Doorbell {
 public:
  Doorbell(grpc::CompletionQueue* cq, void* tag) : cq_(cq), tag_(tag) {}

  void Ring(uint32_t events);
  // The events rung since the last Take(); called when the tag came back.
  uint32_t Take();
  // No ring after this one sets the alarm. Returns true when a ring is still
  // on its way: its tag will come back once more (cancelled), and the owner
  // must wait for it before it goes away. Closing again says the same.
  bool Close();

 private:
  grpc::CompletionQueue* const cq_;
  void* const tag_;
  absl::Mutex mu_;
  uint32_t events_ ABSL_GUARDED_BY(mu_) = 0;
  bool in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Alarm alarm_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_DOORBELL_H_
