// Supervisor supervises one child process: it spawns it (admitted by the
// ProcessTable), has its bytes moved (StdioPump) as its owner has room for
// them, watches it exit through its pidfd, and applies the stop policy
// (kill_signal to the group, SIGKILL after kill_grace) on timeout, on
// request, and to anything left in the group after the leader ended. In a
// drain (ProcessTable::BeginDrain) it stops the child when only its
// kill_grace is left before the drain's deadline, so that the child's TERM
// handler runs and its output and exit still reach the client. Why the
// child ended is ExitReason's to say.
//
// Its owner is the call that started it (Spawn, Exec, Fork). A child
// started with `detach` is also a session of the table: its output goes to
// the session's log as well, attachments reach it through the session's
// mail, and when its call goes the call Release()s it instead of stopping
// it: the table then owns it (ProcessTable::Adopt), it reads as fast as the
// child writes (the log keeps the last bytes), and deletes itself when done.
//
// Its life is a sequence of phases (Phase); a stop is a value
// (stop_reason_) that any phase before the exit's report may take. Events
// from the poller thread and mail from other calls reach it through its
// Bell; everything else happens on its executor's thread. Not thread-safe.
#ifndef REXEC_SERVER_TABLE_SUPERVISOR_H_
#define REXEC_SERVER_TABLE_SUPERVISOR_H_

#include <any>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/process/child.h"
#include "server/process/stop_policy.h"
#include "server/table/bell.h"
#include "server/table/child_handle.h"
#include "server/table/executor.h"
#include "server/table/process_table.h"
#include "server/table/read_rate.h"
#include "server/table/stdio_pump.h"
#include "server/table/terminal.h"
#include "server/table/timer.h"

namespace rexec::table {

// What a supervisor starts, in the table's terms (the plan room's
// LaunchPlan, as the call turns it into this).
struct Launch {
  process::SpawnOptions spawn;
  process::StopPolicy stop;
  std::string identity;
  // The identity's own cap on running children (0: none), and the rule it
  // comes from, for the refusal.
  uint32_t identity_cap = 0;
  std::string rule;
  // A session of the table, named (or ""), with what the call asked
  // (opaque here; see Session::launch).
  bool detach = false;
  std::string session_name;
  std::any request;
};

class Supervisor final : public ChildHandle,
                         private ProcessTable::Member,
                         private StdioPump::Sink {
 public:
  // In order; a phase only moves forward.
  enum class Phase {
    kIdle,       // not started, or its start failed
    kRunning,    // the child runs
    kDraining,   // reaped; a descendant may still hold its output open
    kLingering,  // exit reported; what is left of its group gets the policy
    kClosing,    // nothing left to watch
    kDone,       // the owner was told, or it deleted itself
  };

  // `table` and `executor` outlive it.
  Supervisor(ProcessTable* table, Executor* executor, Owner* owner);
  ~Supervisor() override;

  // Errors as Child::Spawn, plus the table's refusals: RESOURCE_EXHAUSTED
  // at --max-processes or the identity's cap, and a session's (detach).
  // After an error the supervisor is done at once (no OnSupervisorDone()).
  // A kSocket stdio fd 3 is the IPC channel; a terminal is stdout and stdin
  // both.
  absl::Status Start(Launch launch);

  Phase phase() const { return phase_; }

  // ChildHandle. A session's mail queues behind the owner's input, in
  // order; a signal goes to the child's process group, or with a terminal
  // to its foreground group while that group is still of the child's
  // session.
  pid_t pid() const override { return child_->pid(); }
  bool has_terminal() const override { return terminal_.valid(); }
  const std::string& session_id() const override { return session_.id; }
  bool outlives_call() const override { return !session_.id.empty(); }
  std::optional<char> TerminalEof() const override { return terminal_.Eof(); }
  absl::Status Resize(WindowRequest size) override;
  uint64_t bytes_in() const override { return pump_.bytes_in(); }
  uint64_t bytes_out() const override { return pump_.bytes_out(); }
  const std::optional<ExitReport>& reported_exit() const override {
    return reported_exit_;
  }
  void WriteInput(Input input, std::string data) override;
  void CloseInput(Input input) override { pump_.CloseInput(input); }
  void CloseChannel() override { pump_.CloseChannel(); }
  absl::Status Signal(const std::string& name) override;
  void ResumeOutput() override { PumpOutput(); }
  void Stop(TerminationReason reason) override;
  void Release() override;

 private:
  // The bell's bits beyond the pump's.
  static constexpr uint32_t kExited = StdioPump::kFirstFreeBit;
  static constexpr uint32_t kGroupChanged = kExited << 1;
  static constexpr uint32_t kDrainBegun = kExited << 2;
  static constexpr uint32_t kMail = kExited << 3;

  // ProcessTable::Member.
  void OnDrainBegun() override { bell_.Ring(kDrainBegun); }
  // StdioPump::Sink.
  size_t OutputRoom() override;
  void OnOutput(Stream stream, OutputChunk data) override;
  void OnInputWritten(Input input) override;
  void OnChannelEnded() override;

  absl::Status WatchExit();
  // The terminal's foreground group while the child runs and has one.
  std::optional<pid_t> ForegroundGroup() const;
  // To the child's group and, with a terminal, to its foreground group.
  void SignalAll(int signal_number);
  void OnRing(uint32_t events);
  void OnTimeout();
  void OnGrace();
  void OnDrainTimeout();
  void OnShutdownDue();
  void StartDrain();
  void TakeMail();
  void PumpOutput();
  void ReapIfExited();
  void MaybeReportExit();
  // After the exit: until the group is empty, the orphan reaper tells us of
  // each member it reaps, so that a stop ends as soon as nobody is left
  // (not when the whole kill_grace has passed).
  void WatchGroup();
  void OnGroupChanged();
  // Lingering ends: the group is empty or was SIGKILLed.
  void EndLingering();
  // Only as the last thing a turn or a timer does: it may destroy this.
  void MaybeDone();

  ProcessTable* const table_;
  Executor* const executor_;
  Owner* owner_;  // null once released

  Phase phase_ = Phase::kIdle;
  ProcessId id_ = 0;  // in the table, once started

  Bell bell_{executor_, [this](uint32_t events) { OnRing(events); }};
  Timer timeout_{executor_, [this] { OnTimeout(); }};
  Timer grace_{executor_, [this] { OnGrace(); }};
  Timer drain_{executor_, [this] { OnDrainTimeout(); }};
  Timer shutdown_{executor_, [this] { OnShutdownDue(); }};
  // A session's output, while no call watches it, is read at this rate.
  ReadRate detached_rate_{table_->config().sessions.detached_read_rate,
                          absl::Now()};
  Timer rate_{executor_, [this] { bell_.Ring(StdioPump::kMoreOutput); }};

  std::optional<process::Child> child_;
  // After child_: its fds are the child's, closed before the child goes.
  StdioPump pump_{&table_->poller(), &table_->events(), &bell_, this};
  Terminal terminal_;
  std::string identity_;  // whose slot the child holds
  int held_fds_ = 0;       // and the fds it was admitted with
  process::StopPolicy policy_;
  absl::Time started_at_;
  absl::Time exited_at_;  // reaped: the end of the child's wall time
  process::Poller::WatchId exit_watch_ = 0;

  // With detach: its place in the table (id, log, control).
  Session session_;

  std::optional<process::ExitStatus> exit_;
  std::optional<ExitReport> reported_exit_;
  // kUnspecified until a stop was sent.
  TerminationReason stop_reason_ = TerminationReason::kUnspecified;
  // A client's signal was sent: a death by signal is SIGNALED, not EXITED.
  bool client_signaled_ = false;
};

}  // namespace rexec::table

#endif  // REXEC_SERVER_TABLE_SUPERVISOR_H_
