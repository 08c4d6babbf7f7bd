// `rexec spawn` at a real terminal, driven as a person would drive it: the
// CLI runs on a pseudo-terminal of the test's own (a new session whose
// controlling terminal it is), we type into it, resize it, and read the
// screen. Checks what ssh -t gives: a remote terminal of our size that
// follows resizes, job control and Ctrl-C, a full-screen program, the
// remote exit code, and our terminal's settings put back on every way out.
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/process/child.h"
#include "server/process/pty.h"
#include "tests/child_io.h"
#include "tests/e2e/rexecd_process.h"
#include "tests/test_paths.h"

namespace rexec::testing {
namespace {

using ::testing::HasSubstr;

// A terminal's settings, comparable.
std::string Settings(int fd) {
  termios t{};
  EXPECT_EQ(tcgetattr(fd, &t), 0);
  return std::string(reinterpret_cast<const char*>(&t.c_iflag), sizeof t.c_iflag) +
         std::string(reinterpret_cast<const char*>(&t.c_oflag), sizeof t.c_oflag) +
         std::string(reinterpret_cast<const char*>(&t.c_cflag), sizeof t.c_cflag) +
         std::string(reinterpret_cast<const char*>(&t.c_lflag), sizeof t.c_lflag) +
         std::string(reinterpret_cast<const char*>(t.c_cc), sizeof t.c_cc);
}

// What a new terminal starts with: what the CLI's must be again after it.
std::string FreshSettings() {
  absl::StatusOr<process::PtyPair> pty = process::OpenPty({});
  EXPECT_TRUE(pty.ok()) << pty.status();
  return pty.ok() ? Settings(pty->master.Get()) : "";
}

bool Raw(int fd) {
  termios t{};
  return tcgetattr(fd, &t) == 0 && (t.c_lflag & (ICANON | ECHO | ISIG)) == 0;
}

class TerminalCliTest : public RexecdTest {
 protected:
  // `rexec --server ADDRESS ARGS` on a 30x100 terminal of its own.
  void Start(std::vector<std::string> args) {
    process::SpawnOptions options;
    options.argv = {RexecPath(), "--server", server_->address()};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.stdio = process::TerminalStdio();
    options.terminal = process::TerminalOptions{"xterm", {30, 100}};
    absl::StatusOr<process::Child> child = process::Child::Spawn(options);
    ASSERT_TRUE(child.ok()) << child.status();
    cli_.emplace(std::move(*child));
    screen_.clear();
    mark_ = 0;
  }
  int terminal() { return cli_->terminal().Get(); }

  void Type(const std::string& keys) {
    ASSERT_EQ(write(terminal(), keys.data(), keys.size()),
              static_cast<ssize_t>(keys.size()));
  }

  // Reads the screen until `needle` appears after what was waited for
  // before; false (and the test fails) if it does not within `timeout`.
  bool WaitFor(const std::string& needle,
               absl::Duration timeout = absl::Seconds(20),
               bool fail = true) {
    const absl::Time deadline = absl::Now() + timeout;
    for (;;) {
      if (size_t at = screen_.find(needle, mark_); at != std::string::npos) {
        mark_ = at + needle.size();
        return true;
      }
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) break;
      pollfd ready{terminal(), POLLIN, 0};
      if (poll(&ready, 1, std::max<int>(1, absl::ToInt64Milliseconds(left))) <=
          0) {
        continue;
      }
      char buffer[4096];
      const ssize_t n = read(terminal(), buffer, sizeof buffer);
      if (n <= 0) break;  // EIO: the CLI and everything on it ended
      screen_.append(buffer, n);
    }
    if (fail) {
      ADD_FAILURE() << "no \"" << needle << "\" on the screen, which has:\n"
                    << screen_.substr(mark_);
    }
    return false;
  }

  // The CLI's exit, once it ended (bounded: the call's own end).
  process::ExitStatus Exit() {
    WaitFor("\x01never\x01", absl::Seconds(20), /*fail=*/false);
    absl::StatusOr<process::ExitStatus> status = cli_->Wait();
    EXPECT_TRUE(status.ok());
    return status.ok() ? *status : process::ExitStatus::Exited(-1);
  }

  // Types `stty size` until the remote shell reports `size` (a resize and
  // what is typed travel apart, so the first may come before the second).
  bool RemoteSizeBecomes(const std::string& size) {
    for (int i = 0; i < 20; ++i) {
      Type("stty size\r");
      if (WaitFor(size, absl::Milliseconds(500), /*fail=*/false)) return true;
    }
    ADD_FAILURE() << "the remote size never became " << size << ":\n"
                  << screen_.substr(mark_);
    return false;
  }

  std::optional<process::Child> cli_;
  std::string screen_;
  size_t mark_ = 0;
};

constexpr char kBash[] = "bash";

std::vector<std::string> BashSession(std::vector<std::string> flags = {}) {
  std::vector<std::string> args = {"spawn", "--env", "PS1=PROMPT> ",
                                   "--env", "HOME=/nonexistent"};
  args.insert(args.end(), flags.begin(), flags.end());
  args.insert(args.end(), {"--", kBash, "--norc", "--noprofile"});
  return args;
}

TEST_F(TerminalCliTest, ABashSessionFeelsLikeSshT) {
  const std::string fresh = FreshSettings();
  // No -t: at a terminal, bash gets one by default.
  Start(BashSession());
  ASSERT_TRUE(WaitFor("PROMPT> "));
  EXPECT_TRUE(Raw(terminal())) << "the local terminal is not in raw mode";
  // No "no job control in this shell": it has a controlling terminal.
  EXPECT_THAT(screen_, ::testing::Not(HasSubstr("job control")));

  Type("tty\r");
  ASSERT_TRUE(WaitFor("/dev/pts/"));
  ASSERT_TRUE(WaitFor("PROMPT> "));
  Type("stty size\r");
  ASSERT_TRUE(WaitFor("30 100"));
  ASSERT_TRUE(WaitFor("PROMPT> "));

  // Our window changes: the CLI gets SIGWINCH and passes the size on.
  process::SetWindowSize(terminal(), {44, 120}).IgnoreError();
  ASSERT_TRUE(RemoteSizeBecomes("44 120"));
  ASSERT_TRUE(WaitFor("PROMPT> "));

  // Job control, and Ctrl-C as a key: the foreground job dies, bash stays.
  Type("sleep 7106 &\r");
  ASSERT_TRUE(WaitFor("PROMPT> "));
  Type("fg\r");
  ASSERT_TRUE(WaitFor("sleep 7106\r\n"));
  // fg prints the command line before its tcsetpgrp.
  ASSERT_TRUE(Eventually([] { return InTheForeground("7106"); }));
  Type("\x03");
  ASSERT_TRUE(WaitFor("PROMPT> "));
  Type("echo rc=$?\r");
  ASSERT_TRUE(WaitFor("rc=130"));
  ASSERT_TRUE(WaitFor("PROMPT> "));

  // A full-screen program: drawn on the alternate screen, and quit.
  Type("seq 1 500 | less\r");
  ASSERT_TRUE(WaitFor("\x1b[?1049h"));
  ASSERT_TRUE(WaitFor("43"));  // the last line of a 44-row screen's page
  Type("q");
  ASSERT_TRUE(WaitFor("\x1b[?1049l"));
  ASSERT_TRUE(WaitFor("PROMPT> "));

  Type("exit 3\r");
  process::ExitStatus exit = Exit();
  EXPECT_EQ(exit.ToString(), "exited with code 3");
  EXPECT_TRUE(Settings(terminal()) == fresh)
      << "the local terminal was not put back";
}

TEST_F(TerminalCliTest, SigtermHangsUpAndRestoresTheTerminal) {
  const std::string fresh = FreshSettings();
  Start(BashSession());
  ASSERT_TRUE(WaitFor("PROMPT> "));
  ASSERT_TRUE(Raw(terminal()));
  kill(cli_->pid(), SIGTERM);
  EXPECT_TRUE(WaitFor("hung up"));
  EXPECT_EQ(Exit().ToString(), "exited with code 143");
  EXPECT_TRUE(Settings(terminal()) == fresh)
      << "the local terminal was not put back";
}

// What rexec says after a session comes once the terminal is put back: a
// raw one (no output processing) would not return the carriage, and the
// next prompt would start mid-line.
TEST_F(TerminalCliTest, AFailedCallRestoresTheTerminalBeforeItSaysWhy) {
  const std::string fresh = FreshSettings();
  Start({"spawn", "-t", "--", "/no/such/program"});
  EXPECT_TRUE(WaitFor("(ENOENT)\r\n"));
  EXPECT_EQ(Exit().ToString(), "exited with code 127");
  EXPECT_TRUE(Settings(terminal()) == fresh);

  Start({"spawn", "-t", "--timeout", "1s", "--", "sleep", "30"});
  EXPECT_TRUE(WaitFor("the child was stopped\r\n"));
  // A terminal's stop begins with a hangup (SIGHUP, 128 + 1).
  EXPECT_EQ(Exit().ToString(), "exited with code 129");
  EXPECT_TRUE(Settings(terminal()) == fresh);
}

TEST_F(TerminalCliTest, TheDefaultRuleAndItsFlags) {
  // At a terminal, a command that is not interactive gets none (as
  // `ssh host cmd`): its stdout and stderr stay apart.
  Start({"spawn", "--", "sh", "-c", "test -t 1 || echo NO-TERMINAL"});
  EXPECT_TRUE(WaitFor("NO-TERMINAL"));
  EXPECT_EQ(Exit().code(), 0);
  Start({"spawn", "--", "/usr/bin/env", "sh", "-c",
         "test -t 1 || echo NO-TERMINAL"});
  EXPECT_TRUE(WaitFor("NO-TERMINAL"));
  EXPECT_EQ(Exit().code(), 0);
  // A shell without a command is interactive (the test's TERM and size).
  Start({"spawn", "--", "sh", "-s"});
  Type("test -t 1 && echo TERMINAL-$TERM-$(stty size | tr ' ' x)\r");
  EXPECT_TRUE(WaitFor("TERMINAL-xterm-30x100"));
  Type("exit\r");
  EXPECT_EQ(Exit().code(), 0);
  Start({"spawn", "-T", "--", "bash", "-c", "test -t 1 || echo NO-TERMINAL"});
  EXPECT_TRUE(WaitFor("NO-TERMINAL"));
  EXPECT_EQ(Exit().code(), 0);
  Start({"spawn", "-t", "--", "tty"});
  EXPECT_TRUE(WaitFor("/dev/pts/"));
  EXPECT_EQ(Exit().code(), 0);
}

TEST_F(TerminalCliTest, DashTForcesATerminalWithoutOneOfOurOwn) {
  process::SpawnOptions options;
  options.argv = {RexecPath(), "--server", server_->address(), "spawn", "-t",
                  "--",        "sh",       "-c", "tty; read x; echo got=$x"};
  absl::StatusOr<process::Child> child = process::Child::Spawn(options);
  ASSERT_TRUE(child.ok());
  Result r = RunChild(*child, "typed\n");
  EXPECT_THAT(r.out, HasSubstr("/dev/pts/"));
  EXPECT_THAT(r.out, HasSubstr("got=typed"));
  EXPECT_EQ(r.status.code(), 0);
  // -t and -T together are a usage error.
  options.argv = {RexecPath(), "--server", server_->address(), "spawn", "-t",
                  "-T", "--", "true"};
  absl::StatusOr<process::Child> both = process::Child::Spawn(options);
  ASSERT_TRUE(both.ok());
  r = RunChild(*both);
  EXPECT_EQ(r.status.code(), 2);
  EXPECT_THAT(r.err, HasSubstr("--no-tty"));
}

// `rexec ARGS` with pipes, to its end.
Result Rexec(RexecdProcess& server, std::vector<std::string> args,
             const std::string& input = "") {
  process::SpawnOptions options;
  options.argv = {RexecPath(), "--server", server.address()};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  absl::StatusOr<process::Child> child = process::Child::Spawn(options);
  EXPECT_TRUE(child.ok()) << child.status();
  return RunChild(*child, input);
}

std::string Trimmed(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

TEST_F(TerminalCliTest, SpawnDetachPsLogsKill) {
  Result r = Rexec(*server_, {"spawn", "--detach", "--name", "ticker", "--",
                              "sh", "-c", "echo tick; sleep 30"});
  ASSERT_EQ(r.status.code(), 0) << r.err;
  const std::string id = Trimmed(r.out);
  EXPECT_THAT(id, ::testing::MatchesRegex("s[0-9]+"));
  r = Rexec(*server_, {"ps"});
  EXPECT_THAT(r.out, HasSubstr("ID"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex(id + " +ticker +[0-9]+ +running"));
  EXPECT_THAT(r.out, HasSubstr("sh -c echo tick; sleep 30"));
  // logs: what is kept, and it ends (the session runs on).
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  do {
    r = Rexec(*server_, {"logs", "ticker"});
  } while (r.out.empty() && absl::Now() < deadline);
  EXPECT_EQ(r.out, "tick\n");
  EXPECT_EQ(r.status.code(), 0);
  r = Rexec(*server_, {"kill", "-s", "KILL", "ticker"});
  EXPECT_EQ(r.status.code(), 0) << r.err;
  r = Rexec(*server_, {"kill", "no-such"});
  EXPECT_EQ(r.status.code(), 255);
  EXPECT_THAT(r.err, HasSubstr("NOT_FOUND"));
  r = Rexec(*server_, {"spawn", "--name", "x", "--", "true"});
  EXPECT_EQ(r.status.code(), 2);
  EXPECT_THAT(r.err, HasSubstr("needs --detach"));
}

// The client is SIGKILLed; output is produced meanwhile; reattached from
// the offset it had, it gets exactly the missing bytes, then live.
TEST_F(TerminalCliTest, ReattachAfterTheClientWasKilled) {
  // "two" waits for the file, which comes once the first client is dead.
  TempDir dir;
  const std::string killed = dir.path() + "/killed";
  Result r = Rexec(*server_, {"spawn", "--detach", "--", "sh", "-c",
                              "echo one; while [ ! -e " + killed +
                                  " ]; do sleep 0.05; done; echo two; "
                                  "read z; echo three-$z"});
  ASSERT_EQ(r.status.code(), 0) << r.err;
  const std::string id = Trimmed(r.out);
  process::SpawnOptions options;
  options.argv = {RexecPath(), "--server", server_->address(), "attach", id};
  absl::StatusOr<process::Child> first = process::Child::Spawn(options);
  ASSERT_TRUE(first.ok());
  // It wrote "one\n" (4 bytes) and we let the session go on.
  std::string seen;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (seen.size() < 4 && absl::Now() < deadline) {
    pollfd ready{first->stdout_fd().Get(), POLLIN, 0};
    if (poll(&ready, 1, 100) <= 0) continue;
    char buffer[64];
    ssize_t n = read(first->stdout_fd().Get(), buffer, sizeof buffer);
    if (n <= 0) break;
    seen.append(buffer, n);
  }
  ASSERT_EQ(seen, "one\n");
  kill(first->pid(), SIGKILL);
  EXPECT_TRUE(first->Wait()->killed());
  // "two\n" comes while nobody is attached.
  dir.Write("killed", "");
  do {
    r = Rexec(*server_, {"ps"});
  } while (r.out.find(" 8 ") == std::string::npos &&
           absl::Now() < deadline + absl::Seconds(10));
  ASSERT_THAT(r.out, HasSubstr(" 8 ")) << r.out;  // 8 bytes of output
  r = Rexec(*server_, {"attach", id, "--from", "4"}, "zed\n");
  EXPECT_EQ(r.out, "two\nthree-zed\n");
  EXPECT_EQ(r.status.code(), 0) << r.err;
  // It saw the exit: collected.
  EXPECT_THAT(Rexec(*server_, {"ps"}).out, ::testing::Not(HasSubstr(id)));
}

TEST_F(TerminalCliTest, ATerminalSessionIsLeftWithTheDetachKeysAndResumed) {
  Result r = Rexec(*server_, {"spawn", "--detach", "-t", "--env",
                              "PS1=PROMPT> ", "--", "bash", "--norc",
                              "--noprofile"});
  ASSERT_EQ(r.status.code(), 0) << r.err;
  const std::string id = Trimmed(r.out);
  const std::string fresh = FreshSettings();
  Start({"attach", id});
  Type("echo hel''lo\r");
  ASSERT_TRUE(WaitFor("hello"));
  EXPECT_TRUE(Raw(terminal()));
  Type("\x10\x11");  // Ctrl-P Ctrl-Q
  ASSERT_TRUE(WaitFor("detached from " + id));
  EXPECT_EQ(Exit().code(), 0);
  EXPECT_TRUE(Settings(terminal()) == fresh);
  EXPECT_THAT(Rexec(*server_, {"ps"}).out,
              ::testing::ContainsRegex(id + " .* running"));
  // Back, with the screen redrawn at our size; its exit is ours.
  Start({"attach", id});
  // The redraw is two resizes (a size that differs, then ours): a command
  // typed between them sees the first, so it is asked again (bounded).
  bool ours = false;
  for (int i = 0; i < 10 && !ours; ++i) {
    Type("stty size\r");
    ours = WaitFor("30 100", absl::Seconds(2), /*fail=*/false);
  }
  ASSERT_TRUE(ours) << "never 30 100 on the screen";
  Type("exit 4\r");
  EXPECT_EQ(Exit().code(), 4);
  EXPECT_TRUE(Settings(terminal()) == fresh);
}

}  // namespace
}  // namespace rexec::testing
