// UnimplementedCall answers every call of one bidirectional method with
// UNIMPLEMENTED, so that clients of a method the server declares but does not
// serve yet get an answer instead of waiting for ever. Owns itself, like the
// other calls; touched only on its completion queue's thread.
#ifndef REXEC_SERVER_RPC_UNIMPLEMENTED_CALL_H_
#define REXEC_SERVER_RPC_UNIMPLEMENTED_CALL_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "rexec/v1/child_process.grpc.pb.h"
#include "server/rpc/server_state.h"
#include "server/rpc/tag.h"

namespace rexec::rpc {

template <typename Request, typename Response>
class UnimplementedCall {
 public:
  using Service = v1::ChildProcess::AsyncService;
  using Stream = grpc::ServerAsyncReaderWriter<Response, Request>;
  using RequestMethod = void (Service::*)(grpc::ServerContext*, Stream*,
                                          grpc::CompletionQueue*,
                                          grpc::ServerCompletionQueue*, void*);

  static void Listen(ServerState* state, Service* service, RequestMethod method,
                     std::string name, grpc::ServerCompletionQueue* cq) {
    new UnimplementedCall(state, service, method, std::move(name), cq);
  }

 private:
  UnimplementedCall(ServerState* state, Service* service, RequestMethod method,
                    std::string name, grpc::ServerCompletionQueue* cq)
      : state_(state),
        service_(service),
        method_(method),
        name_(std::move(name)),
        cq_(cq) {
    state_->AddCall();
    (service_->*method_)(&ctx_, &stream_, cq_, cq_, &request_tag_);
  }
  ~UnimplementedCall() { state_->RemoveCall(); }

  void OnRequest(bool ok) {
    if (!ok) {
      delete this;
      return;
    }
    Listen(state_, service_, method_, name_, cq_);
    stream_.Finish(
        grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                     name_ + " is not implemented by this server yet"),
        &finish_tag_);
  }
  void OnFinish(bool ok) { delete this; }

  ServerState* const state_;
  Service* const service_;
  const RequestMethod method_;
  const std::string name_;
  grpc::ServerCompletionQueue* const cq_;
  grpc::ServerContext ctx_;
  Stream stream_{&ctx_};
  MemberTag<UnimplementedCall> request_tag_{this,
                                            &UnimplementedCall::OnRequest};
  MemberTag<UnimplementedCall> finish_tag_{this, &UnimplementedCall::OnFinish};
};

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_UNIMPLEMENTED_CALL_H_
