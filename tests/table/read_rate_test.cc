// ReadRate: what a reader that reads whenever it may takes over time.
#include "server/table/read_rate.h"

#include <algorithm>
#include <cstdint>

#include "gtest/gtest.h"

namespace rexec::table {
namespace {

constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kChunk = 64 << 10;

// Reads a chunk whenever it may, for `span` of simulated time; returns
// the bytes read.
uint64_t ReadFor(ReadRate& rate, absl::Time& now, absl::Duration span) {
  const absl::Time end = now + span;
  uint64_t read = 0;
  for (int turns = 0; now < end && turns < 1'000'000; ++turns) {
    const absl::Duration wait = rate.Wait(now);
    if (wait > absl::ZeroDuration()) {
      now += wait;
      continue;
    }
    const uint64_t take = std::min<uint64_t>(rate.Allowance(), kChunk);
    rate.Took(take);
    read += take;
  }
  return read;
}

TEST(ReadRate, AReaderThatReadsWheneverItMayGetsTheRateAndABurst) {
  absl::Time now = absl::UnixEpoch();
  ReadRate rate(kMiB, now);
  const uint64_t read = ReadFor(rate, now, absl::Seconds(10));
  EXPECT_LE(read, 10 * kMiB + kMiB / 10 + kChunk);
  EXPECT_GE(read, 10 * kMiB - kChunk);
}

TEST(ReadRate,
     AnEmptyBucketSaysHowLongUntilAChunkAndIdleTimeRefillsOnlyTheBurst) {
  absl::Time now = absl::UnixEpoch();
  ReadRate rate(kMiB, now);
  EXPECT_EQ(rate.Wait(now), absl::ZeroDuration());
  rate.Took(kMiB / 10 + 1);  // the whole burst
  const absl::Duration wait = rate.Wait(now);
  EXPECT_GT(wait, absl::ZeroDuration());
  EXPECT_LE(wait, absl::Milliseconds(100));
  EXPECT_EQ(rate.Wait(now + wait), absl::ZeroDuration());
  // An hour idle gives a tenth of a second's worth, not an hour's.
  now += absl::Hours(1);
  const uint64_t read = ReadFor(rate, now, absl::Seconds(1));
  EXPECT_LE(read, kMiB + kMiB / 10 + kChunk);
}

TEST(ReadRate, AReadTakesAtMostWhatTheBucketHoldsSoASlowRateIsNotBursts) {
  absl::Time now = absl::UnixEpoch();
  ReadRate rate(4 << 10, now);  // the least --detached-read-rate
  EXPECT_EQ(rate.Wait(now), absl::ZeroDuration());
  EXPECT_LE(rate.Allowance(), kChunk);  // a pipe holds 1 MiB
  rate.Took(rate.Allowance());
  // The next read waits for a chunk's worth, and may take that much.
  const absl::Duration wait = rate.Wait(now);
  EXPECT_GT(wait, absl::Seconds(1));
  EXPECT_EQ(rate.Wait(now + wait), absl::ZeroDuration());
  EXPECT_GE(rate.Allowance(), kChunk - 1);
  EXPECT_LE(rate.Allowance(), kChunk);
}

TEST(ReadRate, ZeroIsNoLimit) {
  absl::Time now = absl::UnixEpoch();
  ReadRate rate(0, now);
  for (int i = 0; i < 1000; ++i) rate.Took(kChunk);
  EXPECT_EQ(rate.Wait(now), absl::ZeroDuration());
}

}  // namespace
}  // namespace rexec::table
