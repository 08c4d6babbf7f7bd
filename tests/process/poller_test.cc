// Poller: one-shot watches that fire once per arming, persistent ones that
// fire for each readiness, Rearm, Unwatch that waits for a running
// callback, EPOLLOUT and EPOLLHUP, and many watches.
#include "server/process/poller.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace rexec::process {
namespace {

struct Pipe {
  Pipe() {
    int fds[2];
    EXPECT_EQ(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    read_end.Reset(fds[0]);
    write_end.Reset(fds[1]);
  }
  void Write() { EXPECT_EQ(write(write_end.Get(), "x", 1), 1); }
  void Drain() {
    char buf[64];
    while (read(read_end.Get(), buf, sizeof buf) > 0) {
    }
  }
  UniqueFd read_end, write_end;
};

// Waits (bounded) until `count` reaches `want`.
bool Reaches(const std::atomic<int>& count, int want) {
  for (int i = 0; i < 500 && count.load() < want; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  return count.load() >= want;
}

std::unique_ptr<Poller> NewPoller() {
  absl::StatusOr<std::unique_ptr<Poller>> poller = Poller::Create();
  EXPECT_TRUE(poller.ok()) << poller.status();
  return poller.ok() ? *std::move(poller) : nullptr;
}

TEST(PollerTest, APersistentWatchFiresForEachReadinessWithoutRearm) {
  auto poller = NewPoller();
  Pipe pipe;
  std::atomic<int> fired{0};
  absl::StatusOr<Poller::WatchId> id = poller->Watch(
      pipe.read_end.Get(), EPOLLIN,
      [&](uint32_t) {
        pipe.Drain();  // as its owner must: level-triggered
        ++fired;
      },
      Poller::Arming::kPersistent);
  ASSERT_TRUE(id.ok()) << id.status();
  for (int i = 1; i <= 3; ++i) {
    pipe.Write();
    EXPECT_TRUE(Reaches(fired, i)) << "write " << i;
  }
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(fired, 3) << "fired with nothing to read";
  poller->Unwatch(*id, pipe.read_end.Get());
}

TEST(PollerTest, AWatchFiresOncePerArming) {
  auto poller = NewPoller();
  Pipe pipe;
  std::atomic<int> fired{0};
  absl::StatusOr<Poller::WatchId> id =
      poller->Watch(pipe.read_end.Get(), EPOLLIN, [&](uint32_t events) {
        EXPECT_TRUE(events & EPOLLIN);
        ++fired;
      });
  ASSERT_TRUE(id.ok()) << id.status();
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(fired, 0) << "fired with nothing to read";
  pipe.Write();
  ASSERT_TRUE(Reaches(fired, 1));
  // Still readable, but one-shot: silent until rearmed.
  pipe.Write();
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(fired, 1);
  ASSERT_TRUE(poller->Rearm(*id, pipe.read_end.Get(), EPOLLIN).ok());
  EXPECT_TRUE(Reaches(fired, 2));
  poller->Unwatch(*id, pipe.read_end.Get());
}

TEST(PollerTest, UnwatchWaitsForARunningCallbackAndSilencesTheWatch) {
  auto poller = NewPoller();
  Pipe pipe;
  std::atomic<bool> inside{false};
  std::atomic<int> fired{0};
  absl::StatusOr<Poller::WatchId> id =
      poller->Watch(pipe.read_end.Get(), EPOLLIN, [&](uint32_t) {
        inside = true;
        ++fired;
        absl::SleepFor(absl::Milliseconds(300));
        inside = false;
      });
  ASSERT_TRUE(id.ok());
  pipe.Write();
  for (int i = 0; i < 500 && !inside; ++i)
    absl::SleepFor(absl::Milliseconds(2));
  ASSERT_TRUE(inside.load());
  poller->Unwatch(*id, pipe.read_end.Get());
  EXPECT_FALSE(inside.load()) << "Unwatch returned while the callback ran";
  // Rearming a watch that is gone fails, and nothing fires any more.
  EXPECT_FALSE(poller->Rearm(*id, pipe.read_end.Get(), EPOLLIN).ok());
  pipe.Write();
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(fired, 1);
}

TEST(PollerTest, WritableAndHangUp) {
  auto poller = NewPoller();
  Pipe pipe;
  std::atomic<int> writable{0}, hung_up{0};
  absl::StatusOr<Poller::WatchId> out =
      poller->Watch(pipe.write_end.Get(), EPOLLOUT, [&](uint32_t events) {
        if (events & EPOLLOUT) ++writable;
      });
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(Reaches(writable, 1)) << "an empty pipe is writable at once";
  poller->Unwatch(*out, pipe.write_end.Get());

  absl::StatusOr<Poller::WatchId> in =
      poller->Watch(pipe.read_end.Get(), EPOLLIN, [&](uint32_t events) {
        if (events & EPOLLHUP) ++hung_up;
      });
  ASSERT_TRUE(in.ok());
  pipe.write_end.Reset();  // the writer is gone
  EXPECT_TRUE(Reaches(hung_up, 1));
  poller->Unwatch(*in, pipe.read_end.Get());
}

TEST(PollerTest, ManyWatchesEachFireOnce) {
  auto poller = NewPoller();
  constexpr int kPipes = 200;
  std::vector<Pipe> pipes(kPipes);
  std::vector<Poller::WatchId> ids;
  std::atomic<int> fired{0};
  std::vector<std::atomic<int>> each(kPipes);
  for (int i = 0; i < kPipes; ++i) {
    absl::StatusOr<Poller::WatchId> id =
        poller->Watch(pipes[i].read_end.Get(), EPOLLIN, [&, i](uint32_t) {
          ++each[i];
          ++fired;
        });
    ASSERT_TRUE(id.ok());
    ids.push_back(*id);
  }
  // Written from several threads at once.
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = t; i < kPipes; i += 4) pipes[i].Write();
    });
  }
  for (std::thread& w : writers) w.join();
  ASSERT_TRUE(Reaches(fired, kPipes));
  absl::SleepFor(absl::Milliseconds(50));
  for (int i = 0; i < kPipes; ++i) EXPECT_EQ(each[i], 1) << i;
  for (int i = 0; i < kPipes; ++i)
    poller->Unwatch(ids[i], pipes[i].read_end.Get());
}

TEST(PollerTest, ABadFdIsAnError) {
  auto poller = NewPoller();
  EXPECT_FALSE(poller->Watch(-1, EPOLLIN, [](uint32_t) {}).ok());
  // A regular file cannot be watched with epoll: EPERM, not a crash.
  UniqueFd file(open("/etc/passwd", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(file.Valid());
  EXPECT_FALSE(poller->Watch(file.Get(), EPOLLIN, [](uint32_t) {}).ok());
}

}  // namespace
}  // namespace rexec::process
