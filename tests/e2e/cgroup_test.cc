// rexecd with --cgroup-root: each child in a cgroup of its own, a stop that
// reaches descendants which left the process group (setsid, setpgid), the
// cgroup's removal, and what the memory, pids and cpu controllers give
// where this machine's cgroup v2 has them. Tests that need what the machine
// lacks say so and skip; the max_rss tests run everywhere. tests/vm/ runs
// this binary again in a virtual machine that has every controller, where
// a skip fails.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/child_session.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/process/spawn_options.h"
#include "tests/e2e/cgroup_dir.h"
#include "tests/e2e/rexecd_process.h"

namespace rexec::testing {
namespace {

using ::testing::HasSubstr;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The exit of `argv` spawned on `server`, read from its own call.
v1::ExitStatus ExitOf(RexecdProcess& server, std::vector<std::string> argv,
                      const std::string& token = "") {
  client::SessionOptions options(absl::Now() + absl::Seconds(20));
  options.bearer_token = token;
  v1::SpawnStart start;
  for (const std::string& arg : argv) start.add_argv(arg);
  client::SpawnSession session(server.stub(), start, options);
  v1::SpawnResponse response;
  v1::ExitStatus exit;
  bool exited = false;
  while (session.Read(&response)) {
    if (response.has_exit()) {
      exit = response.exit();
      exited = true;
    }
  }
  grpc::Status status = session.Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(exited) << "the call ended without its exit";
  return exit;
}

constexpr char kEscapees[] =
    "setsid sleep 3301 & "
    "/usr/bin/python3 -c 'import os, time; os.setpgid(0, 0); time.sleep(600)' "
    "3302 & sleep 3303";

bool EscapeesGone() {
  return ProcessesWithArg("3301").empty() && ProcessesWithArg("3302").empty() &&
         ProcessesWithArg("3303").empty();
}

class CgroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CgroupDir dir = MakeCgroupDir();
    if (dir.path.empty()) {
      GTEST_SKIP() << "cannot run: " << dir.why_not
                   << "; rexecd falls back to stopping process groups, which "
                      "the other tests check";
    }
    root_ = dir.path;
    server_ = RexecdProcess::Start({"--cgroup-root", root_});
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override {
    if (root_.empty()) return;
    if (server_ != nullptr) server_->Terminate();
    RemoveCgroupDir(root_);
  }

  // Whether the children's cgroups get `controller`; else the reason.
  std::optional<std::string> Lacks(const std::string& controller) {
    std::vector<std::string> enabled =
        absl::StrSplit(absl::StripAsciiWhitespace(
                           ReadAll(root_ + "/children/cgroup.subtree_control")),
                       ' ', absl::SkipEmpty());
    if (std::find(enabled.begin(), enabled.end(), controller) !=
        enabled.end()) {
      return std::nullopt;
    }
    return absl::StrCat(
        "cannot run: the ", controller, " controller is not available in ",
        root_, " (this machine's cgroup v2 offers: \"",
        absl::StripAsciiWhitespace(ReadAll(root_ + "/cgroup.controllers")),
        "\")");
  }

  // rexecd again, with a policy whose one rule, for identity A (token
  // "token-a"), sets `cgroup` (JSON).
  void RestartWithCgroup(const std::string& cgroup) {
    const std::string policy = dir_.Write(
        "policy.json", R"({"rules": [{"identities": ["A"], "rpcs": ["Spawn"],
                              "programs": ["/*"], "cgroup": )" +
                           cgroup + "}]}");
    server_->Terminate();
    server_ = RexecdProcess::Start(
        {"--cgroup-root", root_, "--policy", policy, "--token-file",
         dir_.Write("tokens", "A " + Sha256Hex("token-a") + "\n")});
    ASSERT_NE(server_, nullptr);
  }

  TempDir dir_;
  std::string root_;
  std::unique_ptr<RexecdProcess> server_;
};

TEST_F(CgroupTest, EachChildRunsInACgroupOfItsOwnThatGoesWithIt) {
  CliResult r = RunRexec({"--server", server_->address(), "spawn", "--", "cat",
                          "/proc/self/cgroup"});
  EXPECT_EQ(r.code, 0) << r.err;
  const std::string relative =
      root_.substr(root_.find("/rexec-test-")) + "/children/id-anonymous-";
  EXPECT_THAT(r.out, HasSubstr("0::" + relative)) << r.out;
  // Its own: a cN leaf under its identity's directory, not that directory.
  EXPECT_THAT(r.out, ::testing::ContainsRegex("0::[^\n]*/children/"
                                              "id-anonymous-[^/\n]*/c[0-9]+\n"))
      << r.out;
  // Gone after the call, and its identity's directory with it.
  EXPECT_TRUE(Eventually([&] {
    std::string dirs;
    FILE* find =
        popen(("find " + root_ + "/children -mindepth 1 -type d").c_str(), "r");
    char buf[256];
    while (find != nullptr && fgets(buf, sizeof buf, find) != nullptr)
      dirs += buf;
    if (find != nullptr) pclose(find);
    return dirs.empty();
  })) << "a child's cgroup outlived its call";
}

// The fds `kCalls` children of `start` hold in `server`, per child, while
// their calls are open (on one connection, made before counting).
template <typename Request>
double FdsPerChild(RexecdProcess& server,
                   const typename client::Rpc<Request>::Start& start) {
  constexpr int kCalls = 40;
  const int before = server.FdCount();
  std::vector<std::unique_ptr<client::ChildSession<Request>>> open;
  for (int i = 0; i < kCalls; ++i) {
    open.push_back(
        std::make_unique<client::ChildSession<Request>>(server.stub(), start));
    typename client::Rpc<Request>::Response r;
    EXPECT_TRUE(open.back()->Read(&r) && r.has_started());
  }
  // The last launch's own fds close just after its Started.
  int held = 0;
  for (int i = 0; i < 20; ++i) {
    held = server.FdCount() - before;
    if (held <= 4 * kCalls) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  for (auto& session : open) session->Cancel();
  // They are given back too, before the next count begins.
  EXPECT_TRUE(Eventually([&] { return server.FdCount() <= before; }))
      << server.FdCount() << " fds, " << before << " before";
  return static_cast<double>(held) / kCalls;
}

// What a running child costs rexecd in file descriptors, each in a cgroup
// of its own: the start-up check counts on 4 (kFdsPerChild in main.cc),
// and the table admits each child by process::HeldFds, which must not
// count fewer than it holds. The cgroup's directory is open only for the
// launch; the channel and a terminal are one fd each, read and written
// through one poller watch.
TEST_F(CgroupTest, ARunningChildHoldsAtMostFourFds) {
  v1::SpawnStart spawn;
  spawn.add_argv("true");
  client::SpawnSession first(server_->stub(), spawn);  // the connection
  v1::SpawnResponse r;
  while (first.Read(&r)) {
  }
  ASSERT_TRUE(first.Finish().ok());

  // stdin, stdout and stderr pipes, and a pidfd.
  spawn.set_argv(0, "cat");
  process::SpawnOptions piped;
  ASSERT_EQ(process::HeldFds(piped), 4);
  EXPECT_LE(FdsPerChild<v1::SpawnRequest>(*server_, spawn),
            process::HeldFds(piped));
  // A terminal and a pidfd.
  spawn.mutable_options()->mutable_pty()->set_rows(24);
  spawn.mutable_options()->mutable_pty()->set_cols(80);
  process::SpawnOptions terminal;
  terminal.stdio = process::TerminalStdio();
  terminal.terminal.emplace();
  EXPECT_LE(FdsPerChild<v1::SpawnRequest>(*server_, spawn),
            process::HeldFds(terminal));
  // Fork's pipes, its channel and a pidfd: one more than a Spawn.
  v1::ForkStart fork;
  fork.set_module("fds");
  fork.set_exec_path("/bin/sh");
  fork.add_exec_argv("-c");
  fork.add_exec_argv("exec cat");
  process::SpawnOptions forked;
  forked.stdio.push_back({3, process::StdioKind::kSocket});
  EXPECT_LE(FdsPerChild<v1::ForkRequest>(*server_, fork),
            process::HeldFds(forked));
}

TEST_F(CgroupTest, AStopReachesDescendantsThatLeftTheProcessGroup) {
  CliResult r =
      RunRexec({"--server", server_->address(), "spawn", "--timeout", "1s",
                "--kill-grace", "1s", "--", "sh", "-c", kEscapees});
  EXPECT_EQ(r.code, 128 + SIGTERM) << r.err;
  EXPECT_TRUE(Eventually(EscapeesGone, absl::Seconds(10)))
      << "a descendant in a session or group of its own survived the stop";
}

// A rexecd without a PID namespace of its own (--pid-namespace host, or
// one that may not make it) killed with children running leaves what they
// started in its cgroups; the next rexecd on the same root kills them and
// removes the directories, and its first call of the same identity works
// (it failed on "mkdir .../c0: File exists" before). With a namespace,
// nothing is left (crash_test.cc).
TEST_F(CgroupTest, WhatAKilledRexecdLeftIsKilledByTheNextOnTheSameRoot) {
  server_->Terminate();
  server_ =
      RexecdProcess::Start({"--cgroup-root", root_, "--pid-namespace", "host"});
  ASSERT_NE(server_, nullptr);
  CliResult started = RunRexec({"--server", server_->address(), "spawn",
                                "--detach", "--", "sh", "-c", kEscapees});
  ASSERT_EQ(started.code, 0) << started.err;
  ASSERT_TRUE(Eventually([] {
    return !ProcessesWithArg("3301").empty() &&
           !ProcessesWithArg("3303").empty();
  }));
  kill(server_->pid(), SIGKILL);
  server_->WaitForExit();
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_FALSE(ProcessesWithArg("3303").empty())
      << "nothing was left to find (a test that cannot fail)";

  server_ = RexecdProcess::Start({"--cgroup-root", root_});
  ASSERT_NE(server_, nullptr);
  EXPECT_TRUE(Eventually(EscapeesGone, absl::Seconds(10)))
      << "a child of the killed rexecd survived the next one's start";
  EXPECT_THAT(server_->WaitForLogLine("a rexecd before this one left"),
              HasSubstr("left 1 children's cgroups"));
  CliResult first = RunRexec(
      {"--server", server_->address(), "spawn", "--", "echo", "first"});
  EXPECT_EQ(first.code, 0) << first.err;
  EXPECT_EQ(first.out, "first\n");
}

TEST_F(CgroupTest,
       ARexecdStartedInsideTheRootMovesOutAndSurvivesAKillOfItsLeaf) {
  // As under systemd's Delegate= or in a container: rexecd starts in the
  // delegated directory itself. A fresh one: cgroup v2 lets no process
  // into a directory that gives its children controllers (EBUSY), and
  // SetUp's rexecd gave root_'s children all this machine has.
  server_->Terminate();
  const std::string delegated = root_ + "/delegated";
  ASSERT_EQ(mkdir(delegated.c_str(), 0755), 0) << strerror(errno);
  const std::vector<std::string> inside = {
      "sh", "-c",
      "echo $$ > " + delegated + "/cgroup.procs && exec \"$0\" \"$@\""};
  server_ = RexecdProcess::Start({"--cgroup-root", delegated}, {}, inside);
  ASSERT_NE(server_, nullptr);
  const std::string leaf = absl::StrCat(delegated, "/rexecd-", server_->pid());
  EXPECT_THAT(ReadAll(leaf + "/cgroup.procs"),
              HasSubstr(absl::StrCat(server_->pid(), "\n")));
  EXPECT_EQ(ReadAll(delegated + "/cgroup.procs"), "")
      << "a process left in the root";
  // A kill of its leaf (what a root child could do) ends it; one started
  // again takes a new leaf, where a leaf once killed would kill every child
  // its launcher clones elsewhere. Started again in a subgroup of the
  // delegated directory (systemd's DelegateSubgroup=): with controllers
  // given, as the first rexecd did where the machine has them, the
  // directory itself takes no process.
  std::ofstream(leaf + "/cgroup.kill") << "1";
  server_->Terminate();
  const std::string service = delegated + "/service";
  ASSERT_EQ(mkdir(service.c_str(), 0755), 0) << strerror(errno);
  server_ = RexecdProcess::Start(
      {"--cgroup-root", delegated}, {},
      {"sh", "-c",
       "echo $$ > " + service + "/cgroup.procs && exec \"$0\" \"$@\""});
  ASSERT_NE(server_, nullptr);
  CliResult r = RunRexec(
      {"--server", server_->address(), "spawn", "--", "echo", "alive"});
  EXPECT_EQ(r.out, "alive\n") << r.err;
  EXPECT_FALSE(std::ifstream(leaf + "/cgroup.procs").good())
      << "the old empty leaf was not removed";
}

TEST_F(CgroupTest, AMemoryLimitEndsInTheOomKiller) {
  if (auto why = Lacks("memory")) GTEST_SKIP() << *why;
  ASSERT_NO_FATAL_FAILURE(
      RestartWithCgroup(R"({"memory_max_bytes": 67108864})"));
  v1::ExitStatus exit =
      ExitOf(*server_, {"/usr/bin/python3", "-c", "b = b'x' * (200 << 20)"},
             "token-a");
  EXPECT_EQ(exit.signal(), "SIGKILL");
  EXPECT_EQ(exit.reason(), v1::TERMINATION_REASON_OOM_KILLED);
}

TEST_F(CgroupTest, TheDefaultMemoryBudgetIsThreeQuartersOfTheLimitItRunsUnder) {
  if (auto why = Lacks("memory")) GTEST_SKIP() << *why;
  // A rexecd started in a cgroup of 400 MiB, as in a pod with that limit.
  const std::string limited = root_ + "/limited";
  ASSERT_EQ(mkdir(limited.c_str(), 0755), 0) << strerror(errno);
  std::ofstream(limited + "/memory.max") << (400 << 20);
  std::unique_ptr<RexecdProcess> inside = RexecdProcess::Start(
      {}, {},
      {"sh", "-c",
       "echo $$ > " + limited + "/cgroup.procs && exec \"$0\" \"$@\""});
  ASSERT_NE(inside, nullptr);
  EXPECT_THAT(inside->WaitForLogLine("memory budget for calls"),
              HasSubstr("memory budget for calls: 300 MiB (3/4 of the memory "
                        "limit of rexecd's cgroup, 400 MiB)"));
  inside->Terminate();
}

TEST_F(CgroupTest, APidsLimitBoundsAForkBomb) {
  if (auto why = Lacks("pids")) GTEST_SKIP() << *why;
  ASSERT_NO_FATAL_FAILURE(RestartWithCgroup(R"({"pids_max": 20})"));
  const std::string token = dir_.Write("a.token", "token-a\n");
  CliResult r;
  std::atomic<bool> over{false};
  std::thread bomb([&] {
    r = RunRexec({"--server", server_->address(), "--token-file", token,
                  "spawn", "--timeout", "3s", "--", "sh", "-c",
                  "for i in $(seq 1 60); do sleep 3304 & done; sleep 30"});
    over = true;
  });
  // The most processes its cgroup held (pids.current), read from here:
  // the child itself could not fork a cat at its limit.
  int most = 0;
  // Sampled for as long as the bomb goes on (its timeout is 3 s).
  for (int i = 0; i < 400 && !over; ++i) {
    FILE* cat = popen(
        ("cat " + root_ + "/children/*/c*/pids.current 2>/dev/null").c_str(),
        "r");
    int current = 0;
    while (cat != nullptr && fscanf(cat, "%d", &current) == 1) {
      most = std::max(most, current);
    }
    if (cat != nullptr) pclose(cat);
    absl::SleepFor(absl::Milliseconds(50));
  }
  bomb.join();
  EXPECT_THAT(r.err, HasSubstr("fork"));
  EXPECT_LE(most, 20);
  EXPECT_GE(most, 10) << "the bomb did not go off";
  EXPECT_TRUE(Eventually([] { return ProcessesWithArg("3304").empty(); }));
}

// cpu_millis 100 is a tenth of a core (cpu.max "10000 100000"): a child
// that never stops computing gets 10 ms of each 100 ms period and is
// throttled for the rest. Unlimited, it would take all of a core for
// its two seconds.
TEST_F(CgroupTest, ACpuLimitThrottlesACpuBoundChild) {
  if (auto why = Lacks("cpu")) GTEST_SKIP() << *why;
  ASSERT_NO_FATAL_FAILURE(RestartWithCgroup(R"({"cpu_millis": 100})"));
  v1::ExitStatus exit;
  std::atomic<bool> over{false};
  std::thread child([&] {
    exit = ExitOf(*server_, {"timeout", "2", "sh", "-c", "while :; do :; done"},
                  "token-a");
    over = true;
  });
  // The kernel's own count of periods in which the child's cgroup ran out
  // of its quota, read from here while it runs (the cgroup goes with it).
  int64_t throttled = 0;
  for (int i = 0; i < 400 && !over; ++i) {
    FILE* cat = popen(
        ("cat " + root_ + "/children/*/c*/cpu.stat 2>/dev/null").c_str(), "r");
    char key[64];
    long long value = 0;
    while (cat != nullptr && fscanf(cat, "%63s %lld", key, &value) == 2) {
      if (std::string(key) == "nr_throttled") {
        throttled = std::max<int64_t>(throttled, value);
      }
    }
    if (cat != nullptr) pclose(cat);
    absl::SleepFor(absl::Milliseconds(50));
  }
  child.join();
  EXPECT_EQ(exit.code(), 124) << "timeout did not end the loop";
  const absl::Duration cpu =
      absl::Seconds(exit.usage().user_cpu().seconds() +
                    exit.usage().system_cpu().seconds()) +
      absl::Nanoseconds(exit.usage().user_cpu().nanos() +
                        exit.usage().system_cpu().nanos());
  const absl::Duration wall = absl::Seconds(exit.wall_time().seconds()) +
                              absl::Nanoseconds(exit.wall_time().nanos());
  EXPECT_GE(wall, absl::Seconds(2));
  // A tenth of the wall time, with room for the periods' edges.
  EXPECT_LE(cpu, wall * 0.3) << "cpu " << cpu << " in " << wall;
  EXPECT_GE(cpu, absl::Milliseconds(50)) << "the child did not compute";
  // About 20 periods in 2 s, each throttled; at a full core (measured in
  // the test VM) 4 of them are.
  EXPECT_GE(throttled, 10) << "the cgroup's cpu.stat shows too little "
                              "throttling for a tenth of a core";
}

TEST_F(CgroupTest, MaxRssComesFromTheCgroupWhereItCan) {
  if (auto why = Lacks("memory")) GTEST_SKIP() << *why;
  v1::ExitStatus big =
      ExitOf(*server_, {"/usr/bin/python3", "-c", "b = b'x' * (200 << 20)"});
  EXPECT_GE(big.usage().max_rss_bytes(), int64_t{200} << 20);
  EXPECT_LE(big.usage().max_rss_bytes(), int64_t{260} << 20);
  v1::ExitStatus small = ExitOf(*server_, {"true"});
  EXPECT_LE(small.usage().max_rss_bytes(), int64_t{8} << 20);
}

// ---- without a cgroup root -------------------------------------------------

class NoCgroupTest : public RexecdTest {};

TEST_F(NoCgroupTest, MaxRssIsTheChildsOwnOrNotKnown) {
  v1::ExitStatus big =
      ExitOf(*server_, {"/usr/bin/python3", "-c", "b = b'x' * (200 << 20)"});
  EXPECT_GE(big.usage().max_rss_bytes(), int64_t{200} << 20);
  EXPECT_LE(big.usage().max_rss_bytes(), int64_t{260} << 20);
  // rusage's peak of a small child is the launcher's (exec carries it
  // over), not the child's: reported as not known.
  v1::ExitStatus small = ExitOf(*server_, {"true"});
  EXPECT_EQ(small.usage().max_rss_bytes(), 0)
      << "a small child reports the launcher's peak as its own";
}

TEST_F(NoCgroupTest, WithoutACgroupASetsidDescendantEscapesTheStop) {
  // What --cgroup-root is for: this is the gap the cgroup test closes.
  CliResult r = RunRexec({"--server", server_->address(), "spawn", "--timeout",
                          "1s", "--kill-grace", "1s", "--", "sh", "-c",
                          "setsid sleep 3305 & sleep 3306"});
  EXPECT_EQ(r.code, 128 + SIGTERM) << r.err;
  EXPECT_TRUE(Eventually([] { return ProcessesWithArg("3306").empty(); }));
  std::vector<pid_t> escaped = ProcessesWithArg("3305");
  EXPECT_EQ(escaped.size(), 1u);
  for (pid_t pid : escaped) kill(pid, SIGKILL);
}

}  // namespace
}  // namespace rexec::testing
