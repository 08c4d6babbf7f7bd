// Exec end to end: Node's child_process.exec through the real rexecd.
#include <signal.h>

#include <string>
#include <thread>

#include "client/child_session.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/raw_call.h"
#include "tests/e2e/rexecd_process.h"

namespace rexec::testing {
namespace {

using ::testing::HasSubstr;
using v1::ExecRequest;
using v1::ExecResponse;

v1::ExecStart Start(std::string command, uint64_t max_buffer = 0) {
  v1::ExecStart start;
  start.set_command(std::move(command));
  start.set_max_buffer(max_buffer);
  return start;
}

ExecRequest StartRequest(v1::ExecStart start) {
  ExecRequest r;
  *r.mutable_start() = std::move(start);
  return r;
}

// Runs one Exec with `input` on stdin and checks the response shape:
// exactly started, then one result, then OK.
v1::ExecResult Exec(RexecdProcess& server, const v1::ExecStart& start,
                    const std::string& input = "") {
  client::ExecSession session(server.stub(), start,
                              absl::Now() + absl::Seconds(20));
  std::thread writer([&] {
    for (size_t at = 0; at < input.size(); at += 64 * 1024) {
      if (!session.WriteStdin(input.substr(at, 64 * 1024))) break;
    }
    session.WritesDone();
  });
  std::vector<ExecResponse> responses;
  ExecResponse r;
  while (session.Read(&r)) responses.push_back(r);
  writer.join();
  grpc::Status status = session.Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  if (responses.size() != 2 || !responses[0].has_started() ||
      !responses[1].has_result()) {
    ADD_FAILURE() << "not started then result: " << responses.size()
                  << " responses";
    return {};
  }
  EXPECT_GT(responses[0].started().pid(), 0);
  return responses[1].result();
}

class ExecTest : public RexecdTest {};

TEST_F(ExecTest, BuffersStdoutAndStderrAndReportsTheExitCode) {
  v1::ExecResult r = Exec(*server_, Start("echo out; echo err >&2; exit 3"));
  EXPECT_EQ(r.stdout(), "out\n");
  EXPECT_EQ(r.stderr(), "err\n");
  EXPECT_EQ(r.exit().code(), 3);
  EXPECT_EQ(r.exit().reason(), v1::TERMINATION_REASON_EXITED);
}

TEST_F(ExecTest, StreamsStdinToTheCommand) {
  v1::ExecResult r = Exec(*server_, Start("wc -c"), std::string(10 << 20, 'x'));
  EXPECT_EQ(r.stdout(), "10485760\n");
  EXPECT_EQ(r.exit().code(), 0);
}

TEST_F(ExecTest, RunsShellSyntax) {
  v1::ExecResult r = Exec(
      *server_, Start("X=hello; echo $X | tr a-z A-Z && printf %s \"$X\" | "
                      "wc -c; false || echo $((6 * 7))"));
  EXPECT_EQ(r.stdout(), "HELLO\n5\n42\n");
}

TEST_F(ExecTest, UsesTheNamedShell) {
  v1::ExecStart start = Start("echo $0");
  start.set_shell("/bin/bash");
  EXPECT_EQ(Exec(*server_, start).stdout(), "/bin/bash\n");
  EXPECT_EQ(Exec(*server_, Start("echo $0")).stdout(), "/bin/sh\n");
}

TEST_F(ExecTest, StdoutOverMaxBufferIsCutThereAndStopsTheCommand) {
  v1::ExecResult r = Exec(*server_, Start("exec yes 311", 1002));
  std::string expected;
  while (expected.size() < 1002) expected += "311\n";
  expected.resize(1002);  // cut inside a line: bytes, not lines
  EXPECT_EQ(r.stdout(), expected);
  EXPECT_EQ(r.stderr(), "");
  EXPECT_EQ(r.exit().reason(), v1::TERMINATION_REASON_MAX_BUFFER_EXCEEDED);
  EXPECT_EQ(r.exit().signal(), "SIGTERM");
  EXPECT_TRUE(Eventually([] { return ProcessesWithArg("311").empty(); }));
}

TEST_F(ExecTest, StderrOverMaxBufferIsCutThereAndStopsTheCommand) {
  v1::ExecResult r = Exec(*server_, Start("exec yes 312 >&2", 4096));
  EXPECT_EQ(r.stderr().size(), 4096u);
  EXPECT_EQ(r.stdout(), "");
  EXPECT_EQ(r.exit().reason(), v1::TERMINATION_REASON_MAX_BUFFER_EXCEEDED);
  EXPECT_TRUE(Eventually([] { return ProcessesWithArg("312").empty(); }));
}

TEST_F(ExecTest, OutputOfExactlyMaxBufferIsNotCut) {
  v1::ExecResult r = Exec(*server_, Start("head -c 1000 /dev/zero", 1000));
  EXPECT_EQ(r.stdout().size(), 1000u);
  EXPECT_EQ(r.exit().reason(), v1::TERMINATION_REASON_EXITED);
  EXPECT_EQ(r.exit().code(), 0);
}

TEST_F(ExecTest, DefaultMaxBufferIsOneMebibyte) {
  v1::ExecResult r = Exec(*server_, Start("head -c 2000000 /dev/zero"));
  EXPECT_EQ(r.stdout().size(), 1u << 20);
  EXPECT_EQ(r.exit().reason(), v1::TERMINATION_REASON_MAX_BUFFER_EXCEEDED);
}

TEST_F(ExecTest, ResultsOfBothFullBuffersAtTheCapArrive) {
  // 16 MiB of each stream in one message: the server raised its send limit.
  v1::ExecResult r =
      Exec(*server_,
           Start("head -c 16777216 /dev/zero; head -c 16777216 /dev/zero >&2",
                 16 << 20));
  EXPECT_EQ(r.stdout().size(), 16u << 20);
  EXPECT_EQ(r.stderr().size(), 16u << 20);
  EXPECT_EQ(r.exit().reason(), v1::TERMINATION_REASON_EXITED);
}

TEST_F(ExecTest, TimeoutKeepsTheOutputGatheredUntilThen) {
  v1::ExecStart start = Start("echo before; echo err >&2; sleep 313");
  start.mutable_options()->mutable_timeout()->set_seconds(1);
  v1::ExecResult r = Exec(*server_, start);
  EXPECT_EQ(r.stdout(), "before\n");
  EXPECT_EQ(r.stderr(), "err\n");
  EXPECT_EQ(r.exit().reason(), v1::TERMINATION_REASON_TIMED_OUT);
  EXPECT_EQ(r.exit().signal(), "SIGTERM");
  EXPECT_TRUE(Eventually([] { return ProcessesWithArg("313").empty(); }));
}

TEST_F(ExecTest, SignalReachesTheCommand) {
  client::ExecSession session(server_->stub(), Start("exec sleep 314"),
                              absl::Now() + absl::Seconds(20));
  ExecResponse r;
  ASSERT_TRUE(session.Read(&r));
  ASSERT_TRUE(r.has_started());
  session.SendSignal("SIGINT");
  ASSERT_TRUE(session.Read(&r));
  EXPECT_EQ(r.result().exit().signal(), "SIGINT");
  EXPECT_EQ(r.result().exit().reason(), v1::TERMINATION_REASON_SIGNALED);
  EXPECT_FALSE(session.Read(&r));
  EXPECT_TRUE(session.Finish().ok());
}

TEST_F(ExecTest, MaxBufferOverTheCapIsInvalid) {
  auto e = RawCall<ExecRequest>(server_->stub(),
                                {StartRequest(Start("true", (16 << 20) + 1))});
  EXPECT_EQ(e.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(e.status.error_message(),
            "start.max_buffer is 16777217 bytes, over this server's limit of "
            "16777216 bytes per stream (--max-exec-buffer)");
  EXPECT_TRUE(e.responses.empty());
}

TEST(ExecCapTest, TheCapIsTheServersFlag) {
  auto server = RexecdProcess::Start({"--max-exec-buffer", "1000"});
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(Exec(*server, Start("echo ok", 1000)).stdout(), "ok\n");
  auto e = RawCall<ExecRequest>(server->stub(),
                                {StartRequest(Start("echo ok", 1001))});
  EXPECT_EQ(e.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(e.status.error_message(), HasSubstr("limit of 1000 bytes"));
}

TEST_F(ExecTest, AShellThatDoesNotExistIsNotFound) {
  v1::ExecStart start = Start("true");
  start.set_shell("/nonexistent/sh");
  auto e = RawCall<ExecRequest>(server_->stub(), {StartRequest(start)});
  EXPECT_EQ(e.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(e.status.error_message(), HasSubstr("/nonexistent/sh"));
}

TEST_F(ExecTest, BadInputGetsAClearError) {
  ExecRequest stdin_first;
  stdin_first.set_stdin("x");
  ExecRequest empty;
  ExecRequest bad_signal;
  bad_signal.mutable_signal()->set_name("SIGNOPE");
  v1::ExecStart bad_timeout = Start("true");
  bad_timeout.mutable_options()->mutable_timeout()->set_seconds(-1);
  ExpectEachFails<ExecRequest>(
      server_->stub(),
      {
          {{stdin_first},
           grpc::StatusCode::INVALID_ARGUMENT,
           "the first message must be start, got stdin"},
          {{},
           grpc::StatusCode::INVALID_ARGUMENT,
           "the request stream ended before the start message"},
          {{StartRequest(Start(""))},
           grpc::StatusCode::INVALID_ARGUMENT,
           "start.command is empty"},
          {{StartRequest(Start("sleep 316")), StartRequest(Start("true"))},
           grpc::StatusCode::INVALID_ARGUMENT,
           "start was sent twice"},
          {{StartRequest(Start("sleep 316")), empty},
           grpc::StatusCode::INVALID_ARGUMENT,
           "none of start, stdin, close_stdin, signal or resize is set"},
          {{StartRequest(Start("sleep 316")), bad_signal},
           grpc::StatusCode::INVALID_ARGUMENT,
           "signal: unknown signal name"},
          {{StartRequest(bad_timeout)},
           grpc::StatusCode::INVALID_ARGUMENT,
           "options.timeout"},
      });
  // Every child of a failed call was stopped.
  EXPECT_TRUE(Eventually([] { return ProcessesWithArg("316").empty(); }));
  // And the server still serves.
  EXPECT_EQ(Exec(*server_, Start("echo fine")).stdout(), "fine\n");
}

}  // namespace
}  // namespace rexec::testing
