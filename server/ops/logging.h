// rexecd's logs: every line to stderr (what a container runtime collects),
// as text or, with --log-format json, as one JSON object per line:
//   {"time":"...","level":"info","msg":"listening on 127.0.0.1:50051"}
//   {"time":"...","level":"info","event":"call","identity":"alice",...}
// Call SetUpLogging() once, before any other thread logs, and
// ShutdownLogging() before leaving.
//
// Each log (the server's, the audit) is written off the threads that log,
// through a bounded queue, by a thread of its own (FdSink): a stalled or
// failed stderr drops and counts lines, and never holds up a call.
#ifndef REXEC_SERVER_OPS_LOGGING_H_
#define REXEC_SERVER_OPS_LOGGING_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/synchronization/mutex.h"
#include "server/ops/audit_log.h"

namespace rexec::ops {

// Starts the logs' threads: call with the signals that rexecd handles
// blocked, as in every thread of its.
void SetUpLogging(LogFormat format);
LogFormat CurrentLogFormat();
// Writes what is queued (each line waits kWriteWait at most) and stops the
// logs' threads; nothing is logged after it.
void ShutdownLogging();

// How many lines each log dropped (its queue full, or its fd stalled or
// failing), since the start.
struct DroppedLines {
  uint64_t audit = 0;
  uint64_t server = 0;
};
DroppedLines Dropped();
// Whether the audit log's last write went through (or a probe since).
bool AuditWritable();
// `on_change(writable)` is called, on a logging thread, when the audit log
// stops or starts taking records again. Set once, before calls come.
void OnAuditWritableChange(std::function<void(bool writable)> on_change);

// While one exists, gRPC's own log lines are kept here instead of logged:
// for a step whose failure rexecd reports itself in one clear line (a port
// in use, where gRPC logs a nested internal error first). One at a time;
// thread-safe.
class GrpcLogCapture {
 public:
  GrpcLogCapture();
  ~GrpcLogCapture();
  GrpcLogCapture(const GrpcLogCapture&) = delete;
  GrpcLogCapture& operator=(const GrpcLogCapture&) = delete;

  void Add(const char* line);
  // What the system said of the first failed call in the lines
  // ("Address already in use"), or "".
  std::string OsError() const;

 private:
  mutable absl::Mutex mu_;
  std::string text_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rexec::ops

#endif  // REXEC_SERVER_OPS_LOGGING_H_
