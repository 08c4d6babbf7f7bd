#include "server/rpc/child_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/errno_status.h"
#include "common/signal_name.h"
#include "server/process/child_registry.h"
#include "server/process/pty.h"
#include "server/rpc/process_options.h"
#include "spdlog/spdlog.h"

namespace rexec::rpc {
namespace {

// Doorbell event bits: one per output stream, one per input, and the exit.
constexpr uint32_t OutputBit(int stream) { return 1u << stream; }
constexpr uint32_t InputBit(int input) { return 1u << (3 + input); }
constexpr uint32_t kExited = 1u << 5;
constexpr uint32_t kGroupChanged = 1u << 6;
constexpr uint32_t kMoreOutput = 1u << 7;
constexpr uint32_t kDrainBegun = 1u << 8;

// Chunks read in one turn of the completion queue. A child that writes
// without pause (or an Exec being stopped, whose output is read and
// dropped) would otherwise keep the thread, and every other call on its
// queue waiting, for as long as it writes.
constexpr int kChunksPerTurn = 8;

// Timers further off than this never fire: a timeout of a thousand years is
// no timeout, and the deadline must not overflow the clock.
constexpr absl::Duration kNever = absl::Hours(24 * 365 * 100);

// The child's pipes are grown to this size (when the system lets
// us; it is a bound, not an allocation), and one read() takes up to a whole
// pipe-full. A busy child then costs one wake-up, one syscall and one gRPC
// message per MiB instead of per 64 KiB, the default pipe size: that is
// most of the difference in stdout throughput.
constexpr int kPipeSize = 1 << 20;
constexpr size_t kChunkSize = kPipeSize;

// The buffer read() fills, one per completion-queue thread: a chunk is then
// copied out at its real size, instead of every call owning (and zeroing) a
// pipe-sized buffer for a few bytes.
char* ReadBuffer() {
  thread_local std::unique_ptr<char[]> buffer(new char[kChunkSize]);
  return buffer.get();
}

std::string QuotedArgv(const std::vector<std::string>& argv) {
  return absl::StrJoin(argv, " ", [](std::string* out, const std::string& arg) {
    absl::StrAppend(out, "\"", absl::CHexEscape(arg), "\"");
  });
}

}  // namespace

ChildRunner::ChildRunner(ServerState* state, grpc::CompletionQueue* cq,
                         Owner* owner)
    : state_(state), cq_(cq), owner_(owner) {}

ChildRunner::~ChildRunner() {
  state_->RemoveRunner(this);
  StopWatchingGroup();
  // Only reached early when Start() failed or the owner is torn down with
  // the runner unfinished (a broken invariant); ~Child kills and reaps.
  if (exit_watch_ != 0) state_->poller().Unwatch(exit_watch_, child_->pidfd());
  for (int i = 0; i < 3; ++i) CloseOutput(static_cast<Stream>(i));
  for (PendingInput& in : inputs_) CloseInputFd(in);
}

absl::Status ChildRunner::Start(const LaunchPlan& plan, std::string identity) {
  done_ = true;  // until the child runs
  const process::SpawnOptions& options = plan.spawn;
  policy_ = plan.stop;
  if (options.terminal) window_ = options.terminal->size;
  const std::string argv0 = options.argv.empty() ? "" : options.argv[0];
  if (absl::Status slot = state_->TryAddChild(
          argv0, identity, plan.rule ? plan.rule->max_processes() : 0,
          plan.rule ? plan.rule->name() : "");
      !slot.ok()) {
    return slot;
  }
  identity_ = std::move(identity);
  const absl::Time spawn_began = absl::Now();
  absl::StatusOr<process::Child> child = process::Child::Spawn(options);
  if (!child.ok()) {
    state_->RemoveChild(identity_);
    return child.status();
  }
  child_.emplace(std::move(*child));
  started_at_ = absl::Now();
  state_->metrics().ChildSpawned(started_at_ - spawn_began);
  // At debug level: the audit log has one line per call, at its end.
  spdlog::debug("start pid={} argv=[{}]", child_->pid(),
                QuotedArgv(options.argv));

  absl::Status status = ConnectStdio();
  process::Poller& poller = state_->poller();
  absl::StatusOr<process::Poller::WatchId> watch;
  for (int i = 0; i < 3 && status.ok(); ++i) {
    if (!outputs_[i].fd->Valid()) continue;
    watch = poller.Watch(outputs_[i].fd->Get(), EPOLLIN,
                         [this, i](uint32_t) { doorbell_.Ring(OutputBit(i)); });
    status = watch.status();
    if (!watch.ok()) break;
    outputs_[i].watch = *watch;
    outputs_[i].open = outputs_[i].armed = true;
  }
  if (status.ok()) {
    watch = poller.Watch(child_->pidfd(), EPOLLIN,
                         [this](uint32_t) { doorbell_.Ring(kExited); });
    status = watch.status();
  }
  if (!status.ok()) {
    // Nothing has happened yet that the owner must hear about.
    for (int i = 0; i < 3; ++i) CloseOutput(static_cast<Stream>(i));
    child_.reset();
    state_->RemoveChild(identity_);
    return status;
  }
  exit_watch_ = *watch;
  done_ = false;
  if (policy_.timeout > absl::ZeroDuration()) {
    timeout_armed_ = true;
    SetAlarm(timeout_alarm_, timeout_tag_, policy_.timeout);
  }
  state_->AddRunner(this);
  return absl::OkStatus();
}

absl::Status ChildRunner::ConnectStdio() {
  // Best effort: an unprivileged server past its pipe quota keeps 64 KiB.
  // (Not a pipe, e.g. the terminal: EBADF or EINVAL, and nothing changes.)
  for (int target = 0; target < 3; ++target) {
    if (child_->end(target).Valid()) {
      fcntl(child_->end(target).Get(), F_SETPIPE_SZ, kPipeSize);
    }
  }
  outputs_[1].fd = &child_->stderr_fd();
  outputs_[2].fd = &channel_read_;
  inputs_[1].fd = &channel_write_;
  // A terminal and the channel are each one fd both ways: we write to a
  // dup of it, so that each direction has its own fd for the poller.
  channel_read_ = std::move(child_->end(3));
  process::UniqueFd& terminal = child_->terminal();
  if (terminal.Valid()) {
    outputs_[0].fd = &terminal;
    inputs_[0].fd = &terminal_write_;
    terminal_write_.Reset(fcntl(terminal.Get(), F_DUPFD_CLOEXEC, 0));
    if (!terminal_write_.Valid()) {
      return ErrnoStatus(errno, "dup of the terminal");
    }
  } else {
    outputs_[0].fd = &child_->stdout_fd();
    inputs_[0].fd = &child_->stdin_fd();
  }
  if (channel_read_.Valid()) {
    channel_write_.Reset(fcntl(channel_read_.Get(), F_DUPFD_CLOEXEC, 0));
    if (!channel_write_.Valid()) {
      return ErrnoStatus(errno, "dup of the IPC channel");
    }
  }
  return absl::OkStatus();
}

void ChildRunner::SetAlarm(grpc::Alarm& alarm, Tag& tag, absl::Duration after) {
  after = std::min(after, kNever);
  ++pending_alarms_;
  alarm.Set(cq_,
            std::chrono::system_clock::now() + absl::ToChronoNanoseconds(after),
            &tag);
}

void ChildRunner::WriteInput(Input input, std::string data) {
  PendingInput& in = inputs_[static_cast<int>(input)];
  in.data = std::move(data);
  in.offset = 0;
  in.busy = true;
  FlushInput(input);
}

void ChildRunner::FlushInput(Input input) {
  PendingInput& in = inputs_[static_cast<int>(input)];
  if (!in.busy) return;
  while (in.fd->Valid() && in.offset < in.data.size()) {
    ssize_t n = write(in.fd->Get(), in.data.data() + in.offset,
                      in.data.size() - in.offset);
    if (n > 0) {
      in.offset += n;
      bytes_in_ += n;
      state_->metrics().Transferred(input == Input::kStdin
                                        ? ServerMetrics::Bytes::kStdin
                                        : ServerMetrics::Bytes::kIpcToChild,
                                    n);
    } else if (errno == EAGAIN) {
      // The child is not reading: wait for room rather than buffer more.
      absl::Status status;
      if (in.watch == 0) {
        absl::StatusOr<process::Poller::WatchId> watch = state_->poller().Watch(
            in.fd->Get(), EPOLLOUT,
            [this, i = static_cast<int>(input)](uint32_t) {
              doorbell_.Ring(InputBit(i));
            });
        if (watch.ok()) in.watch = *watch;
        status = watch.status();
      } else {
        status = state_->poller().Rearm(in.watch, in.fd->Get(), EPOLLOUT);
      }
      if (status.ok()) return;
      spdlog::warn("pid {}: input dropped: {}", child_->pid(),
                   std::string(status.message()));
      CloseInputFd(in);
    } else if (errno != EINTR) {
      // EPIPE: the child closed this input or exited. Not an error: later
      // input is dropped, as a local pipe would.
      CloseInputFd(in);
    }
  }
  in.data.clear();
  in.offset = 0;
  in.busy = false;
  owner_->OnInputWritten(input);
}

void ChildRunner::CloseInputFd(PendingInput& in) {
  if (in.fd == nullptr || !in.fd->Valid()) return;
  if (in.watch != 0) state_->poller().Unwatch(in.watch, in.fd->Get());
  in.watch = 0;
  in.fd->Reset();
}

void ChildRunner::CloseInput(Input input) {
  PendingInput& in = inputs_[static_cast<int>(input)];
  CloseInputFd(in);
  // A chunk still waiting is dropped; the owner hears of it from FlushInput
  // on the doorbell's thread turn, never from inside this call.
  if (in.busy) doorbell_.Ring(InputBit(static_cast<int>(input)));
}

void ChildRunner::CloseChannel() {
  if (!channel_read_.Valid()) return;
  // shutdown() reaches the child at once, whatever other copies exist.
  shutdown(channel_read_.Get(), SHUT_RDWR);
  CloseOutput(Stream::kChannel);
  channel_read_.Reset();
  CloseInput(Input::kChannel);
}

void ChildRunner::EndChannel() {
  if (!channel_read_.Valid()) return;
  CloseChannel();
  owner_->OnChannelClosed();
}

absl::Status ChildRunner::Signal(const std::string& name) {
  absl::StatusOr<int> sig = ParseSignal(name);
  if (!sig.ok()) return sig.status();
  if (exit_reported_) return absl::OkStatus();
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

std::optional<pid_t> ChildRunner::ForegroundGroup() const {
  if (exit_ || !child_->terminal().Valid()) return std::nullopt;
  // Only a group of the child's session can be the terminal's foreground
  // (tcsetpgrp checks), so this never reaches beyond what the child runs.
  return process::ForegroundGroup(child_->terminal().Get());
}

void ChildRunner::SignalAll(int signal_number) {
  child_->SignalGroup(signal_number).IgnoreError();
  if (std::optional<pid_t> group = ForegroundGroup();
      group && *group != child_->pid()) {
    kill(-*group, signal_number);
  }
}

absl::Status ChildRunner::Resize(const v1::Resize& resize) {
  if (!child_->terminal().Valid()) {
    return absl::FailedPreconditionError(
        "resize: the process has no terminal (start it with options.pty)");
  }
  absl::StatusOr<process::WindowSize> size = FromProto(resize, window_);
  if (!size.ok()) return size.status();
  if (exit_reported_) return absl::OkStatus();
  window_ = *size;
  return process::SetWindowSize(child_->terminal().Get(), window_);
}

std::optional<char> ChildRunner::TerminalEof() const {
  if (!child_->terminal().Valid()) return std::nullopt;
  return process::EofCharacter(child_->terminal().Get());
}

void ChildRunner::Stop(v1::TerminationReason reason) {
  if (done_ || exit_reported_) return;
  if (stop_reason_ == v1::TERMINATION_REASON_UNSPECIFIED) stop_reason_ = reason;
  if (stopping_) return;
  stopping_ = true;
  // A terminal's session first hears what a dropped ssh connection tells
  // it, a hangup: an interactive shell ignores SIGTERM, and passes SIGHUP
  // on to its jobs, which are groups of their own.
  if (has_terminal()) SignalAll(SIGHUP);
  SignalAll(policy_.kill_signal);
  ArmGrace();
}

void ChildRunner::NotifyDrain() { doorbell_.Ring(kDrainBegun); }

void ChildRunner::OnDrainBegun() {
  if (exit_ || stopping_ || shutdown_armed_) return;
  // Stopped when only its kill_grace is left before the deadline (at once
  // when less is), so that it has ended by then.
  shutdown_armed_ = true;
  SetAlarm(shutdown_alarm_, shutdown_tag_,
           state_->drain_deadline() - policy_.kill_grace - absl::Now());
}

void ChildRunner::OnShutdownDue(bool ok) {
  --pending_alarms_;
  shutdown_armed_ = false;
  if (ok && !exit_) {
    // Its kill_grace, cut to what is left of the drain.
    policy_.kill_grace = std::clamp(state_->drain_deadline() - absl::Now(),
                                    absl::ZeroDuration(), policy_.kill_grace);
    Stop(v1::TERMINATION_REASON_SERVER_SHUTDOWN);
  }
  MaybeDone();
}

void ChildRunner::ArmGrace() {
  if (grace_armed_) return;
  grace_armed_ = true;
  SetAlarm(grace_alarm_, grace_tag_, policy_.kill_grace);
}

void ChildRunner::ResumeOutput() { PumpOutput(); }

void ChildRunner::OnDoorbell(bool ok) {
  uint32_t events = doorbell_.Take();
  if (doorbell_pending_ || !ok) {
    // The last ring, after Close().
    doorbell_pending_ = false;
    MaybeDone();
    return;
  }
  for (int i = 0; i < 3; ++i) {
    if (events & OutputBit(i)) outputs_[i].armed = false;
  }
  for (int i = 0; i < 2; ++i) {
    if (events & InputBit(i)) FlushInput(static_cast<Input>(i));
  }
  PumpOutput();
  if (events & kExited) ReapIfExited();
  if (events & kGroupChanged) OnGroupChanged();
  if (events & kDrainBegun) OnDrainBegun();
}

void ChildRunner::PumpOutput() {
  bool progress = true;
  for (int chunks = 0; progress; ++chunks) {
    if (chunks == kChunksPerTurn) {
      // The rest on a later turn, after what else waits on this queue.
      doorbell_.Ring(kMoreOutput);
      return;
    }
    progress = false;
    for (int i = 0; i < 3; ++i) {
      Output& out = outputs_[i];
      if (!out.open || out.armed || !owner_->HasOutputRoom()) continue;
      progress |= ReadChunk(static_cast<Stream>(i));
    }
  }
  MaybeReportExit();
}

bool ChildRunner::ReadChunk(Stream stream) {
  Output& out = outputs_[static_cast<int>(stream)];
  char* buffer = ReadBuffer();
  // Plain read() on the channel too: file descriptors a child passes with
  // SCM_RIGHTS are discarded and closed by the kernel when the reader gives
  // no room for ancillary data (unix(7)), so none can leak into the server.
  ssize_t n = read(out.fd->Get(), buffer, kChunkSize);
  if (n > 0) {
    bytes_out_ += n;
    static constexpr ServerMetrics::Bytes kCounted[] = {
        ServerMetrics::Bytes::kStdout, ServerMetrics::Bytes::kStderr,
        ServerMetrics::Bytes::kIpcFromChild};
    state_->metrics().Transferred(kCounted[static_cast<int>(stream)], n);
    owner_->OnOutput(stream, std::string(buffer, n));
    return true;
  }
  if (n < 0 && errno == EINTR) return true;
  if (n < 0 && errno == EAGAIN) {
    absl::Status status =
        state_->poller().Rearm(out.watch, out.fd->Get(), EPOLLIN);
    if (status.ok()) {
      out.armed = true;
      return false;
    }
    spdlog::warn("pid {}: output lost: {}", child_->pid(),
                 std::string(status.message()));
  }
  // EOF, or a read error that will not go away.
  if (stream == Stream::kChannel) {
    EndChannel();
  } else {
    CloseOutput(stream);
  }
  return false;
}

void ChildRunner::CloseOutput(Stream stream) {
  Output& out = outputs_[static_cast<int>(stream)];
  if (!out.open) return;
  state_->poller().Unwatch(out.watch, out.fd->Get());
  out.fd->Reset();
  out.open = false;
}

void ChildRunner::ReapIfExited() {
  absl::StatusOr<std::optional<process::ExitStatus>> status = child_->TryReap();
  if (!status.ok() || !status->has_value()) {
    absl::Status rearm =
        state_->poller().Rearm(exit_watch_, child_->pidfd(), EPOLLIN);
    if (!status.ok() || !rearm.ok()) {
      spdlog::error("pid {}: cannot wait: {} {}", child_->pid(),
                    std::string(status.status().message()),
                    std::string(rearm.message()));
    }
    return;
  }
  exit_ = **status;
  exited_at_ = absl::Now();
  state_->poller().Unwatch(exit_watch_, child_->pidfd());
  exit_watch_ = 0;
  state_->RemoveChild(identity_);
  if (AnyOutputOpen()) {
    // A descendant may hold the pipes open for ever: report after a while.
    drain_armed_ = true;
    SetAlarm(drain_alarm_, drain_tag_, state_->config().drain_timeout);
  }
  MaybeReportExit();
  MaybeDone();
}

void ChildRunner::MaybeReportExit() {
  if (!exit_ || exit_reported_ || AnyOutputOpen()) return;
  exit_reported_ = true;
  state_->RemoveRunner(this);
  // The child's own time: not the wait for a descendant's pipes after it.
  const absl::Duration wall = exited_at_ - started_at_;
  v1::TerminationReason reason = stop_reason_;
  if (reason == v1::TERMINATION_REASON_UNSPECIFIED && exit_->killed() &&
      state_->phase() == ServerState::Phase::kStopping) {
    // SIGKILL to every group (KillAll): a second SIGTERM, or the end of
    // the drain.
    reason = v1::TERMINATION_REASON_SERVER_SHUTDOWN;
  }
  if (reason == v1::TERMINATION_REASON_UNSPECIFIED) {
    reason = exit_->oom_killed ? v1::TERMINATION_REASON_OOM_KILLED
             : exit_->killed() && client_signaled_
                 ? v1::TERMINATION_REASON_SIGNALED
                 : v1::TERMINATION_REASON_EXITED;
  }
  spdlog::debug("exit pid={} {} reason={} wall={}", child_->pid(),
                exit_->ToString(), v1::TerminationReason_Name(reason),
                absl::FormatDuration(wall));

  // No orphan survives the call: what is left in the group gets the policy.
  WatchGroup();  // first, so that no reaping is missed between the two
  if (child_->GroupAlive()) {
    if (!stopping_) SignalAll(policy_.kill_signal);
    ArmGrace();
  } else {
    StopWatchingGroup();
  }
  for (PendingInput& in : inputs_) CloseInputFd(in);
  if (timeout_armed_) timeout_alarm_.Cancel();
  if (drain_armed_) drain_alarm_.Cancel();
  if (shutdown_armed_) shutdown_alarm_.Cancel();
  CloseDoorbellIfQuiet();

  v1::ExitStatus proto;
  ToProto(*exit_, reason, wall, &proto);
  reported_exit_ = proto;
  state_->metrics().ChildExited(reason);
  owner_->OnExit(std::move(proto));
}

void ChildRunner::WatchGroup() {
  watching_group_ = true;
  process::ChildRegistry::Global().WatchGroup(
      child_->pid(), [this] { doorbell_.Ring(kGroupChanged); });
}

void ChildRunner::OnGroupChanged() {
  if (watching_group_ && !child_->GroupAlive()) {
    StopWatchingGroup();
    CloseDoorbellIfQuiet();
  }
}

void ChildRunner::StopWatchingGroup() {
  if (!watching_group_) return;
  watching_group_ = false;
  process::ChildRegistry::Global().UnwatchGroup(child_->pid());
  // Only the group's stragglers were keeping the grace timer.
  if (grace_armed_) grace_alarm_.Cancel();
}

void ChildRunner::CloseDoorbellIfQuiet() {
  if (exit_reported_ && !watching_group_) doorbell_pending_ = doorbell_.Close();
}

bool ChildRunner::AnyOutputOpen() const {
  return outputs_[0].open || outputs_[1].open || outputs_[2].open;
}

void ChildRunner::MaybeDone() {
  if (done_ || !exit_reported_ || pending_alarms_ > 0 || doorbell_pending_)
    return;
  done_ = true;
  owner_->OnRunnerDone();  // may destroy this runner: nothing after it
}

void ChildRunner::OnTimeout(bool ok) {
  --pending_alarms_;
  timeout_armed_ = false;
  if (ok && !exit_) Stop(v1::TERMINATION_REASON_TIMED_OUT);
  MaybeDone();
}

void ChildRunner::OnGrace(bool ok) {
  --pending_alarms_;
  grace_armed_ = false;
  if (ok) {
    SignalAll(SIGKILL);
    // Nothing survives SIGKILL: there is nothing left to wait for.
    StopWatchingGroup();
    CloseDoorbellIfQuiet();
  }
  MaybeDone();
}

void ChildRunner::OnDrain(bool ok) {
  --pending_alarms_;
  drain_armed_ = false;
  if (ok) {
    EndChannel();
    for (int i = 0; i < 2; ++i) CloseOutput(static_cast<Stream>(i));
    MaybeReportExit();
  }
  MaybeDone();
}

}  // namespace rexec::rpc
