// ExitReason says why a reaped process ended, from what its supervisor
// observed: a pure function, so that each rule is a unit test.
#ifndef REXEC_SERVER_TABLE_EXIT_REASON_H_
#define REXEC_SERVER_TABLE_EXIT_REASON_H_

#include "server/process/exit_status.h"
#include "server/table/exit_report.h"

namespace rexec::table {

struct ExitObservation {
  // The stop the supervisor sent (a timeout, the call's end...), or
  // kUnspecified when it sent none.
  TerminationReason stop = TerminationReason::kUnspecified;
  bool killed = false;      // died of a signal
  bool oom_killed = false;  // ...the OOM killer's
  // A client's signal was sent: a death by signal is its doing.
  bool client_signaled = false;
  // The server is stopping (a second SIGTERM, or the drain's end), which
  // SIGKILLs every group.
  bool server_stopping = false;
};

TerminationReason ExitReason(const ExitObservation& seen);

}  // namespace rexec::table

#endif  // REXEC_SERVER_TABLE_EXIT_REASON_H_
