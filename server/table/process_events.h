// ProcessEvents is what the table tells the server as processes start,
// move bytes, end and meet trouble: an interface, so that the table knows
// no metrics or logging library. The server's (server/rpc/table_events.h)
// counts them for Prometheus and logs them; a unit test may count them, or
// ignore them. Called from every executor thread at once: implementations
// are thread-safe.
#ifndef REXEC_SERVER_TABLE_PROCESS_EVENTS_H_
#define REXEC_SERVER_TABLE_PROCESS_EVENTS_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/table/exit_report.h"

namespace rexec::table {

class ProcessEvents {
 public:
  // The streams whose bytes are counted.
  enum class Bytes { kStdin, kStdout, kStderr, kIpcToChild, kIpcFromChild };

  virtual ~ProcessEvents() = default;
  // `latency`: from the request to spawn to the child's running.
  virtual void ChildSpawned(pid_t pid, const std::vector<std::string>& argv,
                            absl::Duration latency) = 0;
  virtual void ChildExited(pid_t pid, const ExitReport& exit) = 0;
  virtual void Transferred(Bytes stream, uint64_t n) = 0;
  // Something went wrong that no caller can be told of (an input dropped,
  // a pidfd that cannot be waited on): for the server's log.
  virtual void Trouble(pid_t pid, absl::string_view what) = 0;
};

}  // namespace rexec::table

#endif  // REXEC_SERVER_TABLE_PROCESS_EVENTS_H_
