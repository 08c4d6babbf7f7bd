// FdSink on a pipe the test holds: a line longer than the room a nearly
// full pipe has is cut off after the deadline instead of blocking its
// thread, is counted, and the next line still starts a line of its own; a
// file or device that polls writable but fails is not taken for writable
// by a probe.
#include "server/ops/log_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>

#include "gtest/gtest.h"
#include "spdlog/logger.h"

namespace rexec::ops {
namespace {

std::string ReadAll(int fd) {
  std::string text;
  char buf[65536];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) text.append(buf, n);
  return text;
}

TEST(FdSink, ALineLongerThanThePipesRoomIsCutOffNotBlockedOn) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_NONBLOCK), 0);
  // Full, then one page read: the pipe polls writable with 4 KiB of room.
  const std::string page(4096, 'f');
  while (write(fds[1], page.data(), page.size()) > 0) {
  }
  std::string first(4096, '\0');
  ASSERT_EQ(read(fds[0], first.data(), first.size()), 4096);
  // Blocking, as stderr usually is: a write of more than the room waits.
  ASSERT_EQ(fcntl(fds[1], F_SETFL, 0), 0);
  ASSERT_EQ(fcntl(fds[0], F_SETFL, 0), 0);

  int changes = 0;
  auto sink = std::make_shared<FdSink>(fds[1], [&](bool) { ++changes; });
  spdlog::logger log("test", sink);
  log.set_pattern("%v");
  std::future<void> logged = std::async(
      std::launch::async, [&] { log.info(std::string(10000, 'x')); });
  const bool returned =
      logged.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  if (!returned) {  // unblocks it, to fail rather than hang
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    ReadAll(fds[0]);
  }
  ASSERT_TRUE(returned) << "the sink blocked on a full pipe";
  EXPECT_EQ(sink->dropped(), 1u);
  EXPECT_FALSE(sink->writable());
  EXPECT_EQ(changes, 1);

  // The reader comes back: the next line is a line of its own.
  ASSERT_EQ(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
  std::string text = ReadAll(fds[0]);
  log.info("next");
  text += ReadAll(fds[0]);
  EXPECT_TRUE(sink->writable());
  EXPECT_EQ(changes, 2);
  ASSERT_GE(text.size(), 6u);
  EXPECT_EQ(text.substr(text.size() - 6), "\nnext\n");
  close(fds[0]);
  close(fds[1]);
}

TEST(FdSink, ADeviceThatPollsWritableButFailsIsNotProbedWritable) {
  const int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(full, 0);
  auto sink = std::make_shared<FdSink>(full, nullptr);
  spdlog::logger log("test", sink);
  log.info("lost");
  EXPECT_EQ(sink->dropped(), 1u);
  EXPECT_FALSE(sink->writable());
  EXPECT_FALSE(sink->Probe());
  EXPECT_FALSE(sink->writable());
  close(full);
}

}  // namespace
}  // namespace rexec::ops
