// Conversions between the API's messages and the process layer's types.
#ifndef REXEC_SERVER_RPC_PROCESS_OPTIONS_H_
#define REXEC_SERVER_RPC_PROCESS_OPTIONS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rexec/v1/child_process.pb.h"
#include "server/process/child.h"
#include "server/process/exit_status.h"
#include "server/process/stop_policy.h"

namespace rexec::rpc {

// Fills everything but argv and caller_env, which PlanLaunch filters by the
// policy (and with options.pty, the terminal and its stdio). INVALID_ARGUMENT naming the field on bad input,
// and for a kill_grace over `max_kill_grace` (--max-kill-grace), which also
// bounds the default grace.
absl::Status FromProto(const v1::ProcessOptions& proto,
                       absl::Duration max_kill_grace,
                       process::SpawnOptions* spawn, process::StopPolicy* stop);

// The size a resize asks for: its 0s keep `current`'s. INVALID_ARGUMENT over
// 65535.
absl::StatusOr<process::WindowSize> FromProto(const v1::Resize& resize,
                                              process::WindowSize current);

void ToProto(const process::ExitStatus& status, v1::TerminationReason reason,
             absl::Duration wall_time, v1::ExitStatus* proto);

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_PROCESS_OPTIONS_H_
