// ChildRegistry's guard against pid reuse, with real children and no
// server: a group whose leader was reaped is signalled (its stragglers
// get the stop) only while its id is not another child's.
#include "server/process/child_registry.h"

#include <signal.h>
#include <unistd.h>

#include <optional>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/process/child.h"

namespace rexec::process {
namespace {

// Waits (bounded) for the child's exit.
void Reap(Child& child) {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    absl::StatusOr<std::optional<ExitStatus>> status = child.TryReap();
    ASSERT_TRUE(status.ok()) << status.status();
    if (status->has_value()) return;
    absl::SleepFor(absl::Milliseconds(10));
  }
  FAIL() << "pid " << child.pid() << " never exited";
}

bool GroupGone(pid_t pgid) {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    if (killpg(pgid, 0) != 0) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return false;
}

TEST(ChildRegistry, AStragglerOfAReapedLeaderGetsTheSignal) {
  SpawnOptions options;
  options.argv = {"sh", "-c", "sleep 30 & exit 0"};
  absl::StatusOr<Child> child = Child::Spawn(options);
  ASSERT_TRUE(child.ok()) << child.status();
  Reap(*child);
  // The leader is gone; the sleep it left holds the group's id.
  EXPECT_TRUE(child->GroupAlive());
  EXPECT_TRUE(ChildRegistry::Global().SignalReapedGroup(child->pid(), SIGKILL));
  EXPECT_TRUE(GroupGone(child->pid()));
  EXPECT_FALSE(ChildRegistry::Global().SignalReapedGroup(child->pid(), SIGKILL))
      << "nobody left to signal";
}

TEST(ChildRegistry, AGroupIdThatIsAnotherChildsNowIsLeftAlone) {
  SpawnOptions options;
  options.argv = {"sleep", "30"};
  absl::StatusOr<Child> child = Child::Spawn(options);
  ASSERT_TRUE(child.ok()) << child.status();
  const pid_t id = child->pid();
  // As if the id had been freed and a new child of ours got it: the group
  // id now has a second owner, and the first must leave it alone.
  ChildRegistry& registry = ChildRegistry::Global();
  registry.BeginSpawn();
  registry.EndSpawn(id);
  EXPECT_FALSE(registry.SignalReapedGroup(id, SIGKILL));
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(killpg(id, 0), 0) << "the other child's group was signalled";
  // The second owner goes: the id is the first's alone again.
  registry.ReleaseGroup(id);
  EXPECT_TRUE(registry.SignalReapedGroup(id, SIGKILL));
  Reap(*child);
}

TEST(ChildRegistry, AZombieSeenDuringASpawnIsHandedOverOnlyIfNobodysAfter) {
  // Pids the registry never saw: it judges them by what it holds alone.
  constexpr pid_t kTheSpawnsChild = 1 << 22, kAnOrphan = (1 << 22) + 1;
  ChildRegistry& registry = ChildRegistry::Global();
  std::vector<pid_t> handed;
  int handoffs = 0;
  registry.SetUndecidedHandoff([&](std::vector<pid_t> pids) {
    ++handoffs;
    handed = std::move(pids);
  });
  EXPECT_EQ(registry.IsOrphanNow(kAnOrphan), true) << "no spawn in flight";
  registry.BeginSpawn();
  registry.BeginSpawn();
  EXPECT_EQ(registry.IsOrphanNow(kTheSpawnsChild), std::nullopt);
  EXPECT_EQ(registry.IsOrphanNow(kAnOrphan), std::nullopt);
  // Its spawn registers the one: it was that spawn's child.
  registry.EndSpawn(kTheSpawnsChild);
  EXPECT_EQ(handoffs, 0) << "a spawn is still in flight";
  EXPECT_EQ(registry.IsOrphanNow(kTheSpawnsChild), false);
  registry.EndSpawn(-1);
  EXPECT_EQ(handoffs, 1);
  EXPECT_EQ(handed, std::vector<pid_t>{kAnOrphan});
  registry.SetUndecidedHandoff(nullptr);
  registry.Reaped(kTheSpawnsChild);
  registry.ReleaseGroup(kTheSpawnsChild);
}

}  // namespace
}  // namespace rexec::process
