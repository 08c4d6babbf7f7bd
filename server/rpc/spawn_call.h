// SpawnCall is one Spawn RPC, a state machine driven by completion-queue
// tags: it waits for the start message, runs the child through a
// ChildRunner, streams stdin to it and its output back, and ends with one
// exit event and status OK. At most one Write is in flight, with a small
// outbox behind it; while the outbox is full the child's pipes are not read.
// One Read is outstanding at a time, and the next is issued only when the
// previous chunk of stdin reached the child's pipe.
//
// Owns itself: it deletes itself when the RPC is finished, every tag has come
// back and its child is reaped. Touched only on its completion queue's
// thread; not thread-safe.
#ifndef REXEC_SERVER_RPC_SPAWN_CALL_H_
#define REXEC_SERVER_RPC_SPAWN_CALL_H_

#include <grpcpp/grpcpp.h>

#include <deque>
#include <memory>
#include <optional>

#include "rexec/v1/child_process.grpc.pb.h"
#include "server/rpc/child_runner.h"
#include "server/rpc/server_state.h"
#include "server/rpc/tag.h"

namespace rexec::rpc {

class SpawnCall final : public ChildRunner::Owner {
 public:
  // Creates a call that waits for the next Spawn RPC on `cq`.
  static void Listen(ServerState* state,
                     v1::ChildProcess::AsyncService* service,
                     grpc::ServerCompletionQueue* cq);

 private:
  SpawnCall(ServerState* state, v1::ChildProcess::AsyncService* service,
            grpc::ServerCompletionQueue* cq);
  ~SpawnCall() override;

  void OnRequest(bool ok);
  void OnRead(bool ok);
  void OnWrite(bool ok);
  void OnDone(bool ok);
  void OnFinish(bool ok);

  // ChildRunner::Owner
  bool HasOutputRoom() override;
  void OnOutput(ChildRunner::Stream stream, std::string data) override;
  void OnStdinWritten() override;
  void OnExit(v1::ExitStatus exit) override;
  void OnRunnerDone() override;

  void StartChild(const v1::SpawnStart& start);
  void HandleRequest();
  void ReadNext();
  void Enqueue(v1::SpawnResponse response);
  void MaybeWrite();
  // Ends the RPC with `status` (an error), stopping the child with its policy.
  void EndCall(grpc::Status status);
  void MaybeFinish();
  void MaybeDelete();

  ServerState* const state_;
  v1::ChildProcess::AsyncService* const service_;
  grpc::ServerCompletionQueue* const cq_;

  grpc::ServerContext ctx_;
  grpc::ServerAsyncReaderWriter<v1::SpawnResponse, v1::SpawnRequest> stream_{
      &ctx_};
  MemberTag<SpawnCall> request_tag_{this, &SpawnCall::OnRequest};
  MemberTag<SpawnCall> read_tag_{this, &SpawnCall::OnRead};
  MemberTag<SpawnCall> write_tag_{this, &SpawnCall::OnWrite};
  MemberTag<SpawnCall> done_tag_{this, &SpawnCall::OnDone};
  MemberTag<SpawnCall> finish_tag_{this, &SpawnCall::OnFinish};

  bool request_pending_ = true;
  bool done_pending_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool finish_called_ = false;
  bool finish_pending_ = false;

  v1::SpawnRequest request_;
  std::deque<v1::SpawnResponse> outbox_;
  std::optional<grpc::Status> final_status_;

  std::unique_ptr<ChildRunner> runner_;
  bool runner_done_ = true;
};

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_SPAWN_CALL_H_
