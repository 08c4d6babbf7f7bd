#include "server/table/stdio_pump.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <new>
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

// A busy child's pipes are grown to this size (when the system lets us; it
// is a bound, not an allocation), and one read() takes up to a whole
// pipe-full. Such a child then costs one wake-up, one syscall and one gRPC
// message per MiB instead of per 64 KiB, the default pipe size: that is
// most of the difference in stdout throughput.
constexpr int kPipeSize = 1 << 20;
constexpr size_t kChunkSize = kPipeSize;

// A pipe is grown when it is first found full at its default size: a read
// that takes a whole default pipe-full, a write that finds no room. Not at
// the start: most children write little, and growing costs an fcntl() per
// pipe and a kernel ring of 256 slots (a 16 KiB allocation, where the
// default's 16 take 640 bytes), held for as long as the call is open: an
// idle `cat` cost 77-80 KiB of unreclaimable kernel memory grown at the
// start, 32-35 KiB now (rexec_bench's scale rows, and 400 calls by hand).
constexpr size_t kDefaultPipeBytes = 64 << 10;

// Best effort: an unprivileged server past its pipe quota keeps 64 KiB.
// False when the pipe stays as it was.
bool GrowPipe(const process::UniqueFd& fd) {
  return fcntl(fd.Get(), F_SETPIPE_SZ, kPipeSize) >= 0;
}

// A read of at least this much hands its buffer on whole (shrunk to what
// was read, in place); a smaller one is copied out at its size, so that a
// child that writes a few bytes at a time does not cost a pipe-sized
// allocation per read.
constexpr size_t kHandOnBytes = 64 << 10;

// The buffer read() fills, one per executor thread, from malloc (so that
// realloc() can shrink it in place when it is handed on); a new one is
// taken for the next read after.
class ReadBuffer {
 public:
  ~ReadBuffer() { std::free(block_); }
  char* Get() {
    if (block_ == nullptr) {
      block_ = static_cast<char*>(std::malloc(kChunkSize));
      if (block_ == nullptr) throw std::bad_alloc();
    }
    return block_;
  }
  // The `n` bytes read, as a chunk.
  OutputChunk Take(size_t n) {
    if (n < kHandOnBytes) return OutputChunk::Copy({block_, n});
    char* block = std::exchange(block_, nullptr);
    // glibc shrinks a block in place (it splits a heap chunk, or mremaps a
    // mapped one), so this costs no copy; if it failed, the whole block
    // goes on.
    if (char* shrunk = static_cast<char*>(std::realloc(block, n))) {
      block = shrunk;
    }
    return OutputChunk::Adopt(block, n);
  }

 private:
  char* block_ = nullptr;
};

thread_local ReadBuffer read_buffer;

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
  auto share = [](Output& out, PendingInput& in, process::UniqueFd* fd) {
    out.fd = in.fd = fd;
    out.shared = &in;
    in.shared = &out;
  };
  outputs_[1].fd = &child.stderr_fd();
  channel_ = std::move(child.end(3));
  share(outputs_[2], inputs_[1], &channel_);
  process::UniqueFd& terminal = child.terminal();
  if (terminal.Valid()) {
    share(outputs_[0], inputs_[0], &terminal);
  } else {
    outputs_[0].fd = &child.stdout_fd();
    inputs_[0].fd = &child.stdin_fd();
    outputs_[0].small_pipe = inputs_[0].small_pipe = true;
  }
  outputs_[1].small_pipe = outputs_[1].fd->Valid();
  return WatchOutputs();
}

absl::Status StdioPump::WatchOutputs() {
  for (int i = 0; i < 3; ++i) {
    if (!outputs_[i].fd->Valid()) continue;
    // A shared fd's event, whichever, rings both directions: the watch
    // is one-shot for both.
    const uint32_t bits =
        OutputBit(i) |
        (outputs_[i].shared != nullptr
             ? InputBit(static_cast<int>(outputs_[i].shared - inputs_))
             : 0);
    absl::StatusOr<process::Poller::WatchId> watch =
        poller_->Watch(outputs_[i].fd->Get(), EPOLLIN,
                       [ring = bell_->Ringer(bits)](uint32_t) { ring(); });
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
    while (Writable(in) && in.offset < chunk.data.size()) {
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
        if (std::exchange(in.small_pipe, false) && GrowPipe(*in.fd)) continue;
        // The child is not reading: wait for room rather than buffer more.
        absl::Status status = WaitForRoom(input, in);
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
    if (Writable(in) && in.offset < chunk.data.size()) {
      break;  // EPOLLOUT
    }
    in.waiting = false;
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

absl::Status StdioPump::WaitForRoom(Input input, PendingInput& in) {
  in.waiting = true;
  if (in.shared != nullptr) {
    return poller_->Rearm(in.shared->watch, in.fd->Get(),
                          SharedEvents(*in.shared));
  }
  if (in.watch != 0) return poller_->Rearm(in.watch, in.fd->Get(), EPOLLOUT);
  absl::StatusOr<process::Poller::WatchId> watch = poller_->Watch(
      in.fd->Get(), EPOLLOUT,
      [ring = bell_->Ringer(InputBit(static_cast<int>(input)))](uint32_t) {
        ring();
      });
  if (!watch.ok()) return watch.status();
  in.watch = *watch;
  return absl::OkStatus();
}

uint32_t StdioPump::SharedEvents(const Output& out) {
  uint32_t events = 0;
  if (out.armed) events |= EPOLLIN;
  if (out.shared->waiting && !out.shared->closed) events |= EPOLLOUT;
  return events;
}

void StdioPump::CloseInputFd(PendingInput& in) {
  in.waiting = false;
  if (in.shared != nullptr) {
    in.closed = true;  // the fd is the output's
    return;
  }
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
  if (!channel_.Valid()) return;
  // shutdown() reaches the child at once, whatever other copies exist.
  shutdown(channel_.Get(), SHUT_RDWR);
  CloseInput(Input::kChannel);
  CloseOutput(Stream::kChannel);
  channel_.Reset();
}

void StdioPump::EndChannel() {
  if (!channel_.Valid()) return;
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
  char* buffer = read_buffer.Get();
  // Plain read() on the channel too: file descriptors a child passes with
  // SCM_RIGHTS are discarded and closed by the kernel when the reader gives
  // no room for ancillary data (unix(7)), so none can leak into the server.
  ssize_t n = read(out.fd->Get(), buffer, max);
  if (n > 0) {
    if (out.small_pipe && static_cast<size_t>(n) >= kDefaultPipeBytes) {
      out.small_pipe = false;
      GrowPipe(*out.fd);
    }
    bytes_out_ += n;
    static constexpr ProcessEvents::Bytes kCounted[] = {
        ProcessEvents::Bytes::kStdout, ProcessEvents::Bytes::kStderr,
        ProcessEvents::Bytes::kIpcFromChild};
    events_->Transferred(kCounted[static_cast<int>(stream)], n);
    sink_->OnOutput(stream, read_buffer.Take(n));
    return true;
  }
  if (n < 0 && errno == EINTR) return true;
  if (n < 0 && errno == EAGAIN) {
    out.armed = true;
    absl::Status status = poller_->Rearm(
        out.watch, out.fd->Get(),
        out.shared != nullptr ? SharedEvents(out) : uint32_t{EPOLLIN});
    if (status.ok()) return false;
    out.armed = false;
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
