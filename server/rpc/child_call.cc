#include "server/rpc/child_call.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/signal_name.h"
#include "server/rpc/grpc_status.h"
#include "server/rpc/table_messages.h"
#include "server/rpc/wire_message.h"
#include "server/table/supervisor.h"

namespace rexec::rpc {
namespace {

// What may wait behind the message in flight, in bytes and in messages:
// with chunks of at most a pipe-full (1 MiB), a few chunks; of a Fork
// child's small messages, a thousand (one read of its channel can hold a
// hundred thousand, each a protobuf of its own). However slow the client,
// a call holds a few MiB of output.
constexpr size_t kMaxOutboxBytes = 4 << 20;
constexpr size_t kMaxOutboxMessages = 1024;

// What one call may hold of requests for inputs the child has not taken
// yet: enough that a client's signal gets past the stdin it wrote before
// (a few MiB that a child never reads), not more than a few messages of
// the largest size. All calls together: the memory budget.
constexpr size_t kMaxHeldBytes = 16 << 20;

// While the memory budget has room for a pipe-full, output is read as fast
// as the outbox takes it, and a request is read while there is room for
// the largest one (gRPC's default bound on a received message).
constexpr uint64_t kOutputAsk = 1 << 20;
constexpr uint64_t kLargestRequest = 4 << 20;
// Past the budget, a call that holds no output still reads this much at a
// time (a pipe's default size): every call moves, and each passes the
// budget by at most this.
constexpr size_t kOutputFloor = 64 << 10;
// How soon a call that waits for the budget asks again, when no write of
// its own will wake it.
constexpr absl::Duration kBudgetRetry = absl::Milliseconds(20);

grpc::Status InvalidArgument(std::string message) {
  return ToGrpcStatus(absl::InvalidArgumentError(std::move(message)));
}

// "start, stdin, close_stdin or signal": the kinds a request may be.
std::string RequestKinds(const google::protobuf::Descriptor* descriptor) {
  const google::protobuf::OneofDescriptor* oneof = descriptor->oneof_decl(0);
  std::vector<std::string> names;
  for (int i = 0; i < oneof->field_count(); ++i) {
    names.push_back(oneof->field(i)->name());
  }
  std::string last = names.back();
  names.pop_back();
  return absl::StrCat(absl::StrJoin(names, ", "), " or ", last);
}

}  // namespace

template <typename Request, typename Response>
ChildCall<Request, Response>::ChildCall(ServerState* state, Service* service,
                                        grpc::ServerCompletionQueue* cq,
                                        table::Executor* executor,
                                        RequestMethod method, auth::Rpc rpc)
    : state_(state),
      service_(service),
      cq_(cq),
      executor_(executor),
      method_(method),
      rpc_(rpc) {
  state_->AddCall();
}

template <typename Request, typename Response>
ChildCall<Request, Response>::~ChildCall() {
  state_->memory_budget().Give(held_bytes_ + busy_bytes_[0] + busy_bytes_[1] +
                               output_held_);
  state_->RemoveCall();
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::Begin() {
  // Must precede the request; its tag comes back only if the call starts.
  ctx_.AsyncNotifyWhenDone(&done_tag_);
  ++in_flight_;  // the request; done joins it once the call starts
  (service_->*method_)(&ctx_, &stream_, cq_, cq_, &request_tag_);
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::OnRequest(bool ok) {
  --in_flight_;
  if (!ok) {  // the server is shutting down; no call was started
    MaybeDelete();
    return;
  }
  ++in_flight_;  // done
  phase_ = Phase::kOpen;
  ListenAgain();
  // Also: the call was made, see MaybeDelete().
  audit_.peer = state_->authenticator() != nullptr
                    ? state_->authenticator()->Peer(ctx_)
                    : ctx_.peer();
  state_->CallStarted();
  state_->metrics().CallStarted(rpc_);
  if (RefusedToStart()) return;
  // Who it is, before a byte of the call is read.
  if (const auth::Authenticator* authenticator = state_->authenticator()) {
    absl::StatusOr<auth::Identity> identity = authenticator->Authenticate(ctx_);
    if (!identity.ok()) {
      EndCall(ToGrpcStatus(identity.status()));
      return;
    }
    identity_ = *std::move(identity);
  }
  policy_ = state_->policy();
  start_timer_.Set(cq_, state_->config().start_timeout);
  ReadNext();
}

template <typename Request, typename Response>
bool ChildCall<Request, Response>::RefusedToStart() {
  if (state_->phase() == ServerState::Phase::kServing) {
    const absl::Status audit = state_->AuditRefusal();
    if (audit.ok()) return false;
    EndCall(ToGrpcStatus(audit));
    return true;
  }
  // The health service says NOT_SERVING by now; a client that still comes
  // is told why, and to go elsewhere: nothing ran.
  EndCall(ToGrpcStatus(absl::UnavailableError(
      "rexecd is draining (it was told to stop): it takes no new calls; "
      "the running ones end first. Retry on another server, or when it is "
      "back")));
  return true;
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::OnStartTimeout() {
  if (!child_) {
    EndCall(ToGrpcStatus(absl::DeadlineExceededError(
        absl::StrCat("no start message within ",
                     absl::FormatDuration(state_->config().start_timeout),
                     " of the call (--start-timeout)"))));
  }
  MaybeDelete();
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::ReadNext() {
  if (reading_ || half_closed_ || final_status_) return;
  // Held requests wait for the child: past the bounds, so does the stream.
  // Only a call that holds input stops: its input's progress wakes it.
  const bool stall =
      held_bytes_ >= kMaxHeldBytes ||
      ((held_bytes_ > 0 || input_busy_[0] || input_busy_[1]) &&
       !state_->memory_budget().HasRoom(kLargestRequest));
  // A stream that is not read has a window's worth in gRPC: that window is
  // held in the budget from the stall until the child has taken all the
  // call held (see grpc_memory.h).
  if (stall) {
    if (!window_) {
      absl::StatusOr<GrpcMemory::Window> window =
          state_->grpc_memory().HoldWindow();
      if (!window.ok()) {
        EndCall(ToGrpcStatus(window.status()));
        return;
      }
      window_ = *std::move(window);
    }
    return;
  }
  if (held_bytes_ == 0 && !input_busy_[0] && !input_busy_[1]) {
    window_ = GrpcMemory::Window();
  }
  reading_ = true;
  ++in_flight_;
  stream_.Read(&frame_, &read_tag_);
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::OnRead(bool ok) {
  reading_ = false;
  --in_flight_;
  if (final_status_) {
    // Ending already; what the client still sends has nowhere to go.
  } else if (!ok) {
    // The client half-closed (or the call died, which OnDone handles).
    half_closed_ = true;
    if (!child_) {
      EndCall(
          InvalidArgument("the request stream ended before the start message"));
    } else if (!input_busy_[0] && held_[0].empty() && HalfCloseIsEof()) {
      CloseStdin();
    }
  } else {
    absl::Status parsed = ParseRequest(frame_, ++requests_read_, &request_);
    // Neither the frame nor the request is kept past its turn: a call that
    // waits would hold a copy of its last request, uncounted.
    frame_.Clear();
    if (parsed.ok()) {
      Dispatch();
    } else {
      EndCall(ToGrpcStatus(parsed));
    }
    request_.Clear();
  }
  MaybeDelete();
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::Dispatch() {
  if (!child_) {
    if (!request_.has_start()) {
      EndCall(InvalidArgument(
          absl::StrCat("the first message must be start, got ",
                       request_.request_case() == Request::REQUEST_NOT_SET
                           ? std::string("an empty message")
                           : request_.GetDescriptor()
                                 ->FindFieldByNumber(request_.request_case())
                                 ->name())));
      return;
    }
    start_timer_.Cancel();
    // A call that came before the drain may send its start after.
    if (RefusedToStart()) return;
    if (absl::Status status = StartChild(request_); !status.ok()) {
      child_.reset();
      EndCall(ToGrpcStatus(status));
      return;
    }
    Enqueue(StartedResponse());
    ReadNext();
    return;
  }
  if (std::optional<ChildHandle::Input> input = InputOf(request_);
      input && (input_busy_[static_cast<int>(*input)] ||
                !held_[static_cast<int>(*input)].empty())) {
    const size_t bytes = request_.ByteSizeLong();
    held_bytes_ += bytes;
    state_->memory_budget().Take(bytes);
    held_[static_cast<int>(*input)].push_back(std::move(request_));
    ReadNext();
    return;
  }
  Handle(request_);
  ReadNext();
}

template <typename Request, typename Response>
std::optional<ChildHandle::Input> ChildCall<Request, Response>::InputOf(
    const Request& request) {
  switch (request.request_case()) {
    case Request::kStdin:
    case Request::kCloseStdin:
      return ChildHandle::Input::kStdin;
    case Request::kStart:
    case Request::kSignal:
    case Request::REQUEST_NOT_SET:
      return std::nullopt;
    default:
      return InputOfOther(request);
  }
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::HandleHeld(ChildHandle::Input input) {
  std::deque<Request>& held = held_[static_cast<int>(input)];
  while (!held.empty() && !input_busy_[static_cast<int>(input)] &&
         !final_status_) {
    Request request = std::move(held.front());
    held.pop_front();
    const size_t bytes = request.ByteSizeLong();
    held_bytes_ -= bytes;
    state_->memory_budget().Give(bytes);
    Handle(request);
  }
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::Handle(Request& request) {
  if (request.request_case() != Request::kStart) {
    if (absl::Status status = CheckRequest(request); !status.ok()) {
      EndCall(ToGrpcStatus(status));
      return;
    }
  }
  switch (request.request_case()) {
    case Request::kStart:
      EndCall(InvalidArgument(
          "start was sent twice: only the first message may be start"));
      return;
    case Request::kStdin:
      WriteToChild(ChildHandle::Input::kStdin,
                   std::move(*request.mutable_stdin()));
      return;
    case Request::kCloseStdin:
      CloseStdin();
      return;
    case Request::kSignal:
      if (absl::Status status = child_->Signal(request.signal().name());
          !status.ok()) {
        EndCall(ToGrpcStatus(absl::Status(
            status.code(), absl::StrCat("signal: ", status.message()))));
      }
      return;
    case Request::REQUEST_NOT_SET:
      EndCall(InvalidArgument(absl::StrCat("empty request message: none of ",
                                           RequestKinds(Request::descriptor()),
                                           " is set")));
      return;
    default:
      HandleOther(request);
      return;
  }
}

template <typename Request, typename Response>
absl::StatusOr<plan::LaunchPlan> ChildCall<Request, Response>::Plan(
    std::vector<std::string> argv, const v1::ProcessOptions& options) {
  audit_.argv = argv;
  audit_.cwd = options.cwd();
  absl::StatusOr<plan::LaunchPlan> plan = plan::PlanLaunch(
      state_->LaunchContextFor(identity_.name, policy_.get(), rpc_),
      std::move(argv), options);
  if (plan.ok()) {
    audit_.cwd = plan->spawn.cwd;
    if (plan->rule != nullptr) audit_.rule = plan->rule->name();
  }
  return plan;
}

template <typename Request, typename Response>
absl::Status ChildCall<Request, Response>::StartSupervisor(
    plan::LaunchPlan plan) {
  table::Launch launch;
  launch.spawn = std::move(plan.spawn);
  launch.stop = plan.stop;
  launch.identity = identity_.name;
  if (plan.rule != nullptr) {
    launch.identity_cap = plan.rule->max_processes();
    launch.rule = plan.rule->name();
  }
  launch.detach = plan.detach;
  launch.session_name = std::move(plan.session_name);
  if (plan.request != nullptr) {
    launch.request =
        std::shared_ptr<const plan::LaunchRequest>(std::move(plan.request));
  }
  auto supervisor =
      std::make_unique<table::Supervisor>(&state_->table(), executor_, this);
  absl::Status status = supervisor->Start(std::move(launch));
  child_ = std::move(supervisor);
  child_done_ = !status.ok();
  return status;
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::Attached(
    std::unique_ptr<ChildHandle> handle) {
  child_ = std::move(handle);
  child_done_ = false;
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::WriteToChild(ChildHandle::Input input,
                                                std::string data) {
  const int i = static_cast<int>(input);
  input_busy_[i] = true;
  // A subclass may write again from its OnInputWritten() (Fork's answers
  // owed), before ours gave the last chunk back.
  state_->memory_budget().Give(std::exchange(busy_bytes_[i], data.size()));
  state_->memory_budget().Take(data.size());
  child_->WriteInput(input, std::move(data));  // may call OnInputWritten
}

template <typename Request, typename Response>
size_t ChildCall<Request, Response>::OutputRoom() {
  // A call that is ending discards output, so that a child being stopped is
  // never blocked on a full pipe.
  if (final_status_) return SIZE_MAX;
  if (outbox_.size() >= kMaxOutboxMessages ||
      outbox_bytes_ >= kMaxOutboxBytes) {
    return 0;  // a write's completion resumes the output
  }
  if (state_->memory_budget().HasRoom(kOutputAsk)) return SIZE_MAX;
  if (output_held_ == 0) return kOutputFloor;
  // The budget is spent and this call holds output: it waits for room.
  // A write in flight asks again when it completes; else the timer.
  if (!writing_) budget_timer_.Set(cq_, kBudgetRetry);
  return 0;
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::HoldOutput(int64_t bytes) {
  output_held_ += bytes;
  if (bytes >= 0) {
    state_->memory_budget().Take(bytes);
  } else {
    state_->memory_budget().Give(-bytes);
  }
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::OnBudgetRetry() {
  if (final_status_) return;
  OnOutputRoom();
  if (child_ && !child_done_) child_->ResumeOutput();
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::OnInputWritten(ChildHandle::Input input) {
  input_busy_[static_cast<int>(input)] = false;
  state_->memory_budget().Give(
      std::exchange(busy_bytes_[static_cast<int>(input)], 0));
  if (final_status_) return;
  HandleHeld(input);
  if (half_closed_ && input == ChildHandle::Input::kStdin && !input_busy_[0] &&
      held_[0].empty() && HalfCloseIsEof()) {
    CloseStdin();
  }
  ReadNext();
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::CloseStdin() {
  if (!child_->has_terminal()) {
    child_->CloseInput(ChildHandle::Input::kStdin);
  } else if (std::optional<char> eof = child_->TerminalEof()) {
    // A terminal stays open: EOF is a key, as ssh sends it, and may be
    // pressed again.
    WriteToChild(ChildHandle::Input::kStdin, std::string(1, *eof));
  }
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::Resize(const v1::Resize& resize) {
  if (absl::Status status = child_->Resize(FromProto(resize)); !status.ok()) {
    EndCall(ToGrpcStatus(status));
  }
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::OnExit(table::ExitReport exit) {
  v1::ExitStatus proto;
  ToProto(exit, &proto);
  OnExitStatus(std::move(proto));
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::OnSupervisorDone() {
  child_done_ = true;
  MaybeDelete();
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::Enqueue(const Response& response) {
  // Serialized now, once: the frame's length is what the outbox counts.
  grpc::ByteBuffer frame;
  if (absl::Status status = SerializeResponse(response, &frame); !status.ok()) {
    // Only a message over 2 GiB, which no limit of ours allows.
    if (final_status_) {
      final_status_ = ToGrpcStatus(status);
      MaybeFinish();
    } else {
      EndCall(ToGrpcStatus(status));
    }
    return;
  }
  EnqueueFrame(std::move(frame));
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::EnqueueFrame(grpc::ByteBuffer frame) {
  outbox_bytes_ += frame.Length();
  HoldOutput(frame.Length());
  outbox_.push_back(std::move(frame));
  MaybeWrite();
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::PopOutbox(bool front) {
  const size_t bytes =
      front ? outbox_.front().Length() : outbox_.back().Length();
  outbox_bytes_ -= bytes;
  HoldOutput(-static_cast<int64_t>(bytes));
  front ? outbox_.pop_front() : outbox_.pop_back();
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::EndWith(const Response& last) {
  if (final_status_) return;  // cancelled or failed: nobody to tell
  final_status_ = grpc::Status::OK;
  phase_ = Phase::kEnding;
  Enqueue(last);  // goes out with the status, see MaybeWrite()
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::MaybeWrite() {
  if (writing_ || outbox_.empty() || phase_ == Phase::kFinishing) return;
  if (final_status_ && outbox_.size() == 1) {
    // The last message and the status in one batch: one completion and
    // one trip through the transport instead of two, which is a fair part
    // of a short child's round trip.
    phase_ = Phase::kFinishing;
    ++in_flight_;
    stream_.WriteAndFinish(outbox_.front(), grpc::WriteOptions(),
                           *final_status_, &finish_tag_);
    PopOutbox(/*front=*/true);
    return;
  }
  writing_ = true;
  ++in_flight_;
  stream_.Write(outbox_.front(), &write_tag_);
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::OnWrite(bool ok) {
  writing_ = false;
  --in_flight_;
  PopOutbox(/*front=*/true);
  if (!ok) {
    // The client is gone; OnDone will see the cancellation too. Nothing
    // queued can reach it, the exit included when the call had ended
    // already (EndWith queued it behind a full outbox): with the outbox
    // left as it was, Finish would wait for it for ever.
    while (!outbox_.empty()) PopOutbox(/*front=*/false);
    grpc::Status gone =
        ToGrpcStatus(absl::CancelledError("the client went away"));
    if (final_status_ && final_status_->ok()) {
      final_status_ = gone;  // the exit never reached it
    } else {
      EndCall(gone);
    }
  } else {
    MaybeWrite();
    OnOutputRoom();
    if (child_ && !child_done_) child_->ResumeOutput();
  }
  // Also when the call had ended already (a cancel that landed while this
  // write was in flight): Finish waited for this write to come back.
  MaybeFinish();
  MaybeDelete();
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::EndCall(grpc::Status status) {
  if (final_status_) return;
  final_status_ = std::move(status);
  phase_ = Phase::kEnding;
  // A client that is gone reads nothing more: keep only the message being
  // written (gRPC still reads it). Any other error goes out after what was
  // already queued, so that output (or a Fork message) the child produced
  // before the error is not lost. Nothing is queued after this.
  table::TerminationReason reason = table::TerminationReason::kCallFailed;
  if (final_status_->error_code() == grpc::StatusCode::CANCELLED) {
    while (outbox_.size() > (writing_ ? 1 : 0)) PopOutbox(/*front=*/false);
    reason = state_->phase() == ServerState::Phase::kStopping
                 ? table::TerminationReason::kServerShutdown
                 : table::TerminationReason::kClientGone;
  }
  start_timer_.Cancel();
  if (child_ && !child_done_) {
    if (!child_->outlives_call()) {
      child_->Stop(reason);
    } else {
      // A session outlives its call, whatever the call's fate.
      RecordChild();
      child_done_ = true;
      child_.release()->Release();
    }
  }
  MaybeFinish();
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::RecordChild() {
  audit_.pid = child_->pid();
  audit_.bytes_in = child_->bytes_in();
  audit_.bytes_out = child_->bytes_out();
  audit_.session = child_->session_id();
  if (const std::optional<table::ExitReport>& exit = child_->reported_exit()) {
    if (exit->status.exited()) {
      audit_.exit_code = exit->status.code();
    } else {
      audit_.exit_signal = SignalName(exit->status.signal_number());
    }
    audit_.reason = table::ReasonName(exit->reason);
    audit_.wall_time = exit->wall_time;
  }
}

// Finish on its own, for a call that ends with nothing left to write; with
// messages queued, MaybeWrite() sends the last one with the status.
template <typename Request, typename Response>
void ChildCall<Request, Response>::MaybeFinish() {
  if (phase_ != Phase::kEnding || writing_ || !outbox_.empty()) return;
  phase_ = Phase::kFinishing;
  ++in_flight_;
  stream_.Finish(*final_status_, &finish_tag_);
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::OnFinish(bool ok) {
  --in_flight_;
  MaybeDelete();
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::OnDone(bool ok) {
  --in_flight_;
  if (ctx_.IsCancelled()) {
    // EndCall stops the child. A call that had already ended has either
    // stopped it (an error) or reported its exit (stragglers are the
    // supervisor's business then).
    EndCall(ToGrpcStatus(absl::CancelledError("the call was cancelled")));
  }
  MaybeDelete();
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::MaybeDelete() {
  if (in_flight_ > 0 || !child_done_) return;
  // A call that has decided how it ends must say so to gRPC first.
  if (phase_ == Phase::kEnding) return;
  // A call that was never made (the server shut down first) has no record.
  if (!audit_.peer.empty()) {
    WriteAudit();
    state_->CallEnded();
  }
  delete this;
}

template <typename Request, typename Response>
void ChildCall<Request, Response>::WriteAudit() {
  const grpc::Status status = final_status_.value_or(grpc::Status::OK);
  audit_.identity = identity_.name;
  audit_.rpc = std::string(auth::RpcName(rpc_));
  audit_.status = absl::StatusCodeToString(
      static_cast<absl::StatusCode>(status.error_code()));
  audit_.message = status.error_message();
  if (child_) RecordChild();  // else none started, or released
  state_->metrics().CallEnded(rpc_, status.error_code(), audit_.pid != 0);
  ops::WriteAuditRecord(audit_);
}

template class ChildCall<v1::SpawnRequest, v1::SpawnResponse>;
template class ChildCall<v1::ExecRequest, v1::ExecResponse>;
template class ChildCall<v1::ForkRequest, v1::ForkResponse>;
template class ChildCall<v1::AttachRequest, v1::AttachResponse>;

}  // namespace rexec::rpc
