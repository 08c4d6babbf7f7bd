// UnaryCall is one unary RPC: List (the caller's sessions), Kill (a signal
// to one of them) or LookPath (what a Spawn of a name would run). Each is
// authenticated as the streaming calls are, parses its request itself
// (wire_message.h), acts at once on the completion-queue thread (a table
// lookup, a post to the session's supervisor, a PATH lookup bounded as
// Spawn's), writes one audit record and answers.
//
// Owns itself; touched only on its completion queue's thread.
#ifndef REXEC_SERVER_RPC_UNARY_CALL_H_
#define REXEC_SERVER_RPC_UNARY_CALL_H_

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "server/auth/authenticator.h"
#include "server/ops/audit_log.h"
#include "server/rpc/child_call.h"
#include "server/rpc/server_state.h"
#include "server/rpc/tag.h"

namespace rexec::rpc {

class UnaryCall {
 public:
  using Service = ChildProcessService;
  using Responder = grpc::ServerAsyncResponseWriter<grpc::ByteBuffer>;

  // Waits for the next List, Kill and LookPath call on `cq`.
  static void ListenAll(ServerState* state, Service* service,
                        grpc::ServerCompletionQueue* cq);

  UnaryCall(const UnaryCall&) = delete;
  UnaryCall& operator=(const UnaryCall&) = delete;

 private:
  UnaryCall(ServerState* state, Service* service,
            grpc::ServerCompletionQueue* cq, auth::Rpc rpc);
  ~UnaryCall();

  // Asks gRPC for the next call of this kind.
  void Begin();
  void OnRequest(bool ok);
  void OnFinish(bool ok);
  // The answer to the parsed request, as a status or a response.
  absl::StatusOr<grpc::ByteBuffer> Answer(const auth::Identity& identity);
  absl::StatusOr<grpc::ByteBuffer> List(const auth::Identity& identity);
  absl::StatusOr<grpc::ByteBuffer> Kill(const auth::Identity& identity);
  absl::StatusOr<grpc::ByteBuffer> LookPath(const auth::Identity& identity,
                                            const auth::Policy* policy);

  ServerState* const state_;
  Service* const service_;
  grpc::ServerCompletionQueue* const cq_;
  const auth::Rpc rpc_;
  grpc::ServerContext ctx_;
  Responder responder_{&ctx_};
  grpc::ByteBuffer frame_;
  MemberTag<UnaryCall> request_tag_{this, &UnaryCall::OnRequest};
  MemberTag<UnaryCall> finish_tag_{this, &UnaryCall::OnFinish};
  ops::AuditRecord audit_;
};

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_UNARY_CALL_H_
