#include "server/process/child.h"

#include <dirent.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/signal_name.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/child_io.h"
#include "tests/test_paths.h"

namespace rexec::process {
namespace {

using ::rexec::testing::Result;
using ::rexec::testing::RunChild;
using ::testing::HasSubstr;
using ::testing::StartsWith;

Child SpawnHelper(std::vector<std::string> args, SpawnOptions options = {}) {
  options.argv = {testing::HelperPath()};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  absl::StatusOr<Child> child = Child::Spawn(options);
  EXPECT_TRUE(child.ok()) << child.status();
  return std::move(*child);
}

std::set<std::string> OpenFds() {
  std::set<std::string> fds;
  DIR* dir = opendir("/proc/self/fd");
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.' && std::atoi(e->d_name) != dirfd(dir))
      fds.insert(e->d_name);
  }
  closedir(dir);
  return fds;
}

TEST(Child, PipesStdinThroughToStdout) {
  Child child = SpawnHelper({"echo"});
  std::string input(1 << 20, '\0');
  for (size_t i = 0; i < input.size(); ++i)
    input[i] = static_cast<char>(i * 31 + 7);
  Result r = RunChild(child, input);
  EXPECT_EQ(r.out, input);
  EXPECT_TRUE(r.status.exited());
  EXPECT_EQ(r.status.code(), 0);
}

TEST(Child, KeepsStdoutAndStderrApart) {
  Child child = SpawnHelper({"stderr", "to-err"});
  Result r = RunChild(child);
  EXPECT_EQ(r.out, "out");
  EXPECT_EQ(r.err, "to-err");
}

TEST(Child, ReportsExitCodes) {
  for (int code : {0, 1, 42, 255}) {
    Child child = SpawnHelper({"exit", std::to_string(code)});
    Result r = RunChild(child);
    EXPECT_TRUE(r.status.exited());
    EXPECT_EQ(r.status.code(), code);
  }
}

TEST(Child, ReportsDeathBySignal) {
  Child child = SpawnHelper({"kill", std::to_string(SIGKILL)});
  Result r = RunChild(child);
  EXPECT_TRUE(r.status.killed());
  EXPECT_EQ(r.status.signal_number(), SIGKILL);
  EXPECT_EQ(r.status.ToString(), "killed by SIGKILL");
}

TEST(Child, SignalGroupReachesTheChild) {
  Child child = SpawnHelper({"echo"});
  ASSERT_TRUE(child.SignalGroup(SIGTERM).ok());
  Result r = RunChild(child);
  EXPECT_TRUE(r.status.killed());
  EXPECT_EQ(r.status.signal_number(), SIGTERM);
}

TEST(Child, LeadsItsOwnProcessGroup) {
  Child child = SpawnHelper({"pgid"});
  Result r = RunChild(child);
  EXPECT_EQ(r.out,
            std::to_string(child.pid()) + " " + std::to_string(child.pid()));
}

TEST(Child, LeadsANewSessionAndHasTheUmaskAskedFor) {
  const mode_t ours = umask(022);
  umask(ours);
  Child plain = SpawnHelper({"ids"});
  const std::string pid = std::to_string(plain.pid());
  char mask[8];
  std::snprintf(mask, sizeof mask, "%o", ours);
  // Without the options: our session and our umask.
  EXPECT_EQ(RunChild(plain).out,
            absl::StrCat(pid, " ", pid, " ", getsid(0), " ", mask));

  SpawnOptions options;
  options.new_session = true;
  options.umask = 0077;
  Child child = SpawnHelper({"ids"}, options);
  const std::string id = std::to_string(child.pid());
  EXPECT_EQ(RunChild(child).out, absl::StrCat(id, " ", id, " ", id, " 77"));

  options.umask = 01000;
  options.argv = {testing::HelperPath()};
  EXPECT_EQ(Child::Spawn(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Child, StartsWithClearSignalMaskAndDefaultDispositions) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  auto old_handler = signal(SIGINT, SIG_IGN);
  Child child = SpawnHelper({"sigmask"});
  signal(SIGINT, old_handler);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  EXPECT_EQ(RunChild(child).out, "clear");
}

TEST(Child, GetsOnlyStandardFdsAndLeaksNoneInTheParent) {
  std::set<std::string> before = OpenFds();
  {
    Child child = SpawnHelper({"fds"});
    EXPECT_EQ(RunChild(child).out, "0\n1\n2\n");
  }
  EXPECT_EQ(OpenFds(), before);
}

TEST(Child, SeesEnvironmentOverridesAndClearEnv) {
  SpawnOptions options;
  options.env = {{"REXEC_TEST_VAR", "v1"}, {"REXEC_TEST_VAR", "v2"}};
  Child child = SpawnHelper({"env", "REXEC_TEST_VAR"}, options);
  EXPECT_EQ(RunChild(child).out, "v2");

  setenv("REXEC_INHERITED", "yes", 1);
  Child inherits = SpawnHelper({"env", "REXEC_INHERITED"});
  EXPECT_EQ(RunChild(inherits).out, "yes");
  options = {};
  options.clear_env = true;
  Child cleared = SpawnHelper({"env", "REXEC_INHERITED"}, options);
  EXPECT_EQ(RunChild(cleared).out, "<unset>");
}

TEST(Child, RunsInTheGivenCwd) {
  SpawnOptions options;
  options.cwd = "/tmp";
  Child child = SpawnHelper({"cwd"}, options);
  EXPECT_EQ(RunChild(child).out, "/tmp");
}

TEST(Child, LooksProgramUpInTheChildsPath) {
  SpawnOptions options;
  options.argv = {"child_helper", "exit", "7"};
  options.env = {{"PATH", "/nonexistent:" + testing::BinDir() + "/tests"}};
  absl::StatusOr<Child> child = Child::Spawn(options);
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ(RunChild(*child).status.code(), 7);
}

TEST(Child, MissingProgramIsNotFound) {
  SpawnOptions options;
  options.argv = {"rexec-no-such-program"};
  absl::StatusOr<Child> child = Child::Spawn(options);
  EXPECT_EQ(child.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(child.status().message(),
            "spawn rexec-no-such-program: not found in PATH (ENOENT)");

  options.argv = {"/no/such/file"};
  absl::StatusOr<Child> by_path = Child::Spawn(options);
  EXPECT_EQ(by_path.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(by_path.status().message(),
            "spawn /no/such/file: No such file or directory (ENOENT)");
}

TEST(Child, AnEndlessPathIsRefusedBeforeItIsSearched) {
  SpawnOptions options;
  options.argv = {"rexec-no-such-program"};
  std::string path = "/nonexistent";
  for (int i = 0; i < 5000; ++i) path += ":/nonexistent";
  options.env = {{"PATH", path}};
  absl::StatusOr<Child> child = Child::Spawn(options);
  EXPECT_EQ(child.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(child.status().message(),
            "spawn rexec-no-such-program: PATH has 5001 entries, more than "
            "1024");
}

TEST(Child, MissingCwdIsNotFound) {
  SpawnOptions options;
  options.argv = {"true"};
  options.cwd = "/no/such/dir";
  absl::StatusOr<Child> child = Child::Spawn(options);
  EXPECT_EQ(child.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(child.status().message()),
              HasSubstr("cwd /no/such/dir"));
}

TEST(Child, NonExecutableIsPermissionDenied) {
  char path[] = "/tmp/rexec-noexec-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  SpawnOptions options;
  options.argv = {path};
  absl::StatusOr<Child> child = Child::Spawn(options);
  EXPECT_EQ(child.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(child.status().message()), HasSubstr("(EACCES)"));
  unlink(path);
}

TEST(Child, RejectsBadArguments) {
  SpawnOptions options;
  EXPECT_EQ(Child::Spawn(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.argv = {"echo", std::string("a\0b", 3)};
  EXPECT_EQ(Child::Spawn(options).status().message(),
            "argv[1] contains a NUL byte");
  options.argv = {"echo"};
  options.env = {{"A=B", "x"}};
  EXPECT_THAT(std::string(Child::Spawn(options).status().message()),
              StartsWith("env name \"A=B\""));
}

TEST(Child, LimitsAndNoNewPrivsReachTheChild) {
  SpawnOptions options;
  options.argv = {"sh", "-c", "grep NoNewPrivs /proc/self/status; ulimit -n"};
  options.containment.limits = {{RLIMIT_NOFILE, 33, 33}};
  options.containment.no_new_privs = true;
  absl::StatusOr<Child> child = Child::Spawn(options);
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ(RunChild(*child).out, "NoNewPrivs:\t1\n33\n");
}

TEST(Child, AFailedLaunchStepIsNamedWithItsErrno) {
  SpawnOptions options;
  options.argv = {"true"};
  options.containment.limits = {{RLIMIT_NOFILE, 10, 5}};  // soft over hard
  absl::StatusOr<Child> child = Child::Spawn(options);
  EXPECT_EQ(child.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(child.status().message(),
            "spawn true: setrlimit: Invalid argument (EINVAL)");
}

TEST(Child, InAPidNamespaceTheProgramsOwnEndIsReported) {
  if (getuid() != 0) GTEST_SKIP() << "not root: cannot make a PID namespace";
  SpawnOptions options;
  options.argv = {"sh", "-c",
                  absl::StrCat("echo $$; cat /proc/1/comm; [ -e /proc/",
                               getpid(), " ] || echo hidden; exit 7")};
  options.containment.pid_namespace = true;
  absl::StatusOr<Child> child = Child::Spawn(options);
  ASSERT_TRUE(child.ok()) << child.status();
  Result r = RunChild(*child);
  // PID 2 under our init, and this process out of sight.
  EXPECT_EQ(r.out, "2\nrexec-init\nhidden\n");
  EXPECT_EQ(r.status.ToString(), "exited with code 7");

  options.argv = {"sh", "-c", "kill -USR1 $$"};
  absl::StatusOr<Child> killed = Child::Spawn(options);
  ASSERT_TRUE(killed.ok()) << killed.status();
  EXPECT_EQ(RunChild(*killed).status.ToString(), "killed by SIGUSR1");
}

// Reads a terminal's master until the child's side is closed (EIO), at
// most 10 s.
std::string ReadTerminal(Child& child) {
  std::string out;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    pollfd ready{child.terminal().Get(), POLLIN, 0};
    if (poll(&ready, 1, 100) <= 0) continue;
    char buffer[4096];
    const ssize_t n = read(child.terminal().Get(), buffer, sizeof buffer);
    if (n <= 0) break;
    out.append(buffer, n);
  }
  return out;
}

TEST(Child, StdioIsMadePerFd) {
  SpawnOptions options;
  options.argv = {"sh", "-c",
                  "readlink /proc/$$/fd/0; readlink /proc/$$/fd/3 | cut -c1-7;"
                  " echo over-the-socket >&3"};
  options.stdio = {{0, StdioKind::kNull},
                   {1, StdioKind::kPipe},
                   {2, StdioKind::kPipe},
                   {3, StdioKind::kSocket}};
  absl::StatusOr<Child> child = Child::Spawn(options);
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_FALSE(child->stdin_fd().Valid());  // /dev/null is all the child's
  EXPECT_FALSE(child->terminal().Valid());
  ASSERT_TRUE(child->end(3).Valid());
  Result r = RunChild(*child);
  EXPECT_EQ(r.out, "/dev/null\nsocket:\n");
  char buffer[64] = {};
  pollfd ready{child->end(3).Get(), POLLIN, 0};
  ASSERT_EQ(poll(&ready, 1, 5000), 1);
  EXPECT_EQ(std::string(buffer, read(child->end(3).Get(), buffer, 63)),
            "over-the-socket\n");
}

TEST(Child, ATerminalIsTheControllingOneOfANewSession) {
  SpawnOptions options;
  options.argv = {"sh", "-c",
                  "tty; stty size; echo $TERM; ps -o sid= -o tpgid= -p $$"};
  options.env = {{"TERM", "overridden-by-the-terminal"}};
  options.stdio = TerminalStdio();
  options.terminal = TerminalOptions{"vt100", {7, 33}};
  absl::StatusOr<Child> child = Child::Spawn(options);
  ASSERT_TRUE(child.ok()) << child.status();
  ASSERT_TRUE(child->terminal().Valid());
  const std::string out = ReadTerminal(*child);
  EXPECT_THAT(out, StartsWith("/dev/pts/"));
  EXPECT_THAT(out, HasSubstr("\r\n7 33\r\nvt100\r\n"));
  const std::string pid = std::to_string(child->pid());
  // Its session and the terminal's foreground group are its own.
  EXPECT_THAT(out, ::testing::ContainsRegex(" *" + pid + " +" + pid));
  EXPECT_EQ(child->Wait()->code(), 0);
}

TEST(Child, InAPidNamespaceTheProgramKeepsItsTerminal) {
  if (getuid() != 0) GTEST_SKIP() << "not root: cannot make a PID namespace";
  SpawnOptions options;
  options.argv = {"sh", "-c", "tty && stty size"};
  options.stdio = TerminalStdio();
  options.terminal = TerminalOptions{"xterm", {12, 34}};
  options.containment.pid_namespace = true;
  absl::StatusOr<Child> child = Child::Spawn(options);
  ASSERT_TRUE(child.ok()) << child.status();
  const std::string out = ReadTerminal(*child);
  EXPECT_THAT(out, StartsWith("/dev/pts/"));
  EXPECT_THAT(out, HasSubstr("12 34"));
  EXPECT_EQ(child->Wait()->code(), 0);
}

TEST(Child, BadStdioIsRefused) {
  SpawnOptions options;
  options.argv = {"true"};
  options.stdio = {{4, StdioKind::kPipe}};
  EXPECT_THAT(Child::Spawn(options).status().message(),
              HasSubstr("stdio fd 4 is out of range"));
  options.stdio = {{1, StdioKind::kPipe}, {1, StdioKind::kNull}};
  EXPECT_THAT(Child::Spawn(options).status().message(),
              HasSubstr("given twice"));
  options.stdio = TerminalStdio();
  EXPECT_EQ(Child::Spawn(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.stdio = {};
  options.terminal = TerminalOptions{"xterm", {}};
  EXPECT_EQ(Child::Spawn(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Child, DestroyingAnUnreapedChildKillsAndReapsIt) {
  pid_t pid;
  {
    Child child = SpawnHelper({"echo"});
    pid = child.pid();
  }
  // Reaped: the pid is no child of ours any more.
  EXPECT_EQ(waitpid(pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(SignalName, ParsesWithAndWithoutPrefix) {
  EXPECT_EQ(*ParseSignal("SIGINT"), SIGINT);
  EXPECT_EQ(*ParseSignal("int"), SIGINT);
  EXPECT_EQ(*ParseSignal("KILL"), SIGKILL);
  EXPECT_EQ(ParseSignal("SIGNOPE").status().message(),
            "unknown signal name \"SIGNOPE\"");
  EXPECT_EQ(ParseSignal("").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SignalName(SIGSEGV), "SIGSEGV");
}

TEST(SignalName, RealtimeSignalsRoundTrip) {
  for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) {
    EXPECT_EQ(*ParseSignal(SignalName(sig)), sig) << SignalName(sig);
  }
  EXPECT_EQ(*ParseSignal("SIGRTMIN"), SIGRTMIN);
  EXPECT_EQ(*ParseSignal("rtmin+2"), SIGRTMIN + 2);
  EXPECT_EQ(*ParseSignal("SIGRTMAX-1"), SIGRTMAX - 1);
  // Not the C library's own two below SIGRTMIN, nor past the range.
  for (const char* name :
       {"SIG32", "SIG33", "SIG0", "SIG99", "SIGRTMAX+1", "SIGRTMIN-1",
        "SIGRTMIN+", "SIG+34", "SIG 34", "SIGRTMIN+x"}) {
    EXPECT_FALSE(ParseSignal(name).ok()) << name;
  }
}

}  // namespace
}  // namespace rexec::process
