// SpawnCall is one Spawn RPC: it runs argv as a child and streams stdin to
// it and its stdout and stderr back, ending with one exit event and status
// OK. The stream mechanics are ChildCall's.
//
// Owns itself; touched only on its completion queue's thread.
#ifndef REXEC_SERVER_RPC_SPAWN_CALL_H_
#define REXEC_SERVER_RPC_SPAWN_CALL_H_

#include "server/rpc/child_call.h"

namespace rexec::rpc {

class SpawnCall final
    : public ListeningCall<SpawnCall, v1::SpawnRequest, v1::SpawnResponse,
                           &ChildProcessService::RequestSpawn,
                           auth::Rpc::kSpawn> {
 private:
  friend ListeningCall;
  using ListeningCall::ListeningCall;

  absl::Status StartChild(const v1::SpawnRequest& request) override;
  v1::SpawnResponse StartedResponse() override {
    return StartedOf<v1::SpawnResponse>(child());
  }
  // resize
  void HandleOther(v1::SpawnRequest& request) override {
    Resize(request.resize());
  }
  void OnOutput(ChildHandle::Stream stream, table::OutputChunk data) override;
  void OnExitStatus(v1::ExitStatus exit) override;
};

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_SPAWN_CALL_H_
