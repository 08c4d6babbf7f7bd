// A call whose leader was reaped must not signal a group that now belongs
// to another call. Runs as PID 1 of a PID namespace of its own (see
// tests/CMakeLists.txt), where it may choose the next pid through
// /proc/sys/kernel/ns_last_pid without touching the host's.
#include <dirent.h>
#include <signal.h>

#include <fstream>
#include <sstream>

#include "client/child_session.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/rexecd_process.h"
#include "tests/test_paths.h"

namespace rexec::testing {
namespace {

using ::testing::HasSubstr;

// Whether any process is in group `pgid`.
bool GroupExists(pid_t pgid) {
  DIR* dir = opendir("/proc");
  bool found = false;
  while (dirent* e = readdir(dir)) {
    pid_t pid = std::atoi(e->d_name);
    if (pid <= 0) continue;
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    char state;
    pid_t ppid, group;
    rest >> state >> ppid >> group;
    if (group == pgid) found = true;
  }
  closedir(dir);
  return found;
}

std::unique_ptr<client::SpawnSession> Open(RexecdProcess& server,
                                           std::vector<std::string> argv,
                                           pid_t* pid) {
  v1::SpawnStart start;
  for (auto& a : argv) start.add_argv(a);
  auto session = std::make_unique<client::SpawnSession>(
      server.stub(), start, absl::Now() + absl::Seconds(60));
  v1::SpawnResponse response;
  *pid = session->Read(&response) ? response.started().pid() : -1;
  return session;
}

TEST(PidReuse, AReapedGroupsIdGivenToAnotherCallIsLeftAlone) {
  ASSERT_EQ(getpid(), 1) << "run in a PID namespace of its own";
  // The attacker's call outlives its leader while a setsid'd descendant
  // holds its stdout, for the drain timeout.
  auto server = RexecdProcess::Start({"--drain-timeout", "3s"});
  ASSERT_NE(server, nullptr);
  for (int attempt = 0; attempt < 5; ++attempt) {
    pid_t group = -1;
    auto attacker =
        Open(*server, {"sh", "-c", "setsid sleep 347 & exit 0"}, &group);
    ASSERT_GT(group, 0);
    ASSERT_TRUE(Eventually([&] { return !GroupExists(group); }));
    // The next pid is the attacker's group id.
    {
      std::ofstream next("/proc/sys/kernel/ns_last_pid");
      next << group - 1;
    }
    pid_t victim_pid = -1;
    auto victim = Open(*server, {"sleep", "348"}, &victim_pid);
    if (victim_pid != group) {  // another task took it first: again
      victim->Cancel();
      attacker->Cancel();
      continue;
    }
    // The attacker signals its group, then ends its call: both used to
    // reach the victim, which leads a group of the same id now.
    ASSERT_TRUE(attacker->SendSignal("SIGKILL"));
    attacker->Cancel();
    EXPECT_THAT(server->WaitForLogLine("setsid sleep 347"),
                HasSubstr("reason="));
    EXPECT_FALSE(ProcessesWithArg("348").empty())
        << "the victim was killed by the other call";
    victim->Cancel();
    EXPECT_THAT(server->WaitForLogLine("\"348\""),
                HasSubstr("reason=CLIENT_GONE"));
    for (pid_t straggler : ProcessesWithArg("347")) kill(straggler, SIGKILL);
    return;
  }
  FAIL() << "could not give the victim the attacker's group id";
}

}  // namespace
}  // namespace rexec::testing
