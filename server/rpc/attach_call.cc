#include "server/rpc/attach_call.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/rpc/grpc_status.h"
#include "server/rpc/table_messages.h"

namespace rexec::rpc {

absl::Status AttachCall::StartChild(const v1::AttachRequest& request) {
  const v1::AttachStart& start = request.start();
  if (start.session().empty()) {
    return absl::InvalidArgumentError(
        "start.session is empty: name the session (its id or name) to attach "
        "to");
  }
  if (start.no_follow() && !start.output_only()) {
    return absl::InvalidArgumentError(
        "start.no_follow is for an output_only attachment (rexec logs)");
  }
  audit().argv = {start.session()};
  // Checked against the rule as it is now: an identity whose rule no
  // longer names Attach cannot reach the sessions it started before.
  const auth::Policy* policy = call_policy();
  if (policy != nullptr) {
    absl::StatusOr<const auth::PolicyRule*> rule =
        policy->RuleFor(identity().name);
    if (!rule.ok()) return rule.status();
    audit().rule = (*rule)->name();
    REXEC_RETURN_IF_ERROR((*rule)->CheckRpc(identity().name, auth::Rpc::kAttach));
  }
  absl::StatusOr<table::Session> session =
      state()->table().Find(identity().name, start.session());
  if (!session.ok()) return session.status();
  // Nor one the rule would no longer start (its program, user, group or
  // cgroup taken away since).
  if (const plan::LaunchRequest* launch = LaunchOf(*session);
      policy != nullptr && launch != nullptr) {
    absl::Status allowed = plan::CheckStillAllowed(
        state()->LaunchContextFor(identity().name, policy), *launch);
    if (!allowed.ok()) {
      return absl::PermissionDeniedError(absl::StrCat(
          "session ", session->id,
          " was started under a rule that would not start it now: ",
          allowed.message()));
    }
  }
  audit().argv = session->argv;
  audit().session = session->id;
  table::Attachment::Options options;
  if (start.has_stdout_from()) options.from[0] = start.stdout_from();
  if (start.has_stderr_from()) options.from[1] = start.stderr_from();
  options.output_only = output_only_ = start.output_only();
  options.follow = !start.no_follow();
  auto attachment = std::make_unique<table::Attachment>(
      &state()->table(), executor(), this, *std::move(session), options);
  if (absl::Status begun = attachment->Begin(); !begun.ok()) return begun;
  attachment_ = attachment.get();
  Attached(std::move(attachment));
  return absl::OkStatus();
}

v1::AttachResponse AttachCall::StartedResponse() {
  v1::AttachResponse response;
  v1::Attached* attached = response.mutable_attached();
  ToProto(attachment_->session(), attached->mutable_session());
  attached->set_stdout_offset(attachment_->offset(ChildHandle::Stream::kStdout));
  attached->set_stderr_offset(attachment_->offset(ChildHandle::Stream::kStderr));
  return response;
}

absl::Status AttachCall::CheckRequest(const v1::AttachRequest& request) {
  if (!output_only_) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "this attachment is output_only (rexec logs): it sends no stdin, "
      "signals or resizes");
}

void AttachCall::OnOutput(ChildHandle::Stream stream, table::OutputChunk data) {
  if (ending()) return;
  EnqueueOutput(stream, std::move(data));
}

void AttachCall::OnLost(ChildHandle::Stream stream, uint64_t bytes,
                        uint64_t resume_offset) {
  if (ending()) return;
  v1::AttachResponse response;
  response.mutable_lost()->set_stderr(stream == ChildHandle::Stream::kStderr);
  response.mutable_lost()->set_bytes(bytes);
  response.mutable_lost()->set_resume_offset(resume_offset);
  Enqueue(response);
}

void AttachCall::OnExitStatus(v1::ExitStatus exit) {
  v1::AttachResponse response;
  *response.mutable_exit() = std::move(exit);
  EndWith(std::move(response));
}

void AttachCall::OnCaughtUp() { EndCall(grpc::Status::OK); }

}  // namespace rexec::rpc
