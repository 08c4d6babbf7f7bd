// The orphan reaper with real children and a real poller, no server: an
// orphan is reaped at its SIGCHLD, or after the spawn in flight then, with
// no sweep to help, and no thread but the poller's wakes for each child's
// exit.
#include "server/process/orphan_reaper.h"

#include <pthread.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/process/child.h"
#include "server/process/child_registry.h"

namespace rexec::process {
namespace {

// Longer than any test: what gets reaped, the signals reaped.
constexpr absl::Duration kNoSweep = absl::Hours(1);

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool Eventually(const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return false;
}

// Our running children whose command line has `arg` as an argument.
std::vector<pid_t> ChildrenWithArg(const std::string& arg) {
  std::vector<pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    pid_t pid;
    if (!absl::SimpleAtoi(entry.path().filename().string(), &pid)) continue;
    const std::string stat = ReadFile(entry.path() / "stat");
    const size_t end = stat.rfind(')');
    if (end == std::string::npos) continue;
    // After the command: state, then the parent.
    std::vector<std::string> fields = absl::StrSplit(stat.substr(end + 2), ' ');
    pid_t parent;
    if (fields.size() < 2 || !absl::SimpleAtoi(fields[1], &parent) ||
        parent != getpid()) {
      continue;
    }
    for (absl::string_view a :
         absl::StrSplit(ReadFile(entry.path() / "cmdline"), '\0')) {
      if (a == arg) found.push_back(pid);
    }
  }
  return found;
}

// Voluntary context switches of each thread of ours, by thread id.
std::map<std::string, long> ThreadWakeups() {
  std::map<std::string, long> wakeups;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/self/task")) {
    std::istringstream status(ReadFile(task.path() / "status"));
    std::string key;
    while (status >> key) {
      if (key == "voluntary_ctxt_switches:") {
        status >> wakeups[task.path().filename().string()];
      }
    }
  }
  return wakeups;
}

std::string ThreadName(const std::string& tid) {
  std::string name = ReadFile("/proc/self/task/" + tid + "/comm");
  if (!name.empty() && name.back() == '\n') name.pop_back();
  return name;
}

class OrphanReaperTest : public ::testing::Test {
 protected:
  OrphanReaperTest() {
    // As main() does before any thread: SIGCHLD is the signalfd's alone,
    // not some thread's to drop (the poller's thread inherits the mask).
    sigset_t sigchld;
    sigemptyset(&sigchld);
    sigaddset(&sigchld, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &sigchld, nullptr);
    poller_ = *Poller::Create();
    absl::StatusOr<std::unique_ptr<OrphanReaper>> reaper =
        OrphanReaper::Start(poller_.get(), kNoSweep);
    EXPECT_TRUE(reaper.ok()) << reaper.status();
    if (reaper.ok()) reaper_ = std::move(*reaper);
  }

  // Leaves an orphan of ours: a double fork into a new session, whose sleep
  // of `seconds` (each test its own, and longer than the test) is
  // re-parented to us. Its pid, or 0 (a failure) when it did not show.
  pid_t LeaveAnOrphan(const std::string& seconds) {
    SpawnOptions options;
    options.argv = {"sh", "-c", "(setsid sleep " + seconds + " &); exit 0"};
    absl::StatusOr<Child> child = Child::Spawn(options);
    EXPECT_TRUE(child.ok()) << child.status();
    if (!child.ok() || !child->Wait().ok()) return 0;
    std::vector<pid_t> orphans;
    if (!Eventually([&] {
          orphans = ChildrenWithArg(seconds);
          return orphans.size() == 1;
        })) {
      ADD_FAILURE() << "no orphan sleeping " << seconds << " s";
      return 0;
    }
    return orphans[0];
  }

  std::unique_ptr<Poller> poller_;
  std::unique_ptr<OrphanReaper> reaper_;
};

TEST_F(OrphanReaperTest, AnOrphanIsReapedAtItsExit) {
  ASSERT_NE(reaper_, nullptr);
  const pid_t orphan = LeaveAnOrphan("317.1");
  ASSERT_NE(orphan, 0);
  const std::string proc = "/proc/" + std::to_string(orphan);
  kill(orphan, SIGKILL);
  EXPECT_TRUE(Eventually([&] { return !std::filesystem::exists(proc); }))
      << proc << " was not reaped";
}

TEST_F(OrphanReaperTest, AnOrphanThatExitsDuringASpawnIsReapedAfterIt) {
  ASSERT_NE(reaper_, nullptr);
  const pid_t orphan = LeaveAnOrphan("317.2");
  ASSERT_NE(orphan, 0);
  const std::string proc = "/proc/" + std::to_string(orphan);
  // While a spawn is in flight the zombie may be that spawn's child: it
  // stays until the spawn ends, then goes, with no sweep in the test's time.
  ChildRegistry& registry = ChildRegistry::Global();
  registry.BeginSpawn();
  // Whatever fails below, the spawn ends: one left in flight would hold
  // every later reap of this binary.
  absl::Cleanup end_spawn = [&] { registry.EndSpawn(-1); };
  kill(orphan, SIGKILL);
  ASSERT_TRUE(Eventually([&] {
    return ReadFile(proc + "/stat").find(") Z ") != std::string::npos;
  })) << proc
      << " never became a zombie";
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_TRUE(std::filesystem::exists(proc)) << "reaped during a spawn";
  std::move(end_spawn).Invoke();
  EXPECT_TRUE(Eventually([&] { return !std::filesystem::exists(proc); }))
      << proc << " was not reaped after the spawn";
}

TEST_F(OrphanReaperTest, NoThreadButThePollersWakesForEachExit) {
  ASSERT_NE(reaper_, nullptr);
  const std::string self = std::to_string(gettid());
  const std::map<std::string, long> before = ThreadWakeups();
  ASSERT_TRUE(before.count(self));
  constexpr int kSpawns = 40;
  SpawnOptions options;
  options.argv = {"/bin/true"};
  for (int i = 0; i < kSpawns; ++i) {
    absl::StatusOr<Child> child = Child::Spawn(options);
    ASSERT_TRUE(child.ok()) << child.status();
    ASSERT_TRUE(child->Wait().ok());
  }
  for (const auto& [tid, count] : ThreadWakeups()) {
    if (tid == self || ThreadName(tid) == "rexecd-poller") continue;
    auto was = before.find(tid);
    const long woke = count - (was == before.end() ? 0 : was->second);
    EXPECT_LT(woke, kSpawns / 4)
        << "thread " << tid << " (" << ThreadName(tid) << ") woke " << woke
        << " times for " << kSpawns << " spawns";
  }
}

}  // namespace
}  // namespace rexec::process
