// StopPolicy says how a child is stopped when its call ends early (cancel,
// disconnect, timeout, bad input): kill_signal to its process group, then
// SIGKILL once kill_grace has passed (reproc's TERMINATE-then-KILL). A plain
// value type.
#ifndef REXEC_SERVER_PROCESS_STOP_POLICY_H_
#define REXEC_SERVER_PROCESS_STOP_POLICY_H_

#include <signal.h>

#include "absl/time/time.h"

namespace rexec::process {

struct StopPolicy {
  int kill_signal = SIGTERM;
  absl::Duration kill_grace = absl::Seconds(5);
  // Stop the child after this long; zero means never.
  absl::Duration timeout = absl::ZeroDuration();
};

}  // namespace rexec::process

#endif  // REXEC_SERVER_PROCESS_STOP_POLICY_H_
