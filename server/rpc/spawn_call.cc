#include "server/rpc/spawn_call.h"

#include "server/rpc/process_options.h"

namespace rexec::rpc {

absl::Status SpawnCall::StartChild(const v1::SpawnRequest& request) {
  process::SpawnOptions options;
  process::StopPolicy policy;
  options.argv.assign(request.start().argv().begin(),
                      request.start().argv().end());
  if (absl::Status status =
          FromProto(request.start().options(), &options, &policy);
      !status.ok()) {
    return status;
  }
  return StartRunner(options, policy);
}

void SpawnCall::OnOutput(ChildRunner::Stream stream, std::string data) {
  if (ending()) return;
  v1::SpawnResponse response;
  if (stream == ChildRunner::Stream::kStdout) {
    *response.mutable_stdout() = std::move(data);
  } else {
    *response.mutable_stderr() = std::move(data);
  }
  Enqueue(std::move(response));
}

void SpawnCall::OnExit(v1::ExitStatus exit) {
  v1::SpawnResponse response;
  *response.mutable_exit() = std::move(exit);
  EndWith(std::move(response));
}

}  // namespace rexec::rpc
