#include "server/table/supervisor.h"

#include <signal.h>
#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/signal_name.h"
#include "server/process/child_registry.h"
#include "server/process/spawn_options.h"
#include "server/table/exit_reason.h"

namespace rexec::table {
namespace {

// A turn that only says the supervisor has closed: the owner hears that it
// is done from a turn, never from inside the call that ended it.
constexpr uint32_t kClosed = 1u << 31;

}  // namespace

Supervisor::Supervisor(ProcessTable* table, Executor* executor, Owner* owner)
    : table_(table), executor_(executor), owner_(owner) {}

Supervisor::~Supervisor() {
  bell_.Close();
  // Early only when Start() failed, or the owner is torn down with the
  // supervisor unfinished (a broken invariant, or a test's end): ~Child
  // kills and reaps, and the table forgets it.
  if (phase_ == Phase::kRunning) table_->Leave(identity_, held_fds_);
  if (id_ != 0 && phase_ < Phase::kLingering) table_->Reported(id_, true);
  if (phase_ == Phase::kLingering) EndLingering();
  if (exit_watch_ != 0) table_->poller().Unwatch(exit_watch_, child_->pidfd());
  pump_.Disconnect();
  if (session_.control) {
    for (SessionMail& mail : session_.control->Close()) {
      if (mail.done) mail.done(absl::UnavailableError("the process ended"));
    }
  }
}

absl::Status Supervisor::Start(Launch launch) {
  process::SpawnOptions& options = launch.spawn;
  policy_ = launch.stop;
  const std::string argv0 = options.argv.empty() ? "" : options.argv[0];
  if (launch.detach) {
    absl::StatusOr<Session> session = table_->Reserve(
        launch.identity, launch.session_name, options.argv,
        options.terminal.has_value(), std::move(launch.request));
    if (!session.ok()) return session.status();
    session_ = *std::move(session);
  }
  auto give_back = [&] {
    if (!session_.id.empty()) table_->Remove(session_.process);
    session_ = Session();
  };
  const int fds = process::HeldFds(options);
  if (absl::Status slot = table_->Admit(argv0, launch.identity,
                                        launch.identity_cap, launch.rule, fds);
      !slot.ok()) {
    give_back();
    return slot;
  }
  held_fds_ = fds;
  identity_ = std::move(launch.identity);
  const absl::Time spawn_began = absl::Now();
  absl::StatusOr<process::Child> child = process::Child::Spawn(options);
  if (!child.ok()) {
    table_->Leave(identity_, held_fds_);
    give_back();
    return child.status();
  }
  child_.emplace(std::move(*child));
  started_at_ = absl::Now();
  table_->events().ChildSpawned(child_->pid(), options.argv,
                                started_at_ - spawn_began);

  if (options.terminal) {
    terminal_.Attach(&child_->terminal(), child_->pid(),
                     options.terminal->size);
  }
  absl::Status status = pump_.Connect(*child_);
  if (status.ok()) status = WatchExit();
  if (!status.ok()) {
    // Nothing has happened yet that the owner must hear about.
    pump_.Disconnect();
    terminal_ = Terminal();
    child_.reset();
    table_->Leave(identity_, held_fds_);
    give_back();
    return status;
  }
  phase_ = Phase::kRunning;
  if (policy_.timeout > absl::ZeroDuration()) timeout_.Set(policy_.timeout);
  if (session_.control) session_.control->Open(bell_.Ringer(kMail));
  id_ = table_->Add(this, identity_, child_->pid(), started_at_,
                    session_.process);
  return absl::OkStatus();
}

absl::Status Supervisor::WatchExit() {
  absl::StatusOr<process::Poller::WatchId> watch = table_->poller().Watch(
      child_->pidfd(), EPOLLIN,
      [ring = bell_.Ringer(kExited)](uint32_t) { ring(); });
  if (!watch.ok()) return watch.status();
  exit_watch_ = *watch;
  return absl::OkStatus();
}

void Supervisor::WriteInput(Input input, std::string data) {
  pump_.Queue(input, StdioPump::Chunk{std::move(data), nullptr, false});
}

absl::Status Supervisor::Signal(const std::string& name) {
  absl::StatusOr<int> sig = ParseSignal(name);
  if (!sig.ok()) return sig.status();
  if (phase_ >= Phase::kLingering) return absl::OkStatus();
  client_signaled_ = true;
  if (std::optional<pid_t> group = ForegroundGroup()) {
    // What Ctrl-C does at a local terminal: the job in the foreground.
    if (kill(-*group, *sig) != 0 && errno != ESRCH) {
      return ErrnoStatus(errno, absl::StrCat("signal process group ", *group));
    }
    return absl::OkStatus();
  }
  return child_->SignalGroup(*sig);
}

std::optional<pid_t> Supervisor::ForegroundGroup() const {
  if (phase_ != Phase::kRunning) return std::nullopt;
  return terminal_.ForegroundGroup();
}

void Supervisor::SignalAll(int signal_number) {
  child_->SignalGroup(signal_number).IgnoreError();
  if (std::optional<pid_t> group = ForegroundGroup();
      group && *group != child_->pid()) {
    kill(-*group, signal_number);
  }
}

absl::Status Supervisor::Resize(WindowRequest size) {
  if (!terminal_.valid()) {
    return absl::FailedPreconditionError(
        "resize: the process has no terminal (start it with options.pty)");
  }
  if (phase_ >= Phase::kLingering) {
    return WindowSizeOf(size, process::WindowSize()).status();
  }
  return terminal_.Resize(size);
}

void Supervisor::Stop(TerminationReason reason) {
  if (phase_ != Phase::kRunning && phase_ != Phase::kDraining) return;
  if (stop_reason_ != TerminationReason::kUnspecified) return;
  stop_reason_ = reason;
  // A terminal's session first hears what a dropped ssh connection tells
  // it, a hangup: an interactive shell ignores SIGTERM, and passes SIGHUP
  // on to its jobs, which are groups of their own.
  if (has_terminal()) SignalAll(SIGHUP);
  SignalAll(policy_.kill_signal);
  grace_.Set(policy_.kill_grace);
}

void Supervisor::StartDrain() {
  if (phase_ != Phase::kRunning ||
      stop_reason_ != TerminationReason::kUnspecified) {
    return;
  }
  // Stopped when only its kill_grace is left before the deadline (at once
  // when less is), so that it has ended by then.
  shutdown_.Set(table_->drain_deadline() - policy_.kill_grace - absl::Now());
}

void Supervisor::OnShutdownDue() {
  if (phase_ == Phase::kRunning) {
    // Its kill_grace, cut to what is left of the drain.
    policy_.kill_grace = std::clamp(table_->drain_deadline() - absl::Now(),
                                    absl::ZeroDuration(), policy_.kill_grace);
    Stop(TerminationReason::kServerShutdown);
  }
  MaybeDone();  // may destroy this supervisor: nothing after it
}

void Supervisor::Release() {
  owner_ = nullptr;
  // The table's now: a drain and a shutdown wait for it (and stop it with
  // its policy).
  table_->Adopt();
  // What the owner's room held back is read now: the log keeps the last
  // bytes, and the child must not block on a call that is gone.
  if (phase_ < Phase::kClosing) bell_.Ring(StdioPump::kMoreOutput);
  MaybeDone();  // may destroy this supervisor: nothing after it
}

void Supervisor::OnRing(uint32_t events) {
  if (phase_ >= Phase::kClosing) {
    MaybeDone();  // may destroy this supervisor: nothing after it
    return;
  }
  pump_.TakeReadiness(events);
  if (events & kMail) TakeMail();
  pump_.FlushReady(events);
  PumpOutput();
  if (events & kExited) ReapIfExited();
  if (events & kGroupChanged) OnGroupChanged();
  if (events & kDrainBegun) StartDrain();
  MaybeDone();  // may destroy this supervisor: nothing after it
}

void Supervisor::TakeMail() {
  for (SessionMail& mail : session_.control->Take()) {
    absl::Status status;
    switch (mail.kind) {
      case SessionMail::Kind::kStdin:
        pump_.Queue(Input::kStdin, StdioPump::Chunk{std::move(mail.data),
                                                    std::move(mail.done),
                                                    false});
        continue;
      case SessionMail::Kind::kCloseStdin:
        if (has_terminal()) {
          std::optional<char> eof = TerminalEof();
          pump_.Queue(Input::kStdin,
                      StdioPump::Chunk{eof ? std::string(1, *eof) : "",
                                       std::move(mail.done), false});
        } else {
          pump_.Queue(Input::kStdin,
                      StdioPump::Chunk{"", std::move(mail.done), true});
        }
        continue;
      case SessionMail::Kind::kSignal:
        status = Signal(mail.data);
        break;
      case SessionMail::Kind::kResize:
        status = Resize(mail.resize);
        break;
      case SessionMail::Kind::kStop:
        Stop(mail.reason);
        break;
    }
    if (mail.done) mail.done(status);
  }
}

void Supervisor::PumpOutput() {
  if (pump_.Pump()) MaybeReportExit();
}

size_t Supervisor::OutputRoom() {
  if (owner_ != nullptr) return owner_->OutputRoom();
  const absl::Time now = absl::Now();
  const absl::Duration wait = detached_rate_.Wait(now);
  if (wait == absl::ZeroDuration()) return detached_rate_.Allowance();
  rate_.Set(wait);  // rings for the pump again
  return 0;
}

void Supervisor::OnOutput(Stream stream, OutputChunk data) {
  if (owner_ == nullptr) detached_rate_.Took(data.size());
  if (session_.log && stream != Stream::kChannel) {
    session_.log->Append(static_cast<int>(stream), data.view());
  }
  if (owner_ != nullptr) owner_->OnOutput(stream, std::move(data));
}

void Supervisor::OnInputWritten(Input input) {
  if (owner_ != nullptr) owner_->OnInputWritten(input);
}

void Supervisor::OnChannelEnded() {
  if (owner_ != nullptr) owner_->OnChannelClosed();
}

void Supervisor::ReapIfExited() {
  if (phase_ != Phase::kRunning) return;
  absl::StatusOr<std::optional<process::ExitStatus>> status = child_->TryReap();
  if (!status.ok() || !status->has_value()) {
    absl::Status rearm =
        table_->poller().Rearm(exit_watch_, child_->pidfd(), EPOLLIN);
    if (!status.ok() || !rearm.ok()) {
      table_->events().Trouble(
          child_->pid(), absl::StrCat("cannot wait: ", status.status().message(),
                                      " ", rearm.message()));
    }
    return;
  }
  exit_ = **status;
  exited_at_ = absl::Now();
  phase_ = Phase::kDraining;
  table_->poller().Unwatch(exit_watch_, child_->pidfd());
  exit_watch_ = 0;
  table_->Leave(identity_, held_fds_);
  // A descendant may hold the pipes open for ever: report after a while.
  if (pump_.AnyOutputOpen()) drain_.Set(table_->config().drain_timeout);
  MaybeReportExit();
}

void Supervisor::MaybeReportExit() {
  if (phase_ != Phase::kDraining || pump_.AnyOutputOpen()) return;
  phase_ = Phase::kLingering;
  // The child's own time: not the wait for a descendant's pipes after it.
  const absl::Duration wall = exited_at_ - started_at_;
  ExitObservation seen;
  seen.stop = stop_reason_;
  seen.killed = exit_->killed();
  seen.oom_killed = exit_->oom_killed;
  seen.client_signaled = client_signaled_;
  seen.server_stopping = table_->phase() == ProcessTable::Phase::kStopping;
  const TerminationReason reason = ExitReason(seen);

  // No orphan survives the call: what is left in the group gets the policy.
  WatchGroup();  // first, so that no reaping is missed between the two
  if (child_->GroupAlive()) {
    if (stop_reason_ == TerminationReason::kUnspecified) {
      SignalAll(policy_.kill_signal);
    }
    grace_.Set(policy_.kill_grace);
  } else {
    EndLingering();
  }
  pump_.DropInputs();
  timeout_.Cancel();
  drain_.Cancel();
  shutdown_.Cancel();

  ExitReport report{*exit_, reason, wall};
  reported_exit_ = report;
  table_->events().ChildExited(child_->pid(), report);
  if (session_.log) {
    session_.log->SetExit(report);
    for (SessionMail& mail : session_.control->Close()) {
      if (mail.done) mail.done(absl::UnavailableError("the process ended"));
    }
  }
  // The call that started it hears the exit: that collects a session.
  table_->Reported(id_, /*collected=*/owner_ != nullptr);
  if (owner_ != nullptr) owner_->OnExit(std::move(report));
}

void Supervisor::WatchGroup() {
  process::ChildRegistry::Global().WatchGroup(child_->pid(),
                                              bell_.Ringer(kGroupChanged));
}

void Supervisor::OnGroupChanged() {
  if (phase_ == Phase::kLingering && !child_->GroupAlive()) EndLingering();
}

void Supervisor::EndLingering() {
  process::ChildRegistry::Global().UnwatchGroup(child_->pid());
  // Only the group's stragglers were keeping the grace timer.
  grace_.Cancel();
  phase_ = Phase::kClosing;
  bell_.Ring(kClosed);
}

void Supervisor::MaybeDone() {
  if (phase_ != Phase::kClosing) return;
  phase_ = Phase::kDone;
  bell_.Close();
  if (owner_ != nullptr) {
    owner_->OnSupervisorDone();  // may destroy this supervisor
    return;
  }
  ProcessTable* table = table_;
  delete this;
  table->AdoptedDone();  // last: a shutdown may be waiting for it
}

void Supervisor::OnTimeout() {
  if (phase_ == Phase::kRunning) Stop(TerminationReason::kTimedOut);
  MaybeDone();  // may destroy this supervisor: nothing after it
}

void Supervisor::OnGrace() {
  SignalAll(SIGKILL);
  // Nothing survives SIGKILL: there is nothing left to wait for.
  if (phase_ == Phase::kLingering) EndLingering();
  MaybeDone();  // may destroy this supervisor: nothing after it
}

void Supervisor::OnDrainTimeout() {
  pump_.EndChannel();
  pump_.CloseOutput(Stream::kStdout);
  pump_.CloseOutput(Stream::kStderr);
  MaybeReportExit();
  MaybeDone();  // may destroy this supervisor: nothing after it
}

}  // namespace rexec::table
