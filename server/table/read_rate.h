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
  // After a Wait() of zero: how many bytes that read may take (what the
  // bucket holds, at least one byte; SIZE_MAX with no limit), so that a
  // slow rate reads small chunks often rather than bursts of a pipe-full.
  size_t Allowance() const;
  // `bytes` were read.
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
