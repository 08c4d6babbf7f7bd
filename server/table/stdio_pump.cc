#include "server/table/stdio_pump.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"

namespace rexec::table {
namespace {

// Chunks read in one turn of the executor. A child that writes without
// pause (or an Exec being stopped, whose output is read and dropped) would
// otherwise keep the thread, and every other call on it waiting, for as
// long as it writes.
constexpr int kChunksPerTurn = 8;

// The child's pipes are grown to this size (when the system lets
// us; it is a bound, not an allocation), and one read() takes up to a whole
// pipe-full. A busy child then costs one wake-up, one syscall and one gRPC
// message per MiB instead of per 64 KiB, the default pipe size: that is
// most of the difference in stdout throughput.
constexpr int kPipeSize = 1 << 20;
constexpr size_t kChunkSize = kPipeSize;

// The buffer read() fills, one per executor thread: a chunk is then copied
// out at its real size, instead of every process owning (and zeroing) a
// pipe-sized buffer for a few bytes.
char* ReadBuffer() {
  thread_local std::unique_ptr<char[]> buffer(new char[kChunkSize]);
  return buffer.get();
}

}  // namespace

StdioPump::~StdioPump() { Disconnect(); }

void StdioPump::Disconnect() {
  for (int i = 0; i < 3; ++i) {
    CloseOutput(static_cast<Stream>(i));
    outputs_[i].fd = nullptr;
  }
  for (PendingInput& in : inputs_) {
    CloseInputFd(in);
    in.fd = nullptr;
  }
}

absl::Status StdioPump::Connect(process::Child& child) {
  pid_ = child.pid();
  // Best effort: an unprivileged server past its pipe quota keeps 64 KiB.
  // (Not a pipe, e.g. the terminal: EBADF or EINVAL, and nothing changes.)
  for (int target = 0; target < 3; ++target) {
    if (child.end(target).Valid()) {
      fcntl(child.end(target).Get(), F_SETPIPE_SZ, kPipeSize);
    }
  }
  outputs_[1].fd = &child.stderr_fd();
  outputs_[2].fd = &channel_read_;
  inputs_[1].fd = &channel_write_;
  channel_read_ = std::move(child.end(3));
  process::UniqueFd& terminal = child.terminal();
  if (terminal.Valid()) {
    outputs_[0].fd = &terminal;
    inputs_[0].fd = &terminal_write_;
    terminal_write_.Reset(fcntl(terminal.Get(), F_DUPFD_CLOEXEC, 0));
    if (!terminal_write_.Valid()) {
      return ErrnoStatus(errno, "dup of the terminal");
    }
  } else {
    outputs_[0].fd = &child.stdout_fd();
    inputs_[0].fd = &child.stdin_fd();
  }
  if (channel_read_.Valid()) {
    channel_write_.Reset(fcntl(channel_read_.Get(), F_DUPFD_CLOEXEC, 0));
    if (!channel_write_.Valid()) {
      return ErrnoStatus(errno, "dup of the IPC channel");
    }
  }
  return WatchOutputs();
}

absl::Status StdioPump::WatchOutputs() {
  for (int i = 0; i < 3; ++i) {
    if (!outputs_[i].fd->Valid()) continue;
    absl::StatusOr<process::Poller::WatchId> watch = poller_->Watch(
        outputs_[i].fd->Get(), EPOLLIN,
        [ring = bell_->Ringer(OutputBit(i))](uint32_t) { ring(); });
    if (!watch.ok()) return watch.status();
    outputs_[i].watch = *watch;
    outputs_[i].open = outputs_[i].armed = true;
  }
  return absl::OkStatus();
}

void StdioPump::TakeReadiness(uint32_t events) {
  for (int i = 0; i < 3; ++i) {
    if (events & OutputBit(i)) outputs_[i].armed = false;
  }
}

void StdioPump::FlushReady(uint32_t events) {
  for (int i = 0; i < 2; ++i) {
    if (events & InputBit(i)) Flush(static_cast<Input>(i));
  }
}

void StdioPump::Queue(Input input, Chunk chunk) {
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
  if (in.chunks.size() == 1) Flush(input);
}

void StdioPump::Flush(Input input) {
  PendingInput& in = inputs_[static_cast<int>(input)];
  // Who to tell is told after the loop: a callback may queue more, and
  // must find no loop of ours half-way.
  std::vector<std::function<void(absl::Status)>> done;
  bool sink_done = false;
  while (!in.chunks.empty()) {
    Chunk& chunk = in.chunks.front();
    if (chunk.close) {
      CloseInputFd(in);
    }
    while (in.fd != nullptr && in.fd->Valid() &&
           in.offset < chunk.data.size()) {
      ssize_t n = write(in.fd->Get(), chunk.data.data() + in.offset,
                        chunk.data.size() - in.offset);
      if (n > 0) {
        in.offset += n;
        bytes_in_ += n;
        events_->Transferred(input == Input::kStdin
                                  ? ProcessEvents::Bytes::kStdin
                                  : ProcessEvents::Bytes::kIpcToChild,
                              n);
      } else if (errno == EAGAIN) {
        // The child is not reading: wait for room rather than buffer more.
        absl::Status status;
        if (in.watch == 0) {
          absl::StatusOr<process::Poller::WatchId> watch = poller_->Watch(
              in.fd->Get(), EPOLLOUT,
              [ring = bell_->Ringer(InputBit(static_cast<int>(input)))](
                  uint32_t) { ring(); });
          if (watch.ok()) in.watch = *watch;
          status = watch.status();
        } else {
          status = poller_->Rearm(in.watch, in.fd->Get(), EPOLLOUT);
        }
        if (status.ok()) break;
        events_->Trouble(pid_, absl::StrCat("input dropped: ",
                                            status.message()));
        CloseInputFd(in);
      } else if (errno != EINTR) {
        // EPIPE: the child closed this input or exited. Not an error: later
        // input is dropped, as a local pipe would.
        CloseInputFd(in);
      }
    }
    if (in.fd != nullptr && in.fd->Valid() && in.offset < chunk.data.size()) {
      break;  // EPOLLOUT
    }
    if (chunk.done) {
      done.push_back(std::move(chunk.done));
    } else if (!chunk.close) {
      sink_done = true;  // the owner has one chunk at a time
    }
    in.bytes -= in.chunks.front().data.size();
    in.chunks.pop_front();
    in.offset = 0;
  }
  for (auto& callback : done) callback(absl::OkStatus());
  if (sink_done) sink_->OnInputWritten(input);
}

void StdioPump::CloseInputFd(PendingInput& in) {
  if (in.fd == nullptr || !in.fd->Valid()) return;
  if (in.watch != 0) poller_->Unwatch(in.watch, in.fd->Get());
  in.watch = 0;
  in.fd->Reset();
}

void StdioPump::DropInputs() {
  for (PendingInput& in : inputs_) {
    CloseInputFd(in);
    // The owner is ending (the exit follows); a session's senders wait.
    for (Chunk& chunk : std::exchange(in.chunks, {})) {
      if (chunk.done) chunk.done(absl::OkStatus());
    }
    in.offset = 0;
    in.bytes = 0;
  }
}

void StdioPump::CloseInput(Input input) {
  PendingInput& in = inputs_[static_cast<int>(input)];
  CloseInputFd(in);
  // Chunks still waiting are dropped; their senders hear of it from Flush
  // on the bell's turn, never from inside this call.
  if (!in.chunks.empty()) bell_->Ring(InputBit(static_cast<int>(input)));
}

void StdioPump::CloseChannel() {
  if (!channel_read_.Valid()) return;
  // shutdown() reaches the child at once, whatever other copies exist.
  shutdown(channel_read_.Get(), SHUT_RDWR);
  CloseOutput(Stream::kChannel);
  channel_read_.Reset();
  CloseInput(Input::kChannel);
}

void StdioPump::EndChannel() {
  if (!channel_read_.Valid()) return;
  CloseChannel();
  sink_->OnChannelEnded();
}

bool StdioPump::Pump() {
  bool progress = true;
  for (int chunks = 0; progress; ++chunks) {
    if (chunks == kChunksPerTurn) {
      // The rest on a later turn, after what else waits on this executor.
      bell_->Ring(kMoreOutput);
      return false;
    }
    progress = false;
    for (int i = 0; i < 3; ++i) {
      Output& out = outputs_[i];
      if (!out.open || out.armed) continue;
      const size_t room = sink_->OutputRoom();
      if (room == 0) continue;
      progress |= ReadChunk(static_cast<Stream>(i), std::min(room, kChunkSize));
    }
  }
  return true;
}

bool StdioPump::ReadChunk(Stream stream, size_t max) {
  Output& out = outputs_[static_cast<int>(stream)];
  char* buffer = ReadBuffer();
  // Plain read() on the channel too: file descriptors a child passes with
  // SCM_RIGHTS are discarded and closed by the kernel when the reader gives
  // no room for ancillary data (unix(7)), so none can leak into the server.
  ssize_t n = read(out.fd->Get(), buffer, max);
  if (n > 0) {
    bytes_out_ += n;
    static constexpr ProcessEvents::Bytes kCounted[] = {
        ProcessEvents::Bytes::kStdout, ProcessEvents::Bytes::kStderr,
        ProcessEvents::Bytes::kIpcFromChild};
    events_->Transferred(kCounted[static_cast<int>(stream)], n);
    sink_->OnOutput(stream, absl::string_view(buffer, n));
    return true;
  }
  if (n < 0 && errno == EINTR) return true;
  if (n < 0 && errno == EAGAIN) {
    absl::Status status = poller_->Rearm(out.watch, out.fd->Get(), EPOLLIN);
    if (status.ok()) {
      out.armed = true;
      return false;
    }
    events_->Trouble(pid_,
                     absl::StrCat("output lost: ", status.message()));
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

void StdioPump::CloseOutput(Stream stream) {
  Output& out = outputs_[static_cast<int>(stream)];
  if (!out.open) return;
  poller_->Unwatch(out.watch, out.fd->Get());
  out.fd->Reset();
  out.open = false;
}

bool StdioPump::AnyOutputOpen() const {
  return outputs_[0].open || outputs_[1].open || outputs_[2].open;
}

}  // namespace rexec::table
