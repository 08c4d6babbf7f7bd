// CqExecutor: the table's executor on a completion queue, turned on the
// test's thread as a server's worker turns it. Posts from other threads
// arrive in order; timers fire after their delay; a cancelled timer never
// runs its function, and its alarm's tag still comes back (nothing leaks
// or is left pending when the queue drains).
#include "server/rpc/cq_executor.h"

#include <grpcpp/completion_queue.h>

#include <functional>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "server/rpc/tag.h"

namespace rexec::rpc {
namespace {

class CqExecutorTest : public ::testing::Test {
 protected:
  ~CqExecutorTest() override {
    cq_.Shutdown();
    void* tag;
    bool ok;
    while (cq_.Next(&tag, &ok)) static_cast<Tag*>(tag)->Run(ok);
  }
  // Turns the queue until `until` holds; false after 10 s.
  bool Turn(const std::function<bool()>& until) {
    const auto deadline =
        std::chrono::system_clock::now() + std::chrono::seconds(10);
    while (!until()) {
      if (std::chrono::system_clock::now() > deadline) return false;
      void* tag;
      bool ok;
      if (cq_.AsyncNext(&tag, &ok,
                        std::chrono::system_clock::now() +
                            std::chrono::milliseconds(20)) ==
          grpc::CompletionQueue::GOT_EVENT) {
        static_cast<Tag*>(tag)->Run(ok);
      }
    }
    return true;
  }

  grpc::CompletionQueue cq_;
  CqExecutor executor_{&cq_};
};

TEST_F(CqExecutorTest, PostsFromOtherThreadsRunInTheirOrder) {
  std::vector<int> ran;
  std::thread poster([&] {
    for (int i = 0; i < 100; ++i) executor_.Post([&ran, i] { ran.push_back(i); });
  });
  poster.join();
  ASSERT_TRUE(Turn([&] { return ran.size() == 100; }));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(ran[i], i);
}

TEST_F(CqExecutorTest, WorkPostedFromAPostedFunctionRunsToo) {
  int ran = 0;
  executor_.Post([&] {
    ++ran;
    executor_.Post([&] { ++ran; });
  });
  ASSERT_TRUE(Turn([&] { return ran == 2; }));
}

TEST_F(CqExecutorTest, TimersFireAfterTheirDelayUnlessCancelled) {
  bool fired = false, cancelled_fired = false;
  const absl::Time set = absl::Now();
  executor_.After(absl::Milliseconds(50), [&] { fired = true; });
  const table::Executor::TimerId cancelled =
      executor_.After(absl::Milliseconds(10), [&] { cancelled_fired = true; });
  executor_.Cancel(cancelled);
  executor_.Cancel(cancelled);  // twice is no error
  executor_.Cancel(0);
  ASSERT_TRUE(Turn([&] { return fired; }));
  EXPECT_GE(absl::Now() - set, absl::Milliseconds(45));
  EXPECT_FALSE(cancelled_fired);
}

TEST_F(CqExecutorTest, ATimerMayCancelAnotherAndSetItsSuccessor) {
  int fired = 0;
  table::Executor::TimerId other =
      executor_.After(absl::Milliseconds(30), [&] { fired += 100; });
  executor_.After(absl::Milliseconds(5), [&] {
    ++fired;
    executor_.Cancel(other);
    executor_.After(absl::ZeroDuration(), [&] { ++fired; });
  });
  ASSERT_TRUE(Turn([&] { return fired == 2; }));
  const absl::Time until = absl::Now() + absl::Milliseconds(60);
  Turn([&] { return absl::Now() > until; });
  EXPECT_EQ(fired, 2);
}

}  // namespace
}  // namespace rexec::rpc
