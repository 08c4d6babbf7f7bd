// Spawn and Exec with a terminal (options.pty), end to end: the child's
// controlling terminal, its size and resizes, EOF as a key, signals to the
// foreground job, a hangup when the call goes, and refusals of bad input.
#include <signal.h>
#include <unistd.h>

#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "client/child_session.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/rexecd_process.h"

namespace rexec::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

v1::SpawnStart TerminalStart(std::vector<std::string> argv, uint32_t rows = 30,
                             uint32_t cols = 100) {
  v1::SpawnStart start;
  for (auto& a : argv) start.add_argv(a);
  v1::PtyOptions* pty = start.mutable_options()->mutable_pty();
  pty->set_term("xterm-256color");
  pty->set_rows(rows);
  pty->set_cols(cols);
  // A shell that reads no rc file and prints a prompt we can wait for.
  (*start.mutable_options()->mutable_env())["PS1"] = "PROMPT> ";
  (*start.mutable_options()->mutable_env())["HOME"] = "/nonexistent";
  return start;
}

// A terminal session read as a person watches one: what arrived so far.
class Screen {
 public:
  explicit Screen(client::SpawnSession& session) : session_(session) {}

  // Reads until `needle` appears after what was waited for before; false
  // (and the test fails) if the call ended first. Bounded by the call's
  // deadline.
  bool WaitFor(const std::string& needle) {
    for (;;) {
      if (size_t at = text_.find(needle, mark_); at != std::string::npos) {
        mark_ = at + needle.size();
        return true;
      }
      v1::SpawnResponse r;
      if (!session_.Read(&r)) {
        ADD_FAILURE() << "the call ended before \"" << needle
                      << "\"; the screen had:\n" << text_;
        return false;
      }
      if (r.has_started()) pid_ = r.started().pid();
      if (r.has_stdout()) text_ += r.stdout();
      if (r.has_stderr()) stderr_ += r.stderr();
      if (r.has_exit()) exit_ = r.exit();
    }
  }
  // Reads to the end of the call.
  grpc::Status Finish() {
    v1::SpawnResponse r;
    while (session_.Read(&r)) {
      if (r.has_stdout()) text_ += r.stdout();
      if (r.has_stderr()) stderr_ += r.stderr();
      if (r.has_exit()) exit_ = r.exit();
    }
    return session_.Finish();
  }
  const std::string& text() const { return text_; }
  const std::string& stderr_text() const { return stderr_; }
  const std::optional<v1::ExitStatus>& exit() const { return exit_; }
  pid_t pid() const { return pid_; }
  // What came after the last thing waited for.
  std::string Rest() const { return text_.substr(mark_); }

 private:
  client::SpawnSession& session_;
  std::string text_, stderr_;
  size_t mark_ = 0;
  std::optional<v1::ExitStatus> exit_;
  pid_t pid_ = 0;
};

client::SessionOptions Within(absl::Duration d) {
  client::SessionOptions options;
  options.deadline = absl::Now() + d;
  return options;
}

class PtyTest : public RexecdTest {
 protected:
  void TearDown() override {
    if (HasFailure()) std::cerr << "rexecd's log:\n" << server_->Log();
    RexecdTest::TearDown();
  }
  std::vector<std::string> Flags() override {
    return {"--drain-timeout", "300ms"};
  }
};

TEST_F(PtyTest, TheChildHasATerminalOfTheAskedSizeAndType) {
  client::SpawnSession session(
      server_->stub(),
      TerminalStart({"sh", "-c",
                     "tty; stty size; echo TERM=$TERM; "
                     "test -t 0 && test -t 1 && test -t 2 && echo ALL-TTY; "
                     "echo to-stderr >&2; ps -o sid=,pgid=,tpgid= -p $$"}),
      Within(absl::Seconds(20)));
  Screen screen(session);
  ASSERT_TRUE(screen.Finish().ok());
  ASSERT_TRUE(screen.exit().has_value());
  EXPECT_EQ(screen.exit()->code(), 0);
  const std::string& out = screen.text();
  EXPECT_THAT(out, StartsWith("/dev/pts/"));
  EXPECT_THAT(out, HasSubstr("\r\n30 100\r\n"));  // a terminal's newlines
  EXPECT_THAT(out, HasSubstr("TERM=xterm-256color"));
  EXPECT_THAT(out, HasSubstr("ALL-TTY"));
  // One stream: stderr comes as stdout.
  EXPECT_THAT(out, HasSubstr("to-stderr"));
  EXPECT_EQ(screen.stderr_text(), "");
  // The shell leads a session and its group, and is the terminal's
  // foreground: sid == pgid == tpgid.
  std::vector<std::string> ids =
      absl::StrSplit(out.substr(out.rfind("to-stderr") + 9),
                     absl::ByAnyChar(" \r\n"), absl::SkipWhitespace());
  ASSERT_EQ(ids.size(), 3u) << out;
  EXPECT_EQ(ids[0], ids[1]);
  EXPECT_EQ(ids[1], ids[2]);
}

TEST_F(PtyTest, AResizeReachesTheChildAsSigwinch) {
  client::SpawnSession session(
      server_->stub(),
      TerminalStart({"sh", "-c",
                     "trap 'echo WINCH $(stty size)' WINCH; echo READY; "
                     "i=0; while [ $i -lt 200 ]; do sleep 0.05; "
                     "i=$((i+1)); done"}),
      Within(absl::Seconds(20)));
  Screen screen(session);
  ASSERT_TRUE(screen.WaitFor("READY"));
  ASSERT_TRUE(session.Resize(40, 120));
  EXPECT_TRUE(screen.WaitFor("WINCH 40 120"));
  // 0 keeps a dimension.
  ASSERT_TRUE(session.Resize(0, 90));
  EXPECT_TRUE(screen.WaitFor("WINCH 40 90"));
  session.SendSignal("SIGKILL");
  screen.Finish();
}

TEST_F(PtyTest, CloseStdinIsTheEofKey) {
  client::SpawnSession session(server_->stub(), TerminalStart({"cat"}),
                               Within(absl::Seconds(20)));
  Screen screen(session);
  session.WriteStdin("hello\n");
  ASSERT_TRUE(screen.WaitFor("hello\r\nhello\r\n"));  // the echo, then cat's
  // A terminal stays open after EOF: cat ends, which it would not if the
  // EOF was a closed pipe's.
  session.CloseStdin();
  ASSERT_TRUE(screen.Finish().ok());
  ASSERT_TRUE(screen.exit().has_value());
  EXPECT_EQ(screen.exit()->code(), 0);
}

// A broken call reads as a half-close before it is known to be cancelled:
// were that the EOF key, a shell would exit at once, without passing the
// stop's hangup on to its jobs. Only close_stdin is the key.
TEST_F(PtyTest, AHalfCloseIsNotTheEofKey) {
  client::SpawnSession session(
      server_->stub(), TerminalStart({"sh", "-c", "cat; echo CAT-ENDED"}),
      Within(absl::Seconds(20)));
  Screen screen(session);
  session.WriteStdin("abc\n");
  ASSERT_TRUE(screen.WaitFor("abc\r\nabc\r\n"));
  session.WritesDone();
  absl::SleepFor(absl::Milliseconds(500));
  ASSERT_GT(screen.pid(), 0);
  EXPECT_EQ(kill(screen.pid(), 0), 0) << "a half-close ended cat";
  session.Cancel();
  screen.Finish();
  EXPECT_THAT(screen.text(), ::testing::Not(HasSubstr("CAT-ENDED")));
}

// Ctrl-C at a local terminal: the foreground job dies, the shell stays.
// A signal to the shell's group instead would do nothing (an interactive
// shell ignores SIGINT) and the job would run on.
TEST_F(PtyTest, ASignalGoesToTheForegroundJobAndJobControlWorks) {
  client::SpawnSession session(
      server_->stub(), TerminalStart({"bash", "--norc", "--noprofile", "-i"}),
      Within(absl::Seconds(30)));
  Screen screen(session);
  ASSERT_TRUE(screen.WaitFor("PROMPT> "));
  session.WriteStdin("sleep 7105 &\n");
  ASSERT_TRUE(screen.WaitFor("PROMPT> "));
  session.WriteStdin("jobs\n");
  ASSERT_TRUE(screen.WaitFor("Running"));
  ASSERT_TRUE(screen.WaitFor("PROMPT> "));
  EXPECT_FALSE(InTheForeground("7105"));
  session.WriteStdin("fg\n");
  ASSERT_TRUE(screen.WaitFor("sleep 7105"));
  // fg prints the command line before its tcsetpgrp.
  ASSERT_TRUE(Eventually([] { return InTheForeground("7105"); }));
  session.SendSignal("SIGINT");
  ASSERT_TRUE(screen.WaitFor("PROMPT> "));
  session.WriteStdin("echo status=$?\n");
  EXPECT_TRUE(screen.WaitFor("status=130"));
  session.WriteStdin("exit 7\n");
  ASSERT_TRUE(screen.Finish().ok());
  ASSERT_TRUE(screen.exit().has_value());
  EXPECT_EQ(screen.exit()->code(), 7);
}

bool Alive(pid_t pid) { return kill(pid, 0) == 0; }

// A dropped connection hangs the terminal up, as sshd's does: the shell
// passes the SIGHUP on to its jobs, which are groups of their own.
TEST_F(PtyTest, ACallThatGoesHangsUpTheShellAndItsJobs) {
  client::SpawnSession session(
      server_->stub(), TerminalStart({"bash", "--norc", "--noprofile", "-i"}),
      Within(absl::Seconds(30)));
  Screen screen(session);
  ASSERT_TRUE(screen.WaitFor("PROMPT> "));
  // Quoted so that the echo of the line typed is not what is waited for.
  session.WriteStdin("sleep 300 & echo \"B\"G=$!:\n");
  ASSERT_TRUE(screen.WaitFor("BG="));
  ASSERT_TRUE(screen.WaitFor(":"));
  const std::string text = screen.text();
  const size_t at = text.rfind("BG=") + 3;
  int reported = 0;
  ASSERT_TRUE(absl::SimpleAtoi(text.substr(at, text.find(':', at) - at),
                               &reported))
      << text;
  const pid_t job = server_->HostPid(reported);
  ASSERT_GT(job, 0);
  ASSERT_TRUE(Alive(job));
  session.Cancel();
  screen.Finish();
  // Reaped by rexecd (its subreaper) once it died: bounded wait.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (Alive(job) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_FALSE(Alive(job)) << "the background job outlived its call";
}

TEST_F(PtyTest, ExecWithATerminal) {
  v1::ExecStart start;
  start.set_command("tty; stty size");
  start.mutable_options()->mutable_pty()->set_rows(50);
  client::ExecSession session(server_->stub(), start,
                              Within(absl::Seconds(20)));
  session.CloseStdin();
  v1::ExecResponse r;
  std::optional<v1::ExecResult> result;
  while (session.Read(&r)) {
    if (r.has_result()) result = r.result();
  }
  ASSERT_TRUE(session.Finish().ok());
  ASSERT_TRUE(result.has_value());
  EXPECT_THAT(result->stdout(), StartsWith("/dev/pts/"));
  EXPECT_THAT(result->stdout(), HasSubstr("50 80"));
  EXPECT_EQ(result->exit().code(), 0);
}

grpc::Status SpawnStatus(RexecdProcess& server, const v1::SpawnStart& start,
                         std::function<void(client::SpawnSession&)> then = {}) {
  client::SpawnSession session(server.stub(), start, Within(absl::Seconds(20)));
  if (then) then(session);
  Screen screen(session);
  return screen.Finish();
}

TEST_F(PtyTest, BadTerminalOptionsAreRefusedByName) {
  v1::SpawnStart start = TerminalStart({"true"}, 70000, 80);
  grpc::Status status = SpawnStatus(*server_, start);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("options.pty.rows is 70000"));

  start = TerminalStart({"true"});
  start.mutable_options()->mutable_pty()->set_term("../../tmp/evil");
  status = SpawnStatus(*server_, start);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("options.pty.term"));

  start = TerminalStart({"sleep", "5"});
  status = SpawnStatus(*server_, start, [](client::SpawnSession& s) {
    s.Resize(1, 100000);
  });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("resize.cols is 100000"));

  v1::SpawnStart plain;
  plain.add_argv("sleep");
  plain.add_argv("5");
  status = SpawnStatus(*server_, plain, [](client::SpawnSession& s) {
    s.Resize(10, 10);
  });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("no terminal"));

  v1::ForkStart fork;
  fork.set_module("x.js");
  fork.mutable_options()->mutable_pty();
  client::ForkSession forked(server_->stub(), fork, Within(absl::Seconds(20)));
  v1::ForkResponse r;
  while (forked.Read(&r)) {
  }
  status = forked.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("Fork has no terminal"));
}

}  // namespace
}  // namespace rexec::testing
