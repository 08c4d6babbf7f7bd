#include "server/table/exit_reason.h"

namespace rexec::table {

TerminationReason ExitReason(const ExitObservation& seen) {
  // The first stop sent is the reason, whatever the process died of then.
  if (seen.stop != TerminationReason::kUnspecified) return seen.stop;
  // SIGKILL to every group (KillAll): a second SIGTERM, or the end of the
  // drain.
  if (seen.killed && seen.server_stopping) {
    return TerminationReason::kServerShutdown;
  }
  if (seen.oom_killed) return TerminationReason::kOomKilled;
  if (seen.killed && seen.client_signaled) return TerminationReason::kSignaled;
  return TerminationReason::kExited;
}

}  // namespace rexec::table
