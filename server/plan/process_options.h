// ProcessOptions (the API's message) to the process layer's spawn options
// and stop policy.
#ifndef REXEC_SERVER_PLAN_PROCESS_OPTIONS_H_
#define REXEC_SERVER_PLAN_PROCESS_OPTIONS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rexec/v1/child_process.pb.h"
#include "server/process/child.h"
#include "server/process/stop_policy.h"

namespace rexec::plan {

// Fills everything but argv and caller_env, which PlanLaunch filters by the
// policy (and with options.pty, the terminal and its stdio). INVALID_ARGUMENT naming the field on bad input,
// and for a kill_grace over `max_kill_grace` (--max-kill-grace), which also
// bounds the default grace.
absl::Status FromProto(const v1::ProcessOptions& proto,
                       absl::Duration max_kill_grace,
                       process::SpawnOptions* spawn, process::StopPolicy* stop);

}  // namespace rexec::plan

#endif  // REXEC_SERVER_PLAN_PROCESS_OPTIONS_H_
