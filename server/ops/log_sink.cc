#include "server/ops/log_sink.h"

#include <limits.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/time/clock.h"

namespace rexec::ops {

namespace {

// Both logs write stderr: a poll that said writable holds for the write
// after it only if no other sink writes in between (the last free page of
// a pipe would go to one of them, and the other would block).
std::mutex& WritesToFds() {
  static std::mutex* writes = new std::mutex;
  return *writes;
}

bool Pollable(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return false;
  return S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || isatty(fd);
}

}  // namespace

FdSink::FdSink(int fd, std::function<void(bool writable)> on_change)
    : fd_(fd), pollable_(Pollable(fd)), on_change_(std::move(on_change)) {}

void FdSink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t line;
  formatter_->format(msg, line);
  // Once a line could not go, the next ones do not wait for the reader:
  // only a write that goes through makes the sink writable again.
  if (Write(line.data(), line.size(),
            writable_ ? kWriteWait : absl::ZeroDuration())) {
    SetWritable(true);
  } else {
    ++dropped_;
    SetWritable(false);
  }
}

bool FdSink::Probe() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!pollable_) return false;
  pollfd ready{fd_, POLLOUT, 0};
  if (poll(&ready, 1, 0) != 1 || (ready.revents & (POLLERR | POLLHUP)) ||
      !(ready.revents & POLLOUT)) {
    return false;
  }
  SetWritable(true);
  return true;
}

// One line. Each write is at most PIPE_BUF bytes after a poll that said
// writable: a pipe then has that much room, so no write blocks, even for a
// line longer than a pipe takes at once. A line cut off by the deadline is
// ended before the next one.
bool FdSink::Write(const char* data, size_t size, absl::Duration wait) {
  const absl::Time deadline = absl::Now() + wait;
  // Whether all `n` bytes went; `wrote`: whether any did.
  const auto put = [&](const char* from, size_t n, bool* wrote) {
    std::lock_guard<std::mutex> one_writer(WritesToFds());
    while (n > 0) {
      pollfd ready{fd_, POLLOUT, 0};
      const int timeout =
          static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
      const int polled = poll(&ready, 1, timeout > 0 ? timeout : 0);
      if (polled < 0 && errno == EINTR) continue;
      if (polled != 1 || !(ready.revents & POLLOUT)) return false;
      const ssize_t written = write(fd_, from, std::min<size_t>(n, PIPE_BUF));
      if (written < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (written <= 0) return false;
      *wrote = true;
      from += written;
      n -= static_cast<size_t>(written);
    }
    return true;
  };
  bool wrote = false;
  if (partial_) {
    if (!put("\n", 1, &wrote)) return false;
    partial_ = false;
  }
  wrote = false;
  const bool whole = put(data, size, &wrote);
  partial_ = !whole && wrote;
  return whole;
}

void FdSink::SetWritable(bool writable) {
  if (writable_.exchange(writable) != writable && on_change_) {
    on_change_(writable);
  }
}

}  // namespace rexec::ops
