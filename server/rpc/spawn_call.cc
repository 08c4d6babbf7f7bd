#include "server/rpc/spawn_call.h"

#include "common/status_macros.h"

namespace rexec::rpc {

absl::Status SpawnCall::StartChild(const v1::SpawnRequest& request) {
  const v1::SpawnStart& start = request.start();
  absl::StatusOr<plan::LaunchPlan> plan =
      Plan({start.argv().begin(), start.argv().end()}, start.options());
  if (!plan.ok()) return plan.status();
  if (!start.argv0().empty()) {
    REXEC_RETURN_IF_ERROR(plan::UseArgv0(identity().name, start.argv0(), &*plan));
  }
  return StartSupervisor(*std::move(plan));
}

void SpawnCall::OnOutput(ChildHandle::Stream stream, table::OutputChunk data) {
  if (ending()) return;
  EnqueueOutput(stream, std::move(data));
}

void SpawnCall::OnExitStatus(v1::ExitStatus exit) {
  v1::SpawnResponse response;
  *response.mutable_exit() = std::move(exit);
  EndWith(std::move(response));
}

}  // namespace rexec::rpc
