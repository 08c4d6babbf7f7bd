// rexecd's logs: every line to stderr (what a container runtime collects),
// as text or, with --log-format json, as one JSON object per line:
//   {"time":"...","level":"info","msg":"listening on 127.0.0.1:50051"}
//   {"time":"...","level":"info","event":"call","identity":"alice",...}
// Call SetUpLogging() once, before any other thread logs.
#ifndef REXEC_SERVER_OPS_LOGGING_H_
#define REXEC_SERVER_OPS_LOGGING_H_

#include <string>

#include "absl/synchronization/mutex.h"
#include "server/ops/audit_log.h"

namespace rexec::ops {

void SetUpLogging(LogFormat format);
LogFormat CurrentLogFormat();

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
