// ChildCall is what the Spawn, Exec and Fork RPCs share: one bidirectional
// stream whose first request starts a child (through the table's
// Supervisor, on this queue's executor) and
// whose later requests feed it (stdin, close_stdin, signal, and for Fork the
// IPC channel), driven by completion-queue tags. The subclass turns the start
// message into spawn options and the child's output and exit into responses.
//
// Flow control: at most one Write is in flight, with an outbox of a few MiB
// (or a thousand messages) behind it; while the outbox is full the child's
// output is not read. One Read is outstanding at a time. Each input (stdin,
// the channel) takes one chunk at a time: requests for an input that is
// still busy are held in order, and reading goes on while what is held
// stays under kMaxHeldBytes per call, so that a signal (or a resize, or the
// call's end) reaches the child while stdin it does not read waits. Past
// that bound the stream stalls until the child reads, as a local pipe would.
//
// What the call holds (the outbox, held requests, the chunk an input is
// writing, a subclass's own: OutputHeld()) counts against the server's
// memory budget. While the budget is spent, a call that holds output reads
// no more of it, and one that holds input reads no more requests, until
// there is room (back-pressure, as above); a call that holds nothing still
// moves, a little at a time, so that every call goes on and the budget is
// passed by at most that much per call. A call that stops reading its
// stream (its client sends faster than the child takes) holds a window of
// gRPC's in the budget (grpc_memory.h) until the child has taken all it
// held; where the budget has no room for one, the call ends
// RESOURCE_EXHAUSTED naming it, rather than gRPC cancelling a call at
// random when its quota is full.
//
// Before anything else, the call is authenticated (an identity, or
// UNAUTHENTICATED); it must then send its start within --start-timeout.
// Requests arrive as raw frames and are parsed here (wire_message.h), so a
// frame that is not a valid request ends the call with an error naming it.
// When the call is gone, one audit record says who asked what and how it
// ended.
//
// Owns itself: it deletes itself when the RPC is finished, every tag has
// come back and its child is reaped. Touched only on its completion queue's
// thread; not thread-safe.
#ifndef REXEC_SERVER_RPC_CHILD_CALL_H_
#define REXEC_SERVER_RPC_CHILD_CALL_H_

#include <grpcpp/grpcpp.h>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "rexec/v1/child_process.grpc.pb.h"
#include "server/auth/authenticator.h"
#include "server/ops/audit_log.h"
#include "server/plan/launch_plan.h"
#include "server/rpc/cq_timer.h"
#include "server/rpc/grpc_memory.h"
#include "server/rpc/grpc_status.h"
#include "server/rpc/server_state.h"
#include "server/rpc/tag.h"
#include "server/rpc/wire_message.h"
#include "server/table/child_handle.h"
#include "server/table/executor.h"

namespace rexec::rpc {

using table::ChildHandle;

// The service with its methods as raw frames: see wire_message.h.
using ChildProcessService = v1::ChildProcess::WithRawMethod_Spawn<
    v1::ChildProcess::WithRawMethod_Exec<v1::ChildProcess::WithRawMethod_Fork<
        v1::ChildProcess::WithRawMethod_List<
            v1::ChildProcess::WithRawMethod_Attach<
                v1::ChildProcess::WithRawMethod_Kill<
                    v1::ChildProcess::WithRawMethod_LookPath<
                        v1::ChildProcess::Service>>>>>>>;

// The `started` response of Spawn, Exec and Fork.
template <typename Response>
Response StartedOf(const ChildHandle& child) {
  Response response;
  response.mutable_started()->set_pid(child.pid());
  response.mutable_started()->set_session(child.session_id());
  return response;
}

template <typename Request, typename Response>
class ChildCall : public ChildHandle::Owner {
 public:
  using Service = ChildProcessService;
  using Stream =
      grpc::ServerAsyncReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>;
  using RequestMethod = void (Service::*)(grpc::ServerContext*, Stream*,
                                          grpc::CompletionQueue*,
                                          grpc::ServerCompletionQueue*, void*);

  ChildCall(const ChildCall&) = delete;
  ChildCall& operator=(const ChildCall&) = delete;

 protected:
  ChildCall(ServerState* state, Service* service,
            grpc::ServerCompletionQueue* cq, table::Executor* executor,
            RequestMethod method, auth::Rpc rpc);
  ~ChildCall() override;

  // Asks gRPC for the next call of the method. Separate from the
  // constructor: the tag may come back on the worker thread at once, and
  // the object must be complete by then.
  void Begin();

  // Creates the object that waits for the call after this one; see
  // ListeningCall.
  virtual void ListenAgain() = 0;
  // Starts the child for the start message, through StartSupervisor(). An
  // error ends the call with that status.
  virtual absl::Status StartChild(const Request& request) = 0;
  // For request kinds beyond start, stdin, close_stdin and signal (Fork's):
  // the input the request goes to (it waits while that input is busy), and
  // what to do with it.
  virtual std::optional<ChildHandle::Input> InputOfOther(const Request&) {
    return std::nullopt;
  }
  virtual void HandleOther(Request& request) {}
  // Whether a request after the start may be handled at all (Attach's
  // output-only attachments take none).
  virtual absl::Status CheckRequest(const Request& request) {
    return absl::OkStatus();
  }
  // Whether the client's half-close closes stdin. A call that breaks reads
  // as a half-close before it is known to be cancelled, so not where that
  // would be mistaken for the client's wish: a session's (it outlives the
  // call; other attachments may still type) and a terminal's (an EOF key
  // makes a shell exit at once, without the hangup that passes the stop on
  // to its jobs). There only close_stdin closes it.
  virtual bool HalfCloseIsEof() const {
    return !child_->outlives_call() && !child_->has_terminal();
  }

  // What `argv` with `options` would run, for this caller; recorded for
  // the audit log either way.
  absl::StatusOr<plan::LaunchPlan> Plan(std::vector<std::string> argv,
                                        const v1::ProcessOptions& options);
  absl::Status StartSupervisor(plan::LaunchPlan plan);
  // For Attach: the handle of the session it attached to, already begun.
  void Attached(std::unique_ptr<ChildHandle> handle);
  ChildHandle& child() { return *child_; }
  const auth::Identity& identity() const { return identity_; }
  // The policy in force when the call arrived, or null.
  const auth::Policy* call_policy() const { return policy_.get(); }
  ops::AuditRecord& audit() { return audit_; }
  // The first response: `started` with the child's pid (and session).
  virtual Response StartedResponse() = 0;
  ServerState* state() const { return state_; }
  Service* service() const { return service_; }
  grpc::ServerCompletionQueue* cq() const { return cq_; }
  table::Executor* executor() const { return executor_; }
  // The call has an outcome (an error, or the exit was sent); what the
  // child still does is not reported.
  bool ending() const { return final_status_.has_value(); }

  // Hands `data` to an input; it must not be busy (see InputOfOther()).
  void WriteToChild(ChildHandle::Input input, std::string data);
  bool input_busy(ChildHandle::Input input) const {
    return input_busy_[static_cast<int>(input)];
  }

  void Enqueue(const Response& response);
  void EnqueueFrame(grpc::ByteBuffer frame);
  // A chunk of the child's stdout or stderr, as the response's `stdout` or
  // `stderr` field, framed without a copy (see BytesFieldFrame()). A
  // template only so that Exec, whose response has no such fields, need not
  // instantiate it.
  template <typename R = Response>
  void EnqueueOutput(ChildHandle::Stream stream, table::OutputChunk data) {
    EnqueueFrame(BytesFieldFrame(stream == ChildHandle::Stream::kStdout
                                     ? R::kStdoutFieldNumber
                                     : R::kStderrFieldNumber,
                                 std::move(data)));
  }
  // Sends `last` (the exit) and ends the call with OK.
  void EndWith(const Response& last);
  // Ends the RPC with `status` (an error), stopping the child with its
  // policy. Responses already queued go out first, unless the client is
  // gone (CANCELLED).
  void EndCall(grpc::Status status);

  // EOF on stdin: the pipe closed, or a terminal's EOF character.
  void CloseStdin();
  // A resize request; an error ends the call.
  void Resize(const v1::Resize& resize);

  // The outbox has room again (a write completed, or the memory budget
  // did), before the supervisor is asked for more output: for output a
  // subclass holds back itself.
  virtual void OnOutputRoom() {}
  // Output a subclass holds beyond the outbox (Fork's decoder), in bytes;
  // it reports changes with HoldOutput().
  void HoldOutput(int64_t bytes);

  // ChildHandle::Owner, for the subclasses to use or extend.
  size_t OutputRoom() override;
  void OnInputWritten(ChildHandle::Input input) override;
  // The exit, as the API tells it: the subclass's last response.
  virtual void OnExitStatus(v1::ExitStatus exit) = 0;
  void OnExit(table::ExitReport exit) final;
  void OnSupervisorDone() override;
  void OnRefused(absl::Status status) override {
    EndCall(ToGrpcStatus(status));
  }

 private:
  void OnRequest(bool ok);
  void OnStartTimeout();
  // The memory budget was spent while the call held output: asks again.
  void OnBudgetRetry();
  void OnRead(bool ok);
  void OnWrite(bool ok);
  void OnDone(bool ok);
  void OnFinish(bool ok);

  // Ends the call with UNAVAILABLE when the server is draining, or cannot
  // record it (--audit-on-failure refuse): true then.
  bool RefusedToStart();
  void Dispatch();
  std::optional<ChildHandle::Input> InputOf(const Request& request);
  void Handle(Request& request);
  // Hands the input its held requests while it is free.
  void HandleHeld(ChildHandle::Input input);
  void ReadNext();
  void MaybeWrite();
  void MaybeFinish();
  void MaybeDelete();
  void WriteAudit();
  // The child's pid, bytes and exit into the audit record.
  void RecordChild();
  void PopOutbox(bool front);

  ServerState* const state_;
  Service* const service_;
  grpc::ServerCompletionQueue* const cq_;
  table::Executor* const executor_;
  const RequestMethod method_;

  grpc::ServerContext ctx_;
  Stream stream_{&ctx_};
  // In order; a phase only moves forward.
  enum class Phase {
    kListening,  // waiting for gRPC to hand a call over
    kOpen,       // the call runs, before and after its start
    kEnding,     // its outcome is decided (final_status_); the queue drains
    kFinishing,  // Finish was called: nothing more is written
  };
  Phase phase_ = Phase::kListening;
  // gRPC operations and timers whose tags have not come back (the request,
  // done, a read, a write, the finish, the start timer): the call is
  // deleted only when none is left and its child is done.
  int in_flight_ = 0;

  MemberTag<ChildCall> request_tag_{this, &ChildCall::OnRequest};
  MemberTag<ChildCall> read_tag_{this, &ChildCall::OnRead};
  MemberTag<ChildCall> write_tag_{this, &ChildCall::OnWrite};
  MemberTag<ChildCall> done_tag_{this, &ChildCall::OnDone};
  MemberTag<ChildCall> finish_tag_{this, &ChildCall::OnFinish};

  const auth::Rpc rpc_;
  auth::Identity identity_;
  // The policy in force when the call arrived: the call keeps it.
  std::shared_ptr<const auth::Policy> policy_;
  ops::AuditRecord audit_;

  CqTimer<ChildCall> start_timer_{this, &ChildCall::OnStartTimeout,
                                  &ChildCall::MaybeDelete, &in_flight_};
  CqTimer<ChildCall> budget_timer_{this, &ChildCall::OnBudgetRetry,
                                   &ChildCall::MaybeDelete, &in_flight_};
  // One read and one write at a time (gRPC's rule for a stream).
  bool reading_ = false;
  bool writing_ = false;

  grpc::ByteBuffer frame_;  // the request being read
  int requests_read_ = 0;
  Request request_;
  // Requests for an input that is busy, in order; each is handled when the
  // input took the one before. Reading goes on meanwhile, so that a signal
  // is not stuck behind stdin the child does not read; bounded (see
  // ReadNext()).
  std::deque<Request> held_[2];
  size_t held_bytes_ = 0;
  // gRPC's window for this stream, from a stall until nothing is held.
  GrpcMemory::Window window_;
  // The chunk each input is writing (counted in the budget until written).
  size_t busy_bytes_[2] = {0, 0};
  // The client half-closed; stdin closes once its last chunk is written.
  bool half_closed_ = false;
  bool input_busy_[2] = {false, false};

  std::deque<grpc::ByteBuffer> outbox_;  // responses, serialized
  size_t outbox_bytes_ = 0;              // their length
  size_t output_held_ = 0;               // outbox_bytes_ and HoldOutput()
  std::optional<grpc::Status> final_status_;

  std::unique_ptr<ChildHandle> child_;
  bool child_done_ = true;
};

// ListeningCall is what makes a ChildCall for one RPC (`kMethod`, e.g.
// &Service::RequestSpawn, which the policy calls `kRpc`) of type `Call`:
// Listen() creates one that waits for the next call, and each call creates its
// successor once it started. A call class derives from it and befriends it (its
// constructor is private: a call owns itself and only Listen() may create one).
template <typename Call, typename Request, typename Response, auto kMethod,
          auth::Rpc kRpc>
class ListeningCall : public ChildCall<Request, Response> {
 public:
  using Service = typename ChildCall<Request, Response>::Service;

  static void Listen(ServerState* state, Service* service,
                     grpc::ServerCompletionQueue* cq,
                     table::Executor* executor) {
    (new Call(state, service, cq, executor))->Begin();
  }

 protected:
  ListeningCall(ServerState* state, Service* service,
                grpc::ServerCompletionQueue* cq, table::Executor* executor)
      : ChildCall<Request, Response>(state, service, cq, executor, kMethod,
                                     kRpc) {}

 private:
  void ListenAgain() final {
    Listen(this->state(), this->service(), this->cq(), this->executor());
  }
};

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_CHILD_CALL_H_
