// ChildRunner runs one child for one call: it spawns it, feeds its stdin,
// reads its stdout and stderr as the call has room for them, carries the
// bytes of an optional IPC channel (a socket the child has as fd 3; the
// framing is the owner's business) both ways, watches it exit
// through its pidfd, and applies the stop policy (kill_signal to the group,
// SIGKILL after kill_grace) on timeout, on request, and to anything left in
// the group after the leader ended. Spawn, Exec and Fork calls each own one.
// In a drain (ServerState::BeginDrain) it stops the child when only its
// kill_grace is left before the drain's deadline, so that the child's TERM
// handler runs and its output and exit still reach the client.
//
// Events from the poller thread reach it through a Doorbell; everything else
// happens on the owning call's completion-queue thread. Not thread-safe.
//
// The owner must keep the runner alive until Owner::OnRunnerDone(): until
// then alarms and pidfd watches may still refer to it.
#ifndef REXEC_SERVER_RPC_CHILD_RUNNER_H_
#define REXEC_SERVER_RPC_CHILD_RUNNER_H_

#include <grpcpp/alarm.h>
#include <grpcpp/completion_queue.h>

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "rexec/v1/child_process.pb.h"
#include "server/process/child.h"
#include "server/process/poller.h"
#include "server/process/stop_policy.h"
#include "server/rpc/doorbell.h"
#include "server/rpc/launch_plan.h"
#include "server/rpc/server_state.h"
#include "server/rpc/tag.h"

namespace rexec::rpc {

class ChildRunner {
 public:
  // What the runner reads from the child...
  enum class Stream { kStdout = 0, kStderr = 1, kChannel = 2 };
  // ...and what it writes to it.
  enum class Input { kStdin = 0, kChannel = 1 };

  class Owner {
   public:
    virtual ~Owner() = default;
    // Output is read only while this says yes; after saying no, the owner
    // calls ResumeOutput() once it has room. A fast child then blocks on its
    // full pipe instead of growing the server.
    virtual bool HasOutputRoom() = 0;
    virtual void OnOutput(Stream stream, std::string data) = 0;
    // The chunk given to WriteInput() reached the pipe or socket, or was
    // dropped because the child no longer reads that input.
    virtual void OnInputWritten(Input input) = 0;
    // The child closed the IPC channel (or ended). Not called after
    // CloseChannel().
    virtual void OnChannelClosed() {}
    // The child was reaped and its pipes reached EOF (or the drain timeout
    // passed). Called once, unless the child could not be started.
    virtual void OnExit(v1::ExitStatus exit) = 0;
    // Nothing of the runner is pending any more; it may be destroyed.
    virtual void OnRunnerDone() = 0;
  };

  ChildRunner(ServerState* state, grpc::CompletionQueue* cq, Owner* owner);
  ~ChildRunner();

  // Errors as Child::Spawn, plus RESOURCE_EXHAUSTED at --max-processes or
  // the identity's max_processes. After an error the runner is done at
  // once (no OnRunnerDone()). A kSocket stdio fd 3 is the IPC channel; a
  // terminal is stdout and stdin both.
  absl::Status Start(const LaunchPlan& plan, std::string identity);
  pid_t pid() const { return child_->pid(); }
  bool has_terminal() const { return child_->terminal().Valid(); }
  // The terminal's EOF character, what close_stdin sends to a terminal (as
  // ssh does); nullopt without a terminal or when the child disabled it.
  std::optional<char> TerminalEof() const;
  // FAILED_PRECONDITION without a terminal; INVALID_ARGUMENT for a size
  // no terminal has.
  absl::Status Resize(const v1::Resize& resize);
  // Bytes written to the child (stdin, channel) and read from it.
  uint64_t bytes_in() const { return bytes_in_; }
  uint64_t bytes_out() const { return bytes_out_; }
  // The exit given to Owner::OnExit(), once it was.
  const std::optional<v1::ExitStatus>& reported_exit() const {
    return reported_exit_;
  }

  // One chunk per input at a time: the next only after OnInputWritten().
  void WriteInput(Input input, std::string data);
  void CloseInput(Input input);
  // Closes the channel both ways at once; unread messages are dropped.
  void CloseChannel();
  // To the child's process group, or with a terminal to its foreground
  // group. INVALID_ARGUMENT for an unknown name.
  absl::Status Signal(const std::string& name);
  void ResumeOutput();
  // Stops the child with the policy; `reason` is reported in the exit unless
  // an earlier stop already set one. Idempotent.
  void Stop(v1::TerminationReason reason);
  // The server began to drain: from any thread (ServerState calls it).
  void NotifyDrain();

 private:
  struct Output {
    process::UniqueFd* fd = nullptr;
    process::Poller::WatchId watch = 0;
    bool open = false;
    bool armed = false;
  };
  struct PendingInput {
    process::UniqueFd* fd = nullptr;
    process::Poller::WatchId watch = 0;
    std::string data;
    size_t offset = 0;
    bool busy = false;  // a chunk was given and OnInputWritten() is due
  };

  // The pipes, terminal and channel of the new child to outputs_ and
  // inputs_.
  absl::Status ConnectStdio();
  // The terminal's foreground group while the child runs and has one.
  std::optional<pid_t> ForegroundGroup() const;
  // To the child's group and, with a terminal, to its foreground group.
  void SignalAll(int signal_number);
  void OnDoorbell(bool ok);
  void OnTimeout(bool ok);
  void OnGrace(bool ok);
  void OnDrain(bool ok);
  void OnDrainBegun();
  void OnShutdownDue(bool ok);

  void PumpOutput();
  // Reads one chunk; false when the stream has nothing more for now.
  bool ReadChunk(Stream stream);
  void CloseOutput(Stream stream);
  bool AnyOutputOpen() const;
  void FlushInput(Input input);
  void CloseInputFd(PendingInput& in);
  // The channel closed from the child's side (EOF) or by the drain timeout:
  // closes it and tells the owner.
  void EndChannel();
  void ReapIfExited();
  void MaybeReportExit();
  // After the exit: until the group is empty, the orphan reaper tells us of
  // each member it reaps, so that a stop ends as soon as nobody is left
  // (not when the whole kill_grace has passed).
  void WatchGroup();
  void OnGroupChanged();
  void StopWatchingGroup();
  void CloseDoorbellIfQuiet();
  void MaybeDone();
  void ArmGrace();
  void SetAlarm(grpc::Alarm& alarm, Tag& tag, absl::Duration after);

  ServerState* const state_;
  grpc::CompletionQueue* const cq_;
  Owner* const owner_;

  MemberTag<ChildRunner> doorbell_tag_{this, &ChildRunner::OnDoorbell};
  MemberTag<ChildRunner> timeout_tag_{this, &ChildRunner::OnTimeout};
  MemberTag<ChildRunner> grace_tag_{this, &ChildRunner::OnGrace};
  MemberTag<ChildRunner> drain_tag_{this, &ChildRunner::OnDrain};
  MemberTag<ChildRunner> shutdown_tag_{this, &ChildRunner::OnShutdownDue};
  Doorbell doorbell_{cq_, &doorbell_tag_};
  grpc::Alarm timeout_alarm_;
  grpc::Alarm grace_alarm_;
  grpc::Alarm drain_alarm_;
  grpc::Alarm shutdown_alarm_;
  int pending_alarms_ = 0;
  bool doorbell_pending_ = false;
  bool grace_armed_ = false;
  bool drain_armed_ = false;
  bool timeout_armed_ = false;
  bool shutdown_armed_ = false;

  std::optional<process::Child> child_;
  std::string identity_;  // whose slot the child holds
  process::StopPolicy policy_;
  absl::Time started_at_;
  absl::Time exited_at_;  // reaped: the end of the child's wall time
  process::Poller::WatchId exit_watch_ = 0;
  // The channel is one socket; the runner writes to a dup of it so that
  // each direction has its own fd for the poller.
  process::UniqueFd channel_read_;
  process::UniqueFd channel_write_;  // valid while the channel is open
  process::UniqueFd terminal_write_;  // with a terminal: stdin's fd
  process::WindowSize window_;        // the terminal's, as last set
  Output outputs_[3];
  PendingInput inputs_[2];

  std::optional<process::ExitStatus> exit_;
  std::optional<v1::ExitStatus> reported_exit_;
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
  bool watching_group_ = false;
  v1::TerminationReason stop_reason_ = v1::TERMINATION_REASON_UNSPECIFIED;
  bool stopping_ = false;
  bool client_signaled_ = false;
  bool exit_reported_ = false;
  bool done_ = false;
};

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_CHILD_RUNNER_H_
