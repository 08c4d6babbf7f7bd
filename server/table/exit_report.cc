#include "server/table/exit_report.h"

namespace rexec::table {

const char* ReasonName(TerminationReason reason) {
  switch (reason) {
    case TerminationReason::kUnspecified: return "UNSPECIFIED";
    case TerminationReason::kExited: return "EXITED";
    case TerminationReason::kSignaled: return "SIGNALED";
    case TerminationReason::kTimedOut: return "TIMED_OUT";
    case TerminationReason::kMaxBufferExceeded: return "MAX_BUFFER_EXCEEDED";
    case TerminationReason::kClientGone: return "CLIENT_GONE";
    case TerminationReason::kServerShutdown: return "SERVER_SHUTDOWN";
    case TerminationReason::kCallFailed: return "CALL_FAILED";
    case TerminationReason::kOomKilled: return "OOM_KILLED";
    case TerminationReason::kPolicyRevoked: return "POLICY_REVOKED";
  }
  return "UNSPECIFIED";
}

}  // namespace rexec::table
