#include "server/rpc/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
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
constexpr uint32_t kMail = 1u << 9;

// What a session's stdin may have waiting for the child: chunks (a close
// or an EOF key is one) and bytes. An attachment's chunk is at most a
// gRPC message (4 MiB).
constexpr size_t kMaxQueuedChunks = 256;
constexpr size_t kMaxQueuedBytes = 16 << 20;

// Chunks read in one turn of the completion queue. A child that writes
// without pause (or an Exec being stopped, whose output is read and
// dropped) would otherwise keep the thread, and every other call on its
// queue waiting, for as long as it writes.
constexpr int kChunksPerTurn = 8;

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

Supervisor::Supervisor(ServerState* state, grpc::CompletionQueue* cq,
                       Owner* owner)
    : state_(state), cq_(cq), owner_(owner) {}

Supervisor::~Supervisor() {
  state_->RemoveSupervisor(this);
  if (phase_ == Phase::kLingering) EndLingering();
  // Only reached early when Start() failed or the owner is torn down with
  // the supervisor unfinished (a broken invariant); ~Child kills and reaps.
  if (exit_watch_ != 0) state_->poller().Unwatch(exit_watch_, child_->pidfd());
  for (int i = 0; i < 3; ++i) CloseOutput(static_cast<Stream>(i));
  for (PendingInput& in : inputs_) CloseInputFd(in);
  if (session_.control) {
    for (SessionMail& mail : session_.control->Close()) {
      if (mail.done) mail.done(absl::UnavailableError("the process ended"));
    }
  }
}

absl::Status Supervisor::Start(const LaunchPlan& plan, std::string identity) {
  const process::SpawnOptions& options = plan.spawn;
  policy_ = plan.stop;
  if (options.terminal) window_ = options.terminal->size;
  const std::string argv0 = options.argv.empty() ? "" : options.argv[0];
  if (plan.detach) {
    absl::StatusOr<Session> session = state_->sessions().Reserve(
        identity, plan.session_name, options.argv,
        options.terminal.has_value(), plan.request);
    if (!session.ok()) return session.status();
    session_ = *std::move(session);
  }
  auto give_back = [&] {
    if (!session_.id.empty()) state_->sessions().Remove(session_.id);
    session_ = Session();
  };
  if (absl::Status slot = state_->TryAddChild(
          argv0, identity, plan.rule ? plan.rule->max_processes() : 0,
          plan.rule ? plan.rule->name() : "");
      !slot.ok()) {
    give_back();
    return slot;
  }
  identity_ = std::move(identity);
  const absl::Time spawn_began = absl::Now();
  absl::StatusOr<process::Child> child = process::Child::Spawn(options);
  if (!child.ok()) {
    state_->RemoveChild(identity_);
    give_back();
    return child.status();
  }
  child_.emplace(std::move(*child));
  started_at_ = absl::Now();
  state_->metrics().ChildSpawned(started_at_ - spawn_began);
  // At debug level: the audit log has one line per call, at its end.
  spdlog::debug("start pid={} argv=[{}]", child_->pid(),
                QuotedArgv(options.argv));

  absl::Status status = ConnectStdio();
  if (status.ok()) status = WatchChild();
  if (!status.ok()) {
    // Nothing has happened yet that the owner must hear about.
    for (int i = 0; i < 3; ++i) CloseOutput(static_cast<Stream>(i));
    child_.reset();
    state_->RemoveChild(identity_);
    give_back();
    return status;
  }
  phase_ = Phase::kRunning;
  if (policy_.timeout > absl::ZeroDuration()) timeout_.Set(cq_, policy_.timeout);
  if (session_.control) {
    session_.control->Open([this] { doorbell_.Ring(kMail); });
    state_->sessions().Started(session_.id, child_->pid(), started_at_);
  }
  state_->AddSupervisor(this);
  return absl::OkStatus();
}

absl::Status Supervisor::WatchChild() {
  process::Poller& poller = state_->poller();
  for (int i = 0; i < 3; ++i) {
    if (!outputs_[i].fd->Valid()) continue;
    absl::StatusOr<process::Poller::WatchId> watch =
        poller.Watch(outputs_[i].fd->Get(), EPOLLIN,
                     [this, i](uint32_t) { doorbell_.Ring(OutputBit(i)); });
    if (!watch.ok()) return watch.status();
    outputs_[i].watch = *watch;
    outputs_[i].open = outputs_[i].armed = true;
  }
  absl::StatusOr<process::Poller::WatchId> watch = poller.Watch(
      child_->pidfd(), EPOLLIN, [this](uint32_t) { doorbell_.Ring(kExited); });
  if (!watch.ok()) return watch.status();
  exit_watch_ = *watch;
  return absl::OkStatus();
}

absl::Status Supervisor::ConnectStdio() {
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

void Supervisor::WriteInput(Input input, std::string data) {
  Queue(input, InputChunk{std::move(data), nullptr, false});
}

void Supervisor::Queue(Input input, InputChunk chunk) {
  PendingInput& in = inputs_[static_cast<int>(input)];
  // A session's senders may leave their chunk behind (an attachment that
  // went while the child did not read), and a close or an EOF key waits
  // for nobody: what waits is bounded. (The owner has one chunk at a time.)
  if (chunk.done &&
      (in.chunks.size() >= kMaxQueuedChunks ||
       in.bytes + chunk.data.size() > kMaxQueuedBytes)) {
    chunk.done(absl::ResourceExhaustedError(absl::StrCat(
        "the session's stdin has ", in.chunks.size(), " chunks (", in.bytes,
        " bytes) waiting for the child to read them: no more is taken "
        "until it does")));
    return;
  }
  in.bytes += chunk.data.size();
  in.chunks.push_back(std::move(chunk));
  if (in.chunks.size() == 1) FlushInput(input);
}

void Supervisor::FlushInput(Input input) {
  PendingInput& in = inputs_[static_cast<int>(input)];
  // Who to tell is told after the loop: a callback may queue more, and
  // must find no loop of ours half-way.
  std::vector<std::function<void(absl::Status)>> done;
  bool owner_done = false;
  while (!in.chunks.empty()) {
    InputChunk& chunk = in.chunks.front();
    if (chunk.close) {
      CloseInputFd(in);
    }
    while (in.fd->Valid() && in.offset < chunk.data.size()) {
      ssize_t n = write(in.fd->Get(), chunk.data.data() + in.offset,
                        chunk.data.size() - in.offset);
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
          absl::StatusOr<process::Poller::WatchId> watch =
              state_->poller().Watch(
                  in.fd->Get(), EPOLLOUT,
                  [this, i = static_cast<int>(input)](uint32_t) {
                    doorbell_.Ring(InputBit(i));
                  });
          if (watch.ok()) in.watch = *watch;
          status = watch.status();
        } else {
          status = state_->poller().Rearm(in.watch, in.fd->Get(), EPOLLOUT);
        }
        if (status.ok()) break;
        spdlog::warn("pid {}: input dropped: {}", child_->pid(),
                     std::string(status.message()));
        CloseInputFd(in);
      } else if (errno != EINTR) {
        // EPIPE: the child closed this input or exited. Not an error: later
        // input is dropped, as a local pipe would.
        CloseInputFd(in);
      }
    }
    if (in.fd->Valid() && in.offset < chunk.data.size()) break;  // EPOLLOUT
    if (chunk.done) {
      done.push_back(std::move(chunk.done));
    } else if (!chunk.close) {
      owner_done = true;  // the owner has one chunk at a time
    }
    in.bytes -= in.chunks.front().data.size();
    in.chunks.pop_front();
    in.offset = 0;
  }
  for (auto& callback : done) callback(absl::OkStatus());
  if (owner_done && owner_ != nullptr) owner_->OnInputWritten(input);
}

void Supervisor::CloseInputFd(PendingInput& in) {
  if (in.fd == nullptr || !in.fd->Valid()) return;
  if (in.watch != 0) state_->poller().Unwatch(in.watch, in.fd->Get());
  in.watch = 0;
  in.fd->Reset();
}

void Supervisor::DropInput(PendingInput& in) {
  CloseInputFd(in);
  // The owner is ending (the exit follows); a session's senders wait.
  for (InputChunk& chunk : std::exchange(in.chunks, {})) {
    if (chunk.done) chunk.done(absl::OkStatus());
  }
  in.offset = 0;
  in.bytes = 0;
}

void Supervisor::CloseInput(Input input) {
  PendingInput& in = inputs_[static_cast<int>(input)];
  CloseInputFd(in);
  // Chunks still waiting are dropped; their senders hear of it from
  // FlushInput on the doorbell's thread turn, never from inside this call.
  if (!in.chunks.empty()) doorbell_.Ring(InputBit(static_cast<int>(input)));
}

void Supervisor::CloseChannel() {
  if (!channel_read_.Valid()) return;
  // shutdown() reaches the child at once, whatever other copies exist.
  shutdown(channel_read_.Get(), SHUT_RDWR);
  CloseOutput(Stream::kChannel);
  channel_read_.Reset();
  CloseInput(Input::kChannel);
}

void Supervisor::EndChannel() {
  if (!channel_read_.Valid()) return;
  CloseChannel();
  if (owner_ != nullptr) owner_->OnChannelClosed();
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
  if (phase_ != Phase::kRunning || !child_->terminal().Valid()) {
    return std::nullopt;
  }
  // tcsetpgrp only takes a group of the child's session, but the terminal
  // keeps naming a group after its last member died, and that id may be
  // another user's group by now (an attacker's child can arrange it): the
  // group must still lead a process of the child's session. (The session
  // is the child's: its pid, or its PID namespace's init's.) A group
  // that is not is left alone; the child's own group is signalled.
  std::optional<pid_t> group =
      process::ForegroundGroup(child_->terminal().Get());
  if (!group || getpgid(*group) != *group || getsid(*group) != child_->pid()) {
    return std::nullopt;
  }
  return group;
}

void Supervisor::SignalAll(int signal_number) {
  child_->SignalGroup(signal_number).IgnoreError();
  if (std::optional<pid_t> group = ForegroundGroup();
      group && *group != child_->pid()) {
    kill(-*group, signal_number);
  }
}

absl::Status Supervisor::Resize(const v1::Resize& resize) {
  if (!child_->terminal().Valid()) {
    return absl::FailedPreconditionError(
        "resize: the process has no terminal (start it with options.pty)");
  }
  absl::StatusOr<process::WindowSize> size = FromProto(resize, window_);
  if (!size.ok()) return size.status();
  if (phase_ >= Phase::kLingering) return absl::OkStatus();
  window_ = *size;
  return process::SetWindowSize(child_->terminal().Get(), window_);
}

std::optional<char> Supervisor::TerminalEof() const {
  if (!child_->terminal().Valid()) return std::nullopt;
  return process::EofCharacter(child_->terminal().Get());
}

void Supervisor::Stop(v1::TerminationReason reason) {
  if (phase_ != Phase::kRunning && phase_ != Phase::kDraining) return;
  if (stop_reason_ != v1::TERMINATION_REASON_UNSPECIFIED) return;
  stop_reason_ = reason;
  // A terminal's session first hears what a dropped ssh connection tells
  // it, a hangup: an interactive shell ignores SIGTERM, and passes SIGHUP
  // on to its jobs, which are groups of their own.
  if (has_terminal()) SignalAll(SIGHUP);
  SignalAll(policy_.kill_signal);
  grace_.Set(cq_, policy_.kill_grace);
}

void Supervisor::NotifyDrain() { doorbell_.Ring(kDrainBegun); }

void Supervisor::OnDrainBegun() {
  if (phase_ != Phase::kRunning ||
      stop_reason_ != v1::TERMINATION_REASON_UNSPECIFIED) {
    return;
  }
  // Stopped when only its kill_grace is left before the deadline (at once
  // when less is), so that it has ended by then.
  shutdown_.Set(cq_, state_->drain_deadline() - policy_.kill_grace -
                         absl::Now());
}

void Supervisor::OnShutdownDue() {
  if (phase_ != Phase::kRunning) return;
  // Its kill_grace, cut to what is left of the drain.
  policy_.kill_grace = std::clamp(state_->drain_deadline() - absl::Now(),
                                  absl::ZeroDuration(), policy_.kill_grace);
  Stop(v1::TERMINATION_REASON_SERVER_SHUTDOWN);
}

void Supervisor::Release() {
  owner_ = nullptr;
  // A call of its own, as far as a drain and a shutdown go: they wait for
  // it (and stop it with its policy).
  state_->AddCall();
  state_->CallStarted();
  // What the owner's room held back is read now: the log keeps the last
  // bytes, and the child must not block on a call that is gone.
  if (phase_ < Phase::kClosing) doorbell_.Ring(kMoreOutput);
  MaybeDone();  // may destroy this supervisor: nothing after it
}

void Supervisor::ResumeOutput() { PumpOutput(); }

void Supervisor::OnDoorbell(bool ok) {
  uint32_t events = doorbell_.Take();
  if (phase_ >= Phase::kClosing || !ok) {
    // The last ring, after Close().
    --in_flight_;
    MaybeDone();
    return;
  }
  for (int i = 0; i < 3; ++i) {
    if (events & OutputBit(i)) outputs_[i].armed = false;
  }
  if (events & kMail) TakeMail();
  for (int i = 0; i < 2; ++i) {
    if (events & InputBit(i)) FlushInput(static_cast<Input>(i));
  }
  PumpOutput();
  if (events & kExited) ReapIfExited();
  if (events & kGroupChanged) OnGroupChanged();
  if (events & kDrainBegun) OnDrainBegun();
  MaybeDone();  // may destroy this supervisor: nothing after it
}

void Supervisor::TakeMail() {
  for (SessionMail& mail : session_.control->Take()) {
    absl::Status status;
    switch (mail.kind) {
      case SessionMail::Kind::kStdin:
        Queue(Input::kStdin, InputChunk{std::move(mail.data),
                                        std::move(mail.done), false});
        continue;
      case SessionMail::Kind::kCloseStdin:
        if (has_terminal()) {
          std::optional<char> eof = TerminalEof();
          Queue(Input::kStdin,
                InputChunk{eof ? std::string(1, *eof) : "",
                           std::move(mail.done), false});
        } else {
          Queue(Input::kStdin, InputChunk{"", std::move(mail.done), true});
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
      if (!out.open || out.armed ||
          (owner_ != nullptr && !owner_->HasOutputRoom())) {
        continue;
      }
      progress |= ReadChunk(static_cast<Stream>(i));
    }
  }
  MaybeReportExit();
}

bool Supervisor::ReadChunk(Stream stream) {
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
    if (session_.log && stream != Stream::kChannel) {
      session_.log->Append(static_cast<int>(stream), {buffer, size_t(n)});
    }
    if (owner_ != nullptr) owner_->OnOutput(stream, std::string(buffer, n));
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
  // EOF (EIO for a terminal nobody holds any more), or a read error that
  // will not go away.
  if (stream == Stream::kChannel) {
    EndChannel();
  } else {
    CloseOutput(stream);
  }
  return false;
}

void Supervisor::CloseOutput(Stream stream) {
  Output& out = outputs_[static_cast<int>(stream)];
  if (!out.open) return;
  state_->poller().Unwatch(out.watch, out.fd->Get());
  out.fd->Reset();
  out.open = false;
}

void Supervisor::ReapIfExited() {
  if (phase_ != Phase::kRunning) return;
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
  phase_ = Phase::kDraining;
  state_->poller().Unwatch(exit_watch_, child_->pidfd());
  exit_watch_ = 0;
  state_->RemoveChild(identity_);
  // A descendant may hold the pipes open for ever: report after a while.
  if (AnyOutputOpen()) drain_.Set(cq_, state_->config().drain_timeout);
  MaybeReportExit();
}

void Supervisor::MaybeReportExit() {
  if (phase_ != Phase::kDraining || AnyOutputOpen()) return;
  phase_ = Phase::kLingering;
  state_->RemoveSupervisor(this);
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
    if (stop_reason_ == v1::TERMINATION_REASON_UNSPECIFIED) {
      SignalAll(policy_.kill_signal);
    }
    grace_.Set(cq_, policy_.kill_grace);
  } else {
    EndLingering();
  }
  for (PendingInput& in : inputs_) DropInput(in);
  timeout_.Cancel();
  drain_.Cancel();
  shutdown_.Cancel();

  v1::ExitStatus proto;
  ToProto(*exit_, reason, wall, &proto);
  reported_exit_ = proto;
  state_->metrics().ChildExited(reason);
  if (session_.log) {
    session_.log->SetExit(proto);
    for (SessionMail& mail : session_.control->Close()) {
      if (mail.done) mail.done(absl::UnavailableError("the process ended"));
    }
    // The call that started it hears the exit: that collects it.
    if (owner_ != nullptr) {
      state_->sessions().Remove(session_.id);
    } else {
      state_->sessions().Ended(session_.id);
    }
  }
  if (phase_ == Phase::kClosing) Close();
  if (owner_ != nullptr) owner_->OnExit(std::move(proto));
}

void Supervisor::WatchGroup() {
  process::ChildRegistry::Global().WatchGroup(
      child_->pid(), [this] { doorbell_.Ring(kGroupChanged); });
}

void Supervisor::OnGroupChanged() {
  if (phase_ == Phase::kLingering && !child_->GroupAlive()) {
    EndLingering();
    Close();
  }
}

void Supervisor::EndLingering() {
  process::ChildRegistry::Global().UnwatchGroup(child_->pid());
  // Only the group's stragglers were keeping the grace timer.
  grace_.Cancel();
  phase_ = Phase::kClosing;
}

void Supervisor::Close() {
  if (doorbell_.Close()) ++in_flight_;  // its last ring comes back
}

bool Supervisor::AnyOutputOpen() const {
  return outputs_[0].open || outputs_[1].open || outputs_[2].open;
}

// Only as the last thing a tag's handler does: it may destroy this.
void Supervisor::MaybeDone() {
  if (phase_ != Phase::kClosing || in_flight_ > 0) return;
  phase_ = Phase::kDone;
  if (owner_ != nullptr) {
    owner_->OnSupervisorDone();  // may destroy this supervisor
    return;
  }
  state_->CallEnded();
  ServerState* state = state_;
  delete this;
  state->RemoveCall();  // last: a shutdown may be waiting for it
}

void Supervisor::OnTimeout() {
  if (phase_ == Phase::kRunning) Stop(v1::TERMINATION_REASON_TIMED_OUT);
}

void Supervisor::OnGrace() {
  SignalAll(SIGKILL);
  // Nothing survives SIGKILL: there is nothing left to wait for.
  if (phase_ == Phase::kLingering) {
    EndLingering();
    Close();
  }
}

void Supervisor::OnDrain() {
  EndChannel();
  for (int i = 0; i < 2; ++i) CloseOutput(static_cast<Stream>(i));
  MaybeReportExit();
}

}  // namespace rexec::rpc
