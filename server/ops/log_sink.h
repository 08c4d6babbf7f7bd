// FdSink is the end of one of rexecd's logs: it writes each formatted line
// to an fd (stderr) on the log's own thread (an spdlog async logger's), and
// never waits long for it: it writes at most PIPE_BUF bytes at a time, and
// only when the fd polls writable (a pipe then takes that much without
// blocking, whatever the line's length or the fd's O_NONBLOCK). A reader that
// stalls (a pipe nobody reads, a frozen terminal) or a sink that fails (a full
// disk, a closed pipe) costs a line kWriteWait at most; the line is dropped and
// counted, and until a write goes through again the next lines are dropped at
// once. The calls that log never wait: the async logger's queue is bounded and
// drops its oldest line when full (counted by its thread pool).
//
// Thread-safe (spdlog's base_sink locks; the counters are atomic).
#ifndef REXEC_SERVER_OPS_LOG_SINK_H_
#define REXEC_SERVER_OPS_LOG_SINK_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>

#include "absl/time/time.h"
#include "spdlog/sinks/base_sink.h"

namespace rexec::ops {

class FdSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  static constexpr absl::Duration kWriteWait = absl::Milliseconds(200);

  // `on_change(writable)` is called, on the writing thread, each time the
  // sink goes from writable to not or back.
  FdSink(int fd, std::function<void(bool writable)> on_change);

  uint64_t dropped() const { return dropped_; }
  bool writable() const { return writable_; }
  // Whether the fd takes a line now, without waiting; marks the sink
  // writable again if it does (a probe while nothing is logged). Only a
  // pipe, socket or terminal can tell without a write: a file or a device
  // polls writable when full (/dev/full, a full disk), so for those only a
  // line that goes through makes the sink writable again.
  bool Probe();

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

 private:
  bool Write(const char* data, size_t size, absl::Duration wait);
  void SetWritable(bool writable);

  const int fd_;
  const bool pollable_;  // a pipe, socket or terminal
  const std::function<void(bool)> on_change_;
  // A line was cut off part-way: the next write ends it first, so that the
  // reader's lines stay lines.
  bool partial_ = false;
  std::atomic<uint64_t> dropped_{0};
  std::atomic<bool> writable_{true};
};

}  // namespace rexec::ops

#endif  // REXEC_SERVER_OPS_LOG_SINK_H_
