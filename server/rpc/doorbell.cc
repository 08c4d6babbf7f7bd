#include "server/rpc/doorbell.h"

#include <grpc/support/time.h>

namespace rexec::rpc {

void Doorbell::Ring(uint32_t events) {
  absl::MutexLock lock(&mu_);
  events_ |= events;
  if (in_flight_ || closed_) return;
  in_flight_ = true;
  alarm_.Set(cq_, gpr_inf_past(GPR_CLOCK_MONOTONIC), tag_);
}

uint32_t Doorbell::Take() {
  absl::MutexLock lock(&mu_);
  in_flight_ = false;
  uint32_t events = events_;
  events_ = 0;
  return events;
}

bool Doorbell::Close() {
  absl::MutexLock lock(&mu_);
  if (in_flight_ && !closed_) alarm_.Cancel();
  closed_ = true;
  return in_flight_;
}

}  // namespace rexec::rpc
