// The process contract's own types, what the table reports and is asked
// in: why a process ended (TerminationReason), how (ExitReport) and the
// terminal size a client asks for (WindowRequest). The rpc room converts
// them to and from the API's messages (server/rpc/table_messages.h); the
// table never sees those. Plain value types.
#ifndef REXEC_SERVER_TABLE_EXIT_REPORT_H_
#define REXEC_SERVER_TABLE_EXIT_REPORT_H_

#include <cstdint>

#include "absl/time/time.h"
#include "server/process/exit_status.h"

namespace rexec::table {

// Why a process ended, as the API's TerminationReason tells it.
enum class TerminationReason {
  kUnspecified,  // no stop was sent (yet)
  kExited,            // on its own
  kSignaled,          // of a signal after a client sent one
  kTimedOut,          // options.timeout
  kMaxBufferExceeded, // an Exec stream passed max_buffer
  kClientGone,        // the call went away
  kServerShutdown,    // the drain or the shutdown
  kCallFailed,        // the call ended with an error
  kOomKilled,         // the OOM killer at its cgroup's limit
  kPolicyRevoked,     // a reloaded policy would not start it
};

// "TIMED_OUT": the API's name without its prefix, for logs and the audit.
const char* ReasonName(TerminationReason reason);

struct ExitReport {
  process::ExitStatus status;  // with the resources it used
  TerminationReason reason = TerminationReason::kExited;
  // From the start to the exit: not the wait for output that a descendant
  // still held open after it.
  absl::Duration wall_time;
};

// A terminal size a client asks for: a 0 keeps the current one's.
struct WindowRequest {
  uint32_t rows = 0;
  uint32_t cols = 0;
};

}  // namespace rexec::table

#endif  // REXEC_SERVER_TABLE_EXIT_REPORT_H_
