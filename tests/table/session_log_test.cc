// SessionLog: a ring per stream in absolute offsets, what was lost, the
// exit, and watchers told of each change.
#include "server/table/session_log.h"

#include <atomic>
#include <thread>

#include "gtest/gtest.h"

namespace rexec::table {
namespace {

TEST(SessionLog, KeepsTheLastBytesAndSaysHowManyWereLost) {
  SessionLog log(10);
  log.Append(SessionLog::kStdout, "0123456");
  EXPECT_EQ(log.Read(SessionLog::kStdout, 0, 100).data, "0123456");
  log.Append(SessionLog::kStdout, "789abcd");  // wraps
  EXPECT_EQ(log.end(SessionLog::kStdout), 14u);
  EXPECT_EQ(log.oldest(SessionLog::kStdout), 4u);
  SessionLog::Chunk chunk = log.Read(SessionLog::kStdout, 0, 100);
  EXPECT_EQ(chunk.lost, 4u);
  EXPECT_EQ(chunk.offset, 4u);
  EXPECT_EQ(chunk.data, "456789abcd");
  chunk = log.Read(SessionLog::kStdout, 9, 3);  // across the wrap point
  EXPECT_EQ(chunk.lost, 0u);
  EXPECT_EQ(chunk.data, "9ab");
  chunk = log.Read(SessionLog::kStdout, 14, 100);  // at the end
  EXPECT_EQ(chunk.data, "");
  EXPECT_EQ(chunk.offset, 14u);
  // The other stream is apart.
  EXPECT_EQ(log.end(SessionLog::kStderr), 0u);
}

TEST(SessionLog, AChunkLargerThanTheRingKeepsItsTail) {
  SessionLog log(4);
  log.Append(SessionLog::kStderr, "abcdefghij");
  EXPECT_EQ(log.end(SessionLog::kStderr), 10u);
  EXPECT_EQ(log.Read(SessionLog::kStderr, 0, 100).data, "ghij");
  EXPECT_EQ(log.Read(SessionLog::kStderr, 0, 100).lost, 6u);
}

TEST(SessionLog, ManyWrapsStayByteExact) {
  SessionLog log(1000);
  std::string all;
  for (int i = 0; i < 5000; ++i) {
    std::string piece = std::to_string(i) + ",";
    all += piece;
    log.Append(SessionLog::kStdout, piece);
  }
  const uint64_t end = log.end(SessionLog::kStdout);
  ASSERT_EQ(end, all.size());
  EXPECT_EQ(log.Read(SessionLog::kStdout, end - 1000, 2000).data,
            all.substr(all.size() - 1000));
  EXPECT_EQ(log.Read(SessionLog::kStdout, end - 321, 100).data,
            all.substr(all.size() - 321, 100));
}

TEST(SessionLog, WatchersHearOfOutputAndExitUntilRemoved) {
  SessionLog log(100);
  int heard = 0;
  const int id = log.AddWatcher([&] { ++heard; });
  EXPECT_EQ(log.watchers(), 1);
  log.Append(SessionLog::kStdout, "x");
  log.SetExit(ExitReport{process::ExitStatus::Exited(3),
                         TerminationReason::kExited, absl::Seconds(1)});
  EXPECT_EQ(heard, 2);
  ASSERT_TRUE(log.exit().has_value());
  EXPECT_EQ(log.exit()->status.code(), 3);
  log.RemoveWatcher(id);
  log.Append(SessionLog::kStdout, "y");
  EXPECT_EQ(heard, 2);
  EXPECT_EQ(log.watchers(), 0);
}

TEST(SessionLog, ReadersOnOtherThreadsSeeWholeAppends) {
  SessionLog log(64);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 20000; ++i) log.Append(SessionLog::kStdout, "abcd");
    done = true;
  });
  int reads = 0;
  while (!done && reads < 1'000'000) {
    SessionLog::Chunk chunk = log.Read(SessionLog::kStdout, 0, 64);
    // Appends are whole under the lock: the kept bytes are whole "abcd"s.
    ASSERT_EQ(chunk.offset % 4, 0u);
    for (size_t i = 0; i < chunk.data.size(); ++i) {
      ASSERT_EQ(chunk.data[i], "abcd"[i % 4]);
    }
    ++reads;
  }
  writer.join();
  EXPECT_EQ(log.end(SessionLog::kStdout), 80000u);
}

}  // namespace
}  // namespace rexec::table
