// Bell and Timer on the test executor: rings coalesce into one turn, a
// closed bell rings nothing (also through a Ringer held elsewhere), and a
// timer cancelled, or destroyed, never fires.
#include "server/table/bell.h"

#include <memory>
#include <thread>

#include "gtest/gtest.h"
#include "server/table/timer.h"
#include "tests/table/test_executor.h"

namespace rexec::table {
namespace {

TEST(Bell, RingsFromOtherThreadsCoalesceIntoOneTurn) {
  TestExecutor executor;
  int turns = 0;
  uint32_t heard = 0;
  Bell bell(&executor, [&](uint32_t events) {
    ++turns;
    heard |= events;
  });
  std::thread a([&] { bell.Ring(1); });
  std::thread b([&] { bell.Ring(4); });
  a.join();
  b.join();
  bell.Ring(2);
  EXPECT_EQ(turns, 0) << "never from inside Ring()";
  executor.RunOnce();
  EXPECT_EQ(turns, 1);
  EXPECT_EQ(heard, 7u);
  executor.RunOnce(absl::Milliseconds(1));
  EXPECT_EQ(turns, 1);
}

TEST(Bell, AClosedOrGoneBellRingsNothing) {
  TestExecutor executor;
  int turns = 0;
  auto bell = std::make_unique<Bell>(&executor, [&](uint32_t) { ++turns; });
  std::function<void()> ring = bell->Ringer(1);
  bell->Ring(1);  // posted before the close: the turn finds it closed
  bell->Close();
  ring();
  executor.RunOnce();
  EXPECT_EQ(turns, 0);
  bell.reset();
  ring();  // its owner is gone: nothing to find, nothing to crash
  executor.RunOnce(absl::Milliseconds(1));
  EXPECT_EQ(turns, 0);
}

TEST(Bell, ItsOwnerMayGoFromInsideItsTurn) {
  TestExecutor executor;
  std::unique_ptr<Bell> bell;
  int turns = 0;
  bell = std::make_unique<Bell>(&executor, [&](uint32_t) {
    ++turns;
    bell.reset();
  });
  bell->Ring(1);
  executor.RunOnce();
  EXPECT_EQ(turns, 1);
  EXPECT_EQ(bell, nullptr);
}

TEST(Timer, FiresOnceUnlessCancelledOrDestroyed) {
  TestExecutor executor;
  int fired = 0;
  Timer timer(&executor, [&] { ++fired; });
  timer.Set(absl::Milliseconds(10));
  timer.Set(absl::Hours(1));  // armed already: the first holds
  EXPECT_TRUE(timer.armed());
  ASSERT_TRUE(executor.RunUntil([&] { return fired == 1; }));
  EXPECT_FALSE(timer.armed());
  timer.Set(absl::Milliseconds(10));
  timer.Cancel();
  EXPECT_FALSE(timer.armed());
  {
    Timer gone(&executor, [&] { ++fired; });
    gone.Set(absl::ZeroDuration());
  }
  executor.RunFor(absl::Milliseconds(50));
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(executor.timers(), 0);
}

}  // namespace
}  // namespace rexec::table
