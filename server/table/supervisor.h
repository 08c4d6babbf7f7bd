// Supervisor supervises one child process: it spawns it, feeds its stdin,
// reads its stdout and stderr (or its terminal) as its owner has room for
// them, carries the bytes of an optional IPC channel (a socket the child has
// as fd 3; the framing is the owner's business) both ways, watches it exit
// through its pidfd, and applies the stop policy (kill_signal to the group,
// SIGKILL after kill_grace) on timeout, on request, and to anything left in
// the group after the leader ended. In a drain (ServerState::BeginDrain) it
// stops the child when only its kill_grace is left before the drain's
// deadline, so that the child's TERM handler runs and its output and exit
// still reach the client.
//
// Its owner is the call that started it (Spawn, Exec, Fork). A child
// started with options.detach is also a session of the ProcessTable: its
// output goes to the session's log as well, attachments reach it through
// the session's control, and when its call goes the call Release()s it
// instead of stopping it: it then owns itself, reads as fast as the child
// writes (the log keeps the last bytes), and deletes itself when done.
//
// Its life is a sequence of phases (Phase); a stop is a value
// (stop_reason_) that any phase before the exit's report may take. Events
// from the poller thread and mail from other calls reach it through a
// Doorbell; everything else happens on its completion-queue thread. Not
// thread-safe.
//
// The owner must keep it alive until Owner::OnSupervisorDone(), or
// Release() it: until then alarms and pidfd watches may still refer to it.
#ifndef REXEC_SERVER_RPC_SUPERVISOR_H_
#define REXEC_SERVER_RPC_SUPERVISOR_H_

#include <grpcpp/completion_queue.h>

#include <deque>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "rexec/v1/child_process.pb.h"
#include "server/process/child.h"
#include "server/process/poller.h"
#include "server/process/stop_policy.h"
#include "server/rpc/child_handle.h"
#include "server/rpc/cq_timer.h"
#include "server/rpc/doorbell.h"
#include "server/rpc/launch_plan.h"
#include "server/rpc/process_table.h"
#include "server/rpc/server_state.h"
#include "server/rpc/tag.h"

namespace rexec::rpc {

class Supervisor final : public ChildHandle {
 public:
  // In order; a phase only moves forward.
  enum class Phase {
    kIdle,       // not started, or its start failed
    kRunning,    // the child runs
    kDraining,   // reaped; a descendant may still hold its output open
    kLingering,  // exit reported; what is left of its group gets the policy
    kClosing,    // nothing left to watch; its operations in flight come back
    kDone,       // the owner was told, or it deleted itself
  };

  Supervisor(ServerState* state, grpc::CompletionQueue* cq, Owner* owner);
  ~Supervisor() override;

  // Errors as Child::Spawn, plus RESOURCE_EXHAUSTED at --max-processes or
  // the identity's max_processes, and the table's refusals for a session
  // (plan.detach). After an error the supervisor is done at once (no
  // OnSupervisorDone()). A kSocket stdio fd 3 is the IPC channel; a terminal
  // is stdout and stdin both.
  absl::Status Start(const LaunchPlan& plan, std::string identity);

  // ChildHandle. A session's mail queues behind the owner's input, in
  // order; a signal goes to the child's process group, or with a terminal
  // to its foreground group while that group is still of the child's
  // session.
  pid_t pid() const override { return child_->pid(); }
  bool has_terminal() const override { return child_->terminal().Valid(); }
  const std::string& session_id() const override { return session_.id; }
  bool outlives_call() const override { return !session_.id.empty(); }
  std::optional<char> TerminalEof() const override;
  absl::Status Resize(const v1::Resize& resize) override;
  uint64_t bytes_in() const override { return bytes_in_; }
  uint64_t bytes_out() const override { return bytes_out_; }
  const std::optional<v1::ExitStatus>& reported_exit() const override {
    return reported_exit_;
  }
  void WriteInput(Input input, std::string data) override;
  void CloseInput(Input input) override;
  void CloseChannel() override;
  absl::Status Signal(const std::string& name) override;
  void ResumeOutput() override;
  void Stop(v1::TerminationReason reason) override;
  void Release() override;

  // The server began to drain: from any thread (ServerState calls it).
  void NotifyDrain();

 private:
  // One chunk for an input, with whom to tell when it is written (or
  // dropped): `done`, or the owner when it has none. A `close` chunk
  // closes the input when its turn comes.
  struct InputChunk {
    std::string data;
    std::function<void(absl::Status)> done;
    bool close = false;
  };
  struct Output {
    process::UniqueFd* fd = nullptr;
    process::Poller::WatchId watch = 0;
    bool open = false;
    bool armed = false;
  };
  struct PendingInput {
    process::UniqueFd* fd = nullptr;
    process::Poller::WatchId watch = 0;
    std::deque<InputChunk> chunks;  // the front is being written
    size_t offset = 0;              // into the front's data
    size_t bytes = 0;               // of the chunks' data
  };

  // The pipes, terminal and channel of the new child to outputs_ and
  // inputs_.
  absl::Status ConnectStdio();
  absl::Status WatchChild();
  // The terminal's foreground group while the child runs and has one.
  std::optional<pid_t> ForegroundGroup() const;
  // To the child's group and, with a terminal, to its foreground group.
  void SignalAll(int signal_number);
  void OnDoorbell(bool ok);
  void OnTimeout();
  void OnGrace();
  void OnDrain();
  void OnShutdownDue();
  void OnDrainBegun();
  void TakeMail();

  void PumpOutput();
  // Reads one chunk; false when the stream has nothing more for now.
  bool ReadChunk(Stream stream);
  void CloseOutput(Stream stream);
  bool AnyOutputOpen() const;
  void Queue(Input input, InputChunk chunk);
  void FlushInput(Input input);
  void CloseInputFd(PendingInput& in);
  // Closes the input and drops what waits for it (at the exit's report).
  void DropInput(PendingInput& in);
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
  // Lingering ends: the group is empty or was SIGKILLed.
  void EndLingering();
  void Close();
  void MaybeDone();

  ServerState* const state_;
  grpc::CompletionQueue* const cq_;
  Owner* owner_;  // null once released

  Phase phase_ = Phase::kIdle;
  // Timers and the doorbell's last ring: what must come back before done.
  int in_flight_ = 0;

  MemberTag<Supervisor> doorbell_tag_{this, &Supervisor::OnDoorbell};
  Doorbell doorbell_{cq_, &doorbell_tag_};
  CqTimer<Supervisor> timeout_{this, &Supervisor::OnTimeout,
                               &Supervisor::MaybeDone, &in_flight_};
  CqTimer<Supervisor> grace_{this, &Supervisor::OnGrace,
                             &Supervisor::MaybeDone, &in_flight_};
  CqTimer<Supervisor> drain_{this, &Supervisor::OnDrain,
                             &Supervisor::MaybeDone, &in_flight_};
  CqTimer<Supervisor> shutdown_{this, &Supervisor::OnShutdownDue,
                                &Supervisor::MaybeDone, &in_flight_};

  std::optional<process::Child> child_;
  std::string identity_;  // whose slot the child holds
  process::StopPolicy policy_;
  absl::Time started_at_;
  absl::Time exited_at_;  // reaped: the end of the child's wall time
  process::Poller::WatchId exit_watch_ = 0;
  // The channel and a terminal are one fd each, read here and written
  // through a dup, so that each direction has its own fd for the poller.
  process::UniqueFd channel_read_;
  process::UniqueFd channel_write_;  // valid while the channel is open
  process::UniqueFd terminal_write_;  // with a terminal: stdin's fd
  process::WindowSize window_;        // the terminal's, as last set
  Output outputs_[3];
  PendingInput inputs_[2];

  // With options.detach: its place in the table (id, log, control).
  Session session_;

  std::optional<process::ExitStatus> exit_;
  std::optional<v1::ExitStatus> reported_exit_;
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
  // UNSPECIFIED until a stop was sent.
  v1::TerminationReason stop_reason_ = v1::TERMINATION_REASON_UNSPECIFIED;
  // A client's signal was sent: a death by signal is SIGNALED, not EXITED.
  bool client_signaled_ = false;
};

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_SUPERVISOR_H_
