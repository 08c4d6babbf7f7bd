#include "server/ops/log_sink.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

#include "absl/time/clock.h"

namespace rexec::ops {

FdSink::FdSink(int fd, std::function<void(bool writable)> on_change)
    : fd_(fd), on_change_(std::move(on_change)) {}

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
  pollfd ready{fd_, POLLOUT, 0};
  if (poll(&ready, 1, 0) != 1 || (ready.revents & (POLLERR | POLLHUP)) ||
      !(ready.revents & POLLOUT)) {
    return false;
  }
  SetWritable(true);
  return true;
}

// One line, whole or not at all as far as it can: a pipe that polls
// writable takes PIPE_BUF bytes (a record is at most 4 KiB) without
// blocking; a file or terminal takes it, or fails.
bool FdSink::Write(const char* data, size_t size, absl::Duration wait) {
  const absl::Time deadline = absl::Now() + wait;
  while (size > 0) {
    pollfd ready{fd_, POLLOUT, 0};
    const int timeout =
        static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    const int polled = poll(&ready, 1, timeout > 0 ? timeout : 0);
    if (polled < 0 && errno == EINTR) continue;
    if (polled != 1 || !(ready.revents & POLLOUT)) return false;
    const ssize_t n = write(fd_, data, size);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

void FdSink::SetWritable(bool writable) {
  if (writable_.exchange(writable) != writable && on_change_) {
    on_change_(writable);
  }
}

}  // namespace rexec::ops
