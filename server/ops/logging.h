// rexecd's logs: every line to stderr (what a container runtime collects),
// as text or, with --log-format json, as one JSON object per line:
//   {"time":"...","level":"info","msg":"listening on 127.0.0.1:50051"}
//   {"time":"...","level":"info","event":"call","identity":"alice",...}
// Call SetUpLogging() once, before any other thread logs.
#ifndef REXEC_SERVER_OPS_LOGGING_H_
#define REXEC_SERVER_OPS_LOGGING_H_

#include "server/ops/audit_log.h"

namespace rexec::ops {

void SetUpLogging(LogFormat format);
LogFormat CurrentLogFormat();

}  // namespace rexec::ops

#endif  // REXEC_SERVER_OPS_LOGGING_H_
