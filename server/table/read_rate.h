// ReadRate is a token bucket for reading a process's output: how many bytes
// a second may be read, with a burst of a tenth of a second's worth (at
// least one read's chunk). A detached session that writes without pause is
// read at this rate, and blocks on its full pipe in between, so that it
// costs the server a bounded share of a core (--detached-read-rate).
//
// Not thread-safe; pure (the caller gives the time).
#ifndef REXEC_SERVER_TABLE_READ_RATE_H_
#define REXEC_SERVER_TABLE_READ_RATE_H_

#include <cstdint>

#include "absl/time/time.h"

namespace rexec::table {

class ReadRate {
 public:
  // `bytes_per_second` 0: no limit.
  ReadRate(uint64_t bytes_per_second, absl::Time now);

  // Zero when a read may go now, else how long until it may.
  absl::Duration Wait(absl::Time now);
  // `bytes` were read (the bucket may go below zero: a read takes what
  // the pipe has, up to a chunk).
  void Took(uint64_t bytes);

 private:
  void Refill(absl::Time now);

  const double rate_;   // bytes per second
  const double burst_;  // the bucket's size
  double tokens_;
  absl::Time refilled_;
};

}  // namespace rexec::table

#endif  // REXEC_SERVER_TABLE_READ_RATE_H_
