// rexecd killed with SIGKILL (kill -9, or the OOM killer, which picks the
// biggest process: rexecd itself rather than the keeper of its namespace)
// while it runs a Spawn, an Exec, a Fork, a detached session, a PTY session
// and a PID-namespace child, whose descendants left their process group
// (setsid, setpgid, a double fork): nothing of them is left, with or without
// --cgroup-root; and a rexecd started again serves the first call of each
// identity. The same when its launcher is killed.
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/cgroup_dir.h"
#include "tests/e2e/rexecd_process.h"
#include "tests/test_paths.h"

namespace rexec::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kPolicy[] = R"({"rules": [
  {"name": "a", "identities": ["A"],
   "rpcs": ["Spawn", "Exec", "Fork", "List", "Attach", "Kill"],
   "programs": ["/*"], "shells": ["/*"], "runtimes": ["/*"]},
  {"name": "c", "identities": ["C"], "rpcs": ["Spawn"], "programs": ["/*"],
   "isolation": "PID_NAMESPACE"}
]})";

// Each sleeps for a number of its own, as an argument of its own: how a
// process listing finds what is left.
const std::vector<std::string> kMarks = {"4401", "4402", "4403", "4404",
                                         "4405", "4406", "4407", "4408",
                                         "4409", "4410", "4411"};

// A shell whose descendants leave its process group three ways.
std::string Escapees(const std::string& a, const std::string& b,
                     const std::string& c) {
  return absl::StrCat("setsid sleep ", a,
                      " & /usr/bin/python3 -c 'import os, time; "
                      "os.setpgid(0, 0); time.sleep(600)' ",
                      b, " & (sleep ", c, " &); sleep 600");
}

// The marks some process other than `clients` (whose own arguments may
// hold them) has.
std::vector<std::string> Left(const std::vector<process::Child>& clients = {},
                              const std::vector<std::string>& marks = kMarks) {
  std::vector<std::string> left;
  for (const std::string& mark : marks) {
    for (pid_t pid : ProcessesWithArg(mark)) {
      if (std::none_of(
              clients.begin(), clients.end(),
              [&](const process::Child& c) { return c.pid() == pid; })) {
        left.push_back(mark);
        break;
      }
    }
  }
  return left;
}

enum class Victim { kKeeper, kRexecd, kLauncher };

std::string VictimName(Victim victim) {
  switch (victim) {
    case Victim::kKeeper:
      return "TheProcessStarted";
    case Victim::kRexecd:
      return "Rexecd";
    case Victim::kLauncher:
      return "TheLauncher";
  }
  return "";
}

// The launcher: rexecd's child named rexecd-launch.
pid_t LauncherOf(pid_t server) {
  for (pid_t pid : ProcessesWithArg(RexecdPath())) {
    std::string stat;
    std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
    std::getline(in, stat);
    const size_t close = stat.rfind(')');
    int ppid = 0;
    if (stat.find("(rexecd-launch)") != std::string::npos &&
        close != std::string::npos &&
        sscanf(stat.c_str() + close + 2, "%*c %d", &ppid) == 1 &&
        ppid == server) {
      return pid;
    }
  }
  return -1;
}

class CrashTest : public ::testing::TestWithParam<std::tuple<bool, Victim>> {
 protected:
  void SetUp() override {
    if (std::get<0>(GetParam())) {
      CgroupDir dir = MakeCgroupDir();
      if (dir.path.empty()) GTEST_SKIP() << "cannot run: " << dir.why_not;
      root_ = dir.path;
    }
    ASSERT_TRUE(Left().empty()) << "processes of another run are left";
    tokens_ =
        dir_.Write("tokens", absl::StrCat("A ", Sha256Hex("token-A"), "\nC ",
                                          Sha256Hex("token-C"), "\n"));
    token_["A"] = dir_.Write("A.token", "token-A\n");
    token_["C"] = dir_.Write("C.token", "token-C\n");
    policy_ = dir_.Write("policy.json", kPolicy);
    server_ = Start();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override {
    for (process::Child& cli : clients_) {
      if (!cli.reaped()) {
        cli.SignalGroup(SIGKILL).IgnoreError();
        cli.Wait().IgnoreError();
      }
    }
    if (server_ != nullptr) server_->Terminate();
    // What a failure left must not fail the next test too.
    for (const std::string& mark : kMarks) {
      for (pid_t pid : ProcessesWithArg(mark)) kill(pid, SIGKILL);
    }
    if (!root_.empty()) RemoveCgroupDir(root_);
  }

  std::unique_ptr<RexecdProcess> Start() {
    std::vector<std::string> flags = {"--token-file", tokens_, "--policy",
                                      policy_};
    if (!root_.empty()) flags.insert(flags.end(), {"--cgroup-root", root_});
    return RexecdProcess::Start(flags);
  }

  // The CLI as `who`, left running.
  void Run(const std::string& who, std::vector<std::string> args) {
    process::SpawnOptions options;
    options.argv = {RexecPath(), "--server", server_->address(), "--token-file",
                    token_[who]};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    absl::StatusOr<process::Child> cli = process::Child::Spawn(options);
    ASSERT_TRUE(cli.ok()) << cli.status();
    clients_.push_back(*std::move(cli));
  }

  TempDir dir_;
  std::string root_, tokens_, policy_;
  std::map<std::string, std::string> token_;
  std::unique_ptr<RexecdProcess> server_;
  std::vector<process::Child> clients_;
};

TEST_P(CrashTest, NothingItStartedIsLeftAndTheNextServesEachIdentity) {
  Run("A", {"spawn", "--", "sh", "-c", Escapees("4401", "4402", "4403")});
  Run("A", {"exec", "sleep 4404 & sleep 4405"});
  Run("A", {"fork", "--", ForkScriptsDir() + "/child.js", "echo", "4406"});
  CliResult detached = RunRexec({"--server", server_->address(), "--token-file",
                                 token_["A"], "spawn", "--detach", "--", "sh",
                                 "-c", Escapees("4407", "4408", "4409")});
  ASSERT_EQ(detached.code, 0) << detached.err;
  Run("A", {"spawn", "--tty", "--", "sleep", "4410"});
  Run("C", {"spawn", "--", "sleep", "4411"});
  ASSERT_TRUE(Eventually([&] {
    return Left(clients_).size() == kMarks.size();
  })) << "started: "
      << absl::StrJoin(Left(clients_), ", ");

  const Victim victim = std::get<1>(GetParam());
  const pid_t pid = victim == Victim::kKeeper ? server_->pid()
                    : victim == Victim::kRexecd
                        ? server_->server_pid()
                        : LauncherOf(server_->server_pid());
  ASSERT_GT(pid, 0);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  server_->WaitForExit();
  // The kernel ends them, not a cleanup: at once, bounded for a slow host.
  EXPECT_TRUE(
      Eventually([&] { return Left(clients_).empty(); }, absl::Seconds(10)))
      << "left running: " << absl::StrJoin(Left(clients_), ", ");
  for (process::Child& cli : clients_) {
    EXPECT_TRUE(Eventually([&] {
      absl::StatusOr<std::optional<process::ExitStatus>> exit = cli.TryReap();
      return !exit.ok() || exit->has_value();
    })) << "a client did not see its server go";
  }

  server_ = Start();
  ASSERT_NE(server_, nullptr);
  for (const std::string who : {"A", "C"}) {
    CliResult first = RunRexec({"--server", server_->address(), "--token-file",
                                token_[who], "spawn", "--", "echo", "first"});
    EXPECT_EQ(first.code, 0) << who << ": " << first.err;
    EXPECT_EQ(first.out, "first\n") << who;
  }
}

// A signal to rexecd's whole process group (a terminal's Ctrl-C, a systemd
// stop, pkill) reaches both rexecd and the keeper of its namespace, which
// forwards it: rexecd heeds it once, where a second SIGTERM would stop every
// call at once.
TEST(Keeper, ASignalToTheWholeProcessGroupIsHeededOnce) {
  auto server = RexecdProcess::Start({"--shutdown-grace", "20s"});
  ASSERT_NE(server, nullptr);
  ASSERT_NE(server->server_pid(), server->pid()) << "no namespace of its own";
  const pid_t group = getpgid(server->pid());
  ASSERT_EQ(getpgid(server->server_pid()), group);
  ASSERT_NE(group, getpgrp());
  process::SpawnOptions options;
  options.argv = {RexecPath(), "--server", server->address(), "spawn", "--",
                  "sleep",     "4412"};
  absl::StatusOr<process::Child> cli = process::Child::Spawn(options);
  ASSERT_TRUE(cli.ok()) << cli.status();
  std::vector<process::Child> clients;
  clients.push_back(*std::move(cli));
  const auto running = [&] { return !Left(clients, {"4412"}).empty(); };
  ASSERT_TRUE(Eventually(running));

  ASSERT_EQ(kill(-group, SIGTERM), 0);
  server->WaitForLogLine("draining");
  // Time for a second copy to arrive, if one were heeded.
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_THAT(server->Log(), ::testing::Not(HasSubstr("again")));
  EXPECT_TRUE(running())
      << "the call was stopped at once, as by a second SIGTERM:\n"
      << server->Log();
  // The keeper forwards what only it gets: the second stops the call.
  ASSERT_EQ(kill(server->pid(), SIGTERM), 0);
  EXPECT_THAT(server->WaitForLogLine("again"), HasSubstr("SIGTERM again"));
  EXPECT_TRUE(Eventually([&] { return !running(); }));
  EXPECT_EQ(server->WaitForExit().ToString(), "exited with code 0");
  clients[0].SignalGroup(SIGKILL).IgnoreError();
  clients[0].Wait().IgnoreError();
}

// rexecd's namespace has a /proc of its own, and nothing else of the
// host's mounts changes: what a root child mounts on a shared mount reaches
// the host, as without the namespace (an administrator's mount over rexec).
TEST(Namespace, OnlyProcIsItsOwnAndAChildsMountReachesTheHost) {
  TempDir dir;
  const std::string shared = dir.path() + "/shared";
  ASSERT_EQ(mkdir(shared.c_str(), 0755), 0);
  ASSERT_EQ(mount(shared.c_str(), shared.c_str(), nullptr, MS_BIND, nullptr),
            0);
  absl::Cleanup unbind = [&] { umount2(shared.c_str(), MNT_DETACH); };
  ASSERT_EQ(mount(nullptr, shared.c_str(), nullptr, MS_SHARED, nullptr), 0);
  ASSERT_EQ(mkdir((shared + "/sub").c_str(), 0755), 0);

  auto server = RexecdProcess::Start();
  ASSERT_NE(server, nullptr);
  ASSERT_NE(server->server_pid(), server->pid()) << "no namespace of its own";
  CliResult r = RunRexec({"--server", server->address(), "exec",
                          "mount -t tmpfs rexec-test-tmpfs " + shared +
                              "/sub && tr '\\0' ' ' < /proc/1/cmdline"});
  absl::Cleanup unmount = [&] {
    umount2((shared + "/sub").c_str(), MNT_DETACH);
  };
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(RexecdPath())) << "PID 1 there is not rexecd";
  std::ifstream mounts("/proc/self/mountinfo");
  std::string text((std::istreambuf_iterator<char>(mounts)), {});
  EXPECT_THAT(text, HasSubstr(shared + "/sub "))
      << "the child's mount did not reach the host";
  // The host's /proc is the host's.
  std::ifstream self("/proc/self/status");
  std::string status((std::istreambuf_iterator<char>(self)), {});
  EXPECT_THAT(status, HasSubstr(absl::StrCat("\nPid:\t", getpid(), "\n")));
}

// In a mount namespace whose /proc has masks (as a container's: /dev/null
// on /proc/timer_list), a /proc of rexecd's own would undo them: rexecd
// stays in the namespace it was started in and says why, and its children
// meet the masks; --pid-namespace own refuses to start.
TEST(Namespace, MasksOnProcKeepRexecdOutOfANamespaceOfItsOwn) {
  const std::vector<std::string> masked = {
      "unshare",
      "-m",
      "--propagation",
      "private",
      "sh",
      "-c",
      "mount --bind /dev/null /proc/timer_list && exec \"$0\" \"$@\""};
  auto server = RexecdProcess::Start({}, {}, masked);
  ASSERT_NE(server, nullptr);
  EXPECT_THAT(server->Log(),
              HasSubstr("no PID namespace of its own (its /proc has a mount "
                        "on /proc/timer_list"));
  EXPECT_EQ(server->server_pid(), server->pid());
  CliResult r = RunRexec(
      {"--server", server->address(), "exec", "wc -c < /proc/timer_list"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "0\n") << "the mask on /proc/timer_list was undone";

  std::vector<std::string> own = masked;
  own.insert(own.end(), {RexecdPath(), "--pid-namespace", "own", "--listen",
                         "127.0.0.1:0", "--insecure"});
  Result refused = RunProgram(own);
  EXPECT_EQ(refused.status.ToString(), "exited with code 1");
  EXPECT_THAT(refused.err,
              HasSubstr("--pid-namespace=own: its /proc has a mount on "
                        "/proc/timer_list"));
}

INSTANTIATE_TEST_SUITE_P(
    Killed, CrashTest,
    ::testing::Combine(::testing::Bool(),
                       ::testing::Values(Victim::kKeeper, Victim::kRexecd,
                                         Victim::kLauncher)),
    [](const ::testing::TestParamInfo<std::tuple<bool, Victim>>& info) {
      return absl::StrCat(
          VictimName(std::get<1>(info.param)),
          std::get<0>(info.param) ? "WithACgroupRoot" : "WithoutACgroupRoot");
    });

}  // namespace
}  // namespace rexec::testing
