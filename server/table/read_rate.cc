#include "server/table/read_rate.h"

#include <algorithm>
#include <cstdint>

namespace rexec::table {
namespace {

// A read takes up to this much (the pump's chunk): the burst holds one.
constexpr double kChunk = 64 << 10;

}  // namespace

ReadRate::ReadRate(uint64_t bytes_per_second, absl::Time now)
    : rate_(static_cast<double>(bytes_per_second)),
      burst_(std::max(rate_ / 10, kChunk)),
      tokens_(burst_),
      refilled_(now) {}

absl::Duration ReadRate::Wait(absl::Time now) {
  if (rate_ == 0) return absl::ZeroDuration();
  Refill(now);
  // A read waits for a chunk's worth: fewer, larger turns.
  const double chunk = std::min(kChunk, burst_);
  if (tokens_ >= chunk) return absl::ZeroDuration();
  const double missing = chunk - tokens_;
  return absl::Seconds(missing / rate_);
}

size_t ReadRate::Allowance() const {
  if (rate_ == 0) return SIZE_MAX;
  return static_cast<size_t>(std::max(tokens_, 1.0));
}

void ReadRate::Took(uint64_t bytes) {
  if (rate_ != 0) tokens_ -= static_cast<double>(bytes);
}

void ReadRate::Refill(absl::Time now) {
  if (now <= refilled_) return;
  tokens_ = std::min(burst_,
                     tokens_ + absl::ToDoubleSeconds(now - refilled_) * rate_);
  refilled_ = now;
}

}  // namespace rexec::table
