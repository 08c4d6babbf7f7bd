// A call whose leader was reaped must not signal a group that now belongs
// to another call. Runs as PID 1 of a PID namespace of its own (see
// tests/CMakeLists.txt), where it may choose the next pid through
// /proc/sys/kernel/ns_last_pid without touching the host's; rexecd runs in
// that namespace (--pid-namespace host), not one of its own, so that its
// children's pids come from there.
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
  auto server = RexecdProcess::Start(
      {"--drain-timeout", "3s", "--pid-namespace", "host"});
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

// A terminal keeps naming its foreground group after the group's last
// member died. A child makes a group of its own the foreground one, lets it
// die and waits for its id to be another process's: a signal for the
// foreground must not reach that process.
constexpr char kStaleForeground[] = R"(
import os, sys, time
child = os.fork()
if child == 0:
    os.setpgid(0, 0)
    time.sleep(0.3)
    os._exit(0)
os.setpgid(child, child)  # both sides, so that the group is there now
os.tcsetpgrp(0, child)
os.waitpid(child, 0)
print("STALE %d" % child, flush=True)
time.sleep(60)
)";

TEST(PidReuse, AStaleForegroundGroupOfATerminalIsLeftAlone) {
  ASSERT_EQ(getpid(), 1) << "run in a PID namespace of its own";
  auto server = RexecdProcess::Start({"--pid-namespace", "host"});
  ASSERT_NE(server, nullptr);
  for (int attempt = 0; attempt < 5; ++attempt) {
    v1::SpawnStart start;
    for (const char* arg : {"python3", "-c", kStaleForeground}) {
      start.add_argv(arg);
    }
    start.mutable_options()->mutable_pty();
    client::SpawnSession attacker(server->stub(), start,
                                  absl::Now() + absl::Seconds(60));
    std::string screen;
    v1::SpawnResponse r;
    while (screen.find('\n', screen.find("STALE")) == std::string::npos &&
           attacker.Read(&r)) {
      screen += r.stdout();
    }
    const size_t at = screen.find("STALE ");
    ASSERT_NE(at, std::string::npos) << screen;
    const pid_t stale = std::atoi(screen.c_str() + at + 6);
    ASSERT_GT(stale, 1);
    {
      std::ofstream next("/proc/sys/kernel/ns_last_pid");
      next << stale - 1;
    }
    pid_t victim_pid = -1;
    auto victim = Open(*server, {"sleep", "349"}, &victim_pid);
    if (victim_pid != stale) {  // another task took it first: again
      victim->Cancel();
      attacker.Cancel();
      continue;
    }
    ASSERT_TRUE(Eventually([&] { return GroupExists(stale); }));
    // Both the client's signal and the stop of the call used to go to the
    // terminal's foreground group, which is the victim's id now.
    ASSERT_TRUE(attacker.SendSignal("SIGKILL"));
    attacker.Cancel();
    attacker.Finish();
    absl::SleepFor(absl::Milliseconds(300));
    EXPECT_FALSE(ProcessesWithArg("349").empty())
        << "the victim was killed through the attacker's terminal";
    victim->Cancel();
    for (pid_t straggler : ProcessesWithArg("349")) kill(straggler, SIGKILL);
    return;
  }
  FAIL() << "could not give the victim the stale group's id";
}

}  // namespace
}  // namespace rexec::testing
