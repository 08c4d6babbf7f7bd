// SessionCall is one unary RPC on the caller's sessions: List (its
// sessions) or Kill (a signal to one). Each is authenticated as the
// streaming calls are, parses its request itself (wire_message.h), acts at
// once on the completion-queue thread (a table lookup, a post to the
// session's supervisor), writes one audit record and answers.
//
// Owns itself; touched only on its completion queue's thread.
#ifndef REXEC_SERVER_RPC_SESSION_CALLS_H_
#define REXEC_SERVER_RPC_SESSION_CALLS_H_

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "server/auth/authenticator.h"
#include "server/ops/audit_log.h"
#include "server/rpc/child_call.h"
#include "server/rpc/server_state.h"
#include "server/rpc/tag.h"

namespace rexec::rpc {

class SessionCall {
 public:
  using Service = ChildProcessService;
  using Responder = grpc::ServerAsyncResponseWriter<grpc::ByteBuffer>;

  // Waits for the next List and the next Kill call on `cq`.
  static void ListenAll(ServerState* state, Service* service,
                        grpc::ServerCompletionQueue* cq);

  SessionCall(const SessionCall&) = delete;
  SessionCall& operator=(const SessionCall&) = delete;

 private:
  SessionCall(ServerState* state, Service* service,
              grpc::ServerCompletionQueue* cq, auth::Rpc rpc);
  ~SessionCall();

  // Asks gRPC for the next call of this kind.
  void Begin();
  void OnRequest(bool ok);
  void OnFinish(bool ok);
  // The answer to the parsed request, as a status or a response.
  absl::StatusOr<grpc::ByteBuffer> Answer(const auth::Identity& identity);
  absl::StatusOr<grpc::ByteBuffer> List(const auth::Identity& identity);
  absl::StatusOr<grpc::ByteBuffer> Kill(const auth::Identity& identity);

  ServerState* const state_;
  Service* const service_;
  grpc::ServerCompletionQueue* const cq_;
  const auth::Rpc rpc_;
  grpc::ServerContext ctx_;
  Responder responder_{&ctx_};
  grpc::ByteBuffer frame_;
  MemberTag<SessionCall> request_tag_{this, &SessionCall::OnRequest};
  MemberTag<SessionCall> finish_tag_{this, &SessionCall::OnFinish};
  ops::AuditRecord audit_;
};

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_SESSION_CALLS_H_
