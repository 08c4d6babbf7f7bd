#include "server/rpc/unary_call.h"

#include "absl/strings/str_cat.h"
#include "common/signal_name.h"
#include "common/status_macros.h"
#include "server/rpc/attach_call.h"
#include "server/rpc/grpc_status.h"
#include "server/rpc/table_messages.h"
#include "server/rpc/wire_message.h"

namespace rexec::rpc {

void UnaryCall::ListenAll(ServerState* state, Service* service,
                          grpc::ServerCompletionQueue* cq) {
  for (auth::Rpc rpc :
       {auth::Rpc::kList, auth::Rpc::kKill, auth::Rpc::kLookPath}) {
    (new UnaryCall(state, service, cq, rpc))->Begin();
  }
}

void UnaryCall::Begin() {
  if (rpc_ == auth::Rpc::kList) {
    service_->RequestList(&ctx_, &frame_, &responder_, cq_, cq_, &request_tag_);
  } else if (rpc_ == auth::Rpc::kKill) {
    service_->RequestKill(&ctx_, &frame_, &responder_, cq_, cq_, &request_tag_);
  } else {
    service_->RequestLookPath(&ctx_, &frame_, &responder_, cq_, cq_,
                              &request_tag_);
  }
}

UnaryCall::UnaryCall(ServerState* state, Service* service,
                     grpc::ServerCompletionQueue* cq, auth::Rpc rpc)
    : state_(state), service_(service), cq_(cq), rpc_(rpc) {
  state_->AddCall();
}

UnaryCall::~UnaryCall() { state_->RemoveCall(); }

void UnaryCall::OnRequest(bool ok) {
  if (!ok) {  // the server is shutting down; no call was started
    delete this;
    return;
  }
  (new UnaryCall(state_, service_, cq_, rpc_))->Begin();  // the next one
  state_->CallStarted();
  state_->metrics().CallStarted(rpc_);
  audit_.peer = state_->authenticator() != nullptr
                    ? state_->authenticator()->Peer(ctx_)
                    : ctx_.peer();
  audit_.rpc = std::string(auth::RpcName(rpc_));
  absl::StatusOr<grpc::ByteBuffer> reply = [&]() -> decltype(reply) {
    if (absl::Status audit = state_->AuditRefusal(); !audit.ok()) return audit;
    auth::Identity identity;
    if (const auth::Authenticator* authenticator = state_->authenticator()) {
      absl::StatusOr<auth::Identity> who = authenticator->Authenticate(ctx_);
      if (!who.ok()) return who.status();
      identity = *std::move(who);
    }
    audit_.identity = identity.name;
    return Answer(identity);
  }();
  const grpc::Status status =
      reply.ok() ? grpc::Status::OK : ToGrpcStatus(reply.status());
  audit_.status = absl::StatusCodeToString(
      static_cast<absl::StatusCode>(status.error_code()));
  audit_.message = status.error_message();
  state_->metrics().CallEnded(rpc_, status.error_code(), false);
  if (reply.ok()) {
    responder_.Finish(*reply, status, &finish_tag_);
  } else {
    responder_.FinishWithError(status, &finish_tag_);
  }
}

void UnaryCall::OnFinish(bool ok) {
  ops::WriteAuditRecord(audit_);
  state_->CallEnded();
  delete this;
}

absl::StatusOr<grpc::ByteBuffer> UnaryCall::Answer(
    const auth::Identity& identity) {
  const std::shared_ptr<const auth::Policy> policy = state_->policy();
  if (rpc_ == auth::Rpc::kLookPath) return LookPath(identity, policy.get());
  // Checked against the rule as it is now: an identity whose rule no
  // longer names the RPC cannot reach the sessions it started before.
  if (policy != nullptr) {
    absl::StatusOr<const auth::PolicyRule*> rule =
        policy->RuleFor(identity.name);
    if (!rule.ok()) return rule.status();
    audit_.rule = (*rule)->name();
    REXEC_RETURN_IF_ERROR((*rule)->CheckRpc(identity.name, rpc_));
  }
  return rpc_ == auth::Rpc::kList ? List(identity) : Kill(identity);
}

absl::StatusOr<grpc::ByteBuffer> UnaryCall::LookPath(
    const auth::Identity& identity, const auth::Policy* policy) {
  v1::LookPathRequest request;
  if (absl::Status parsed = ParseRequest(frame_, 1, &request); !parsed.ok()) {
    return parsed;
  }
  audit_.argv = {request.file()};
  audit_.cwd = request.options().cwd();
  absl::StatusOr<plan::FoundProgram> found =
      plan::LookPath(state_->LaunchContextFor(identity.name, policy),
                     request.file(), request.options());
  if (!found.ok()) return found.status();
  if (found->rule != nullptr) audit_.rule = found->rule->name();
  v1::LookPathResponse response;
  response.set_path(std::move(found->path));
  grpc::ByteBuffer reply;
  if (absl::Status status = SerializeResponse(response, &reply); !status.ok()) {
    return status;
  }
  return reply;
}

absl::StatusOr<grpc::ByteBuffer> UnaryCall::List(
    const auth::Identity& identity) {
  v1::ListRequest request;
  if (absl::Status parsed = ParseRequest(frame_, 1, &request); !parsed.ok()) {
    return parsed;
  }
  v1::ListResponse response;
  for (const table::Session& session : state_->table().List(identity.name)) {
    ToProto(session, response.add_sessions());
  }
  grpc::ByteBuffer reply;
  if (absl::Status status = SerializeResponse(response, &reply); !status.ok()) {
    return status;
  }
  return reply;
}

absl::StatusOr<grpc::ByteBuffer> UnaryCall::Kill(
    const auth::Identity& identity) {
  v1::KillRequest request;
  if (absl::Status parsed = ParseRequest(frame_, 1, &request); !parsed.ok()) {
    return parsed;
  }
  const std::string name =
      request.signal().empty() ? "SIGTERM" : request.signal();
  if (absl::StatusOr<int> sig = ParseSignal(name); !sig.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("signal: ", sig.status().message()));
  }
  if (request.session().empty()) {
    return absl::InvalidArgumentError(
        "session is empty: name the session (its id or name) to signal");
  }
  audit_.argv = {request.session(), name};
  absl::StatusOr<table::Session> session =
      state_->table().Find(identity.name, request.session());
  if (!session.ok()) return session.status();
  audit_.session = session->id;
  table::SessionMail mail;
  mail.kind = table::SessionMail::Kind::kSignal;
  mail.data = name;
  if (absl::Status posted = session->control->Post(std::move(mail));
      absl::IsUnavailable(posted)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "session ", session->id, " has ended: there is nothing to signal"));
  } else if (!posted.ok()) {
    return posted;
  }
  grpc::ByteBuffer reply;
  if (absl::Status status = SerializeResponse(v1::KillResponse(), &reply);
      !status.ok()) {
    return status;
  }
  return reply;
}

}  // namespace rexec::rpc
