#include "server/rpc/spawn_call.h"

#include "absl/strings/str_cat.h"
#include "server/rpc/grpc_status.h"
#include "server/rpc/process_options.h"

namespace rexec::rpc {
namespace {

// Messages waiting behind the one in flight. With 64 KiB chunks this bounds
// a call's buffered output to a few hundred KiB, however slow its client.
constexpr size_t kMaxOutbox = 4;

grpc::Status InvalidArgument(std::string message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::move(message));
}

}  // namespace

void SpawnCall::Listen(ServerState* state,
                       v1::ChildProcess::AsyncService* service,
                       grpc::ServerCompletionQueue* cq) {
  new SpawnCall(state, service, cq);
}

SpawnCall::SpawnCall(ServerState* state,
                     v1::ChildProcess::AsyncService* service,
                     grpc::ServerCompletionQueue* cq)
    : state_(state), service_(service), cq_(cq) {
  state_->AddCall();
  // Must precede the request; its tag comes back only if the call starts.
  ctx_.AsyncNotifyWhenDone(&done_tag_);
  service_->RequestSpawn(&ctx_, &stream_, cq_, cq_, &request_tag_);
}

SpawnCall::~SpawnCall() { state_->RemoveCall(); }

void SpawnCall::OnRequest(bool ok) {
  request_pending_ = false;
  if (!ok) {  // the server is shutting down; no call was started
    MaybeDelete();
    return;
  }
  done_pending_ = true;
  Listen(state_, service_, cq_);
  ReadNext();
}

void SpawnCall::ReadNext() {
  reading_ = true;
  stream_.Read(&request_, &read_tag_);
}

void SpawnCall::OnRead(bool ok) {
  reading_ = false;
  if (final_status_) {
    // Ending already; what the client still sends has nowhere to go.
  } else if (!ok) {
    // The client half-closed (or the call died, which OnDone handles).
    if (!runner_) {
      EndCall(
          InvalidArgument("the request stream ended before the start message"));
    } else {
      runner_->CloseStdin();
    }
  } else {
    HandleRequest();
  }
  MaybeDelete();
}

void SpawnCall::HandleRequest() {
  if (!runner_) {
    if (!request_.has_start()) {
      EndCall(InvalidArgument(
          "the first message must be start, got " +
          (request_.request_case() == v1::SpawnRequest::REQUEST_NOT_SET
               ? std::string("an empty message")
               : request_.GetDescriptor()
                     ->FindFieldByNumber(request_.request_case())
                     ->name())));
      return;
    }
    StartChild(request_.start());
    return;
  }
  switch (request_.request_case()) {
    case v1::SpawnRequest::kStart:
      EndCall(InvalidArgument(
          "start was sent twice: only the first message may be start"));
      return;
    case v1::SpawnRequest::kStdin:
      runner_->WriteStdin(std::move(*request_.mutable_stdin()));
      return;  // OnStdinWritten reads on
    case v1::SpawnRequest::kCloseStdin:
      runner_->CloseStdin();
      ReadNext();
      return;
    case v1::SpawnRequest::kSignal:
      if (absl::Status status = runner_->Signal(request_.signal().name());
          !status.ok()) {
        EndCall(InvalidArgument(absl::StrCat("signal: ", status.message())));
        return;
      }
      ReadNext();
      return;
    case v1::SpawnRequest::REQUEST_NOT_SET:
      EndCall(
          InvalidArgument("empty request message: none of start, stdin, "
                          "close_stdin or signal is set"));
      return;
  }
}

void SpawnCall::StartChild(const v1::SpawnStart& start) {
  process::SpawnOptions options;
  process::StopPolicy policy;
  options.argv.assign(start.argv().begin(), start.argv().end());
  absl::Status status = FromProto(start.options(), &options, &policy);
  if (status.ok()) {
    runner_ = std::make_unique<ChildRunner>(state_, cq_, this);
    status = runner_->Start(options, policy);
  }
  if (!status.ok()) {
    runner_.reset();
    EndCall(ToGrpcStatus(status));
    return;
  }
  runner_done_ = false;
  v1::SpawnResponse started;
  started.mutable_started()->set_pid(runner_->pid());
  Enqueue(std::move(started));
  ReadNext();
}

bool SpawnCall::HasOutputRoom() {
  // A call that is ending discards output, so that a child being stopped is
  // never blocked on a full pipe.
  return final_status_.has_value() || outbox_.size() < kMaxOutbox;
}

void SpawnCall::OnOutput(ChildRunner::Stream stream, std::string data) {
  if (final_status_) return;
  v1::SpawnResponse response;
  if (stream == ChildRunner::Stream::kStdout) {
    *response.mutable_stdout() = std::move(data);
  } else {
    *response.mutable_stderr() = std::move(data);
  }
  Enqueue(std::move(response));
}

void SpawnCall::OnStdinWritten() {
  if (!final_status_) ReadNext();
}

void SpawnCall::OnExit(v1::ExitStatus exit) {
  if (final_status_) return;  // cancelled or failed: nobody to tell
  v1::SpawnResponse response;
  *response.mutable_exit() = std::move(exit);
  Enqueue(std::move(response));
  final_status_ = grpc::Status::OK;
  MaybeFinish();
}

void SpawnCall::OnRunnerDone() {
  runner_done_ = true;
  MaybeDelete();
}

void SpawnCall::Enqueue(v1::SpawnResponse response) {
  outbox_.push_back(std::move(response));
  MaybeWrite();
}

void SpawnCall::MaybeWrite() {
  if (writing_ || outbox_.empty() || finish_called_) return;
  writing_ = true;
  stream_.Write(outbox_.front(), &write_tag_);
}

void SpawnCall::OnWrite(bool ok) {
  writing_ = false;
  outbox_.pop_front();
  if (!ok) {
    // The client is gone; OnDone will see the cancellation too.
    EndCall(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
  } else {
    MaybeWrite();
    if (runner_ && !runner_done_) runner_->ResumeOutput();
    MaybeFinish();
  }
  MaybeDelete();
}

void SpawnCall::EndCall(grpc::Status status) {
  if (final_status_) return;
  final_status_ = std::move(status);
  // Keep only the message being written: gRPC still reads it.
  while (outbox_.size() > (writing_ ? 1 : 0)) outbox_.pop_back();
  if (runner_ && !runner_done_)
    runner_->Stop(v1::TERMINATION_REASON_UNSPECIFIED);
  MaybeFinish();
}

void SpawnCall::MaybeFinish() {
  if (finish_called_ || !final_status_ || writing_ || !outbox_.empty()) return;
  finish_called_ = true;
  finish_pending_ = true;
  stream_.Finish(*final_status_, &finish_tag_);
}

void SpawnCall::OnFinish(bool ok) {
  finish_pending_ = false;
  MaybeDelete();
}

void SpawnCall::OnDone(bool ok) {
  done_pending_ = false;
  if (ctx_.IsCancelled()) {
    EndCall(
        grpc::Status(grpc::StatusCode::CANCELLED, "the call was cancelled"));
    // EndCall stops the child. A call that had already ended has either
    // stopped it (an error) or reported its exit (stragglers are the
    // runner's business then).
  }
  MaybeDelete();
}

void SpawnCall::MaybeDelete() {
  if (request_pending_ || done_pending_ || reading_ || writing_ ||
      finish_pending_ || !runner_done_) {
    return;
  }
  // A call that has decided how it ends must say so to gRPC first.
  if (final_status_ && !finish_called_) return;
  delete this;
}

}  // namespace rexec::rpc
