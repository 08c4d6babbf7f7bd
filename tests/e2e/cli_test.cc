// The rexec binary against a real rexecd: what a person at a terminal sees.
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <random>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/child_io.h"
#include "tests/e2e/rexecd_process.h"
#include "tests/test_paths.h"

namespace rexec::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = RexecdProcess::Start();
    ASSERT_NE(server_, nullptr);
  }

  process::Child SpawnCli(std::vector<std::string> args, bool use_env = false) {
    process::SpawnOptions options;
    options.argv = {RexecPath()};
    if (use_env) {
      options.env = {{"REXEC_SERVER", server_->address()}};
    } else {
      options.argv.insert(options.argv.end(), {"--server", server_->address()});
    }
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    absl::StatusOr<process::Child> child = process::Child::Spawn(options);
    EXPECT_TRUE(child.ok()) << child.status();
    return std::move(*child);
  }

  Result Cli(std::vector<std::string> args, const std::string& input = "") {
    process::Child child = SpawnCli(std::move(args));
    return RunChild(child, input);
  }

  std::unique_ptr<RexecdProcess> server_;
};

TEST_F(CliTest, LargeRandomPayloadThroughCatArrivesByteExact) {
  std::string payload(64 << 20, '\0');
  std::mt19937 rng(7);
  for (char& c : payload) c = static_cast<char>(rng());
  Result r = Cli({"spawn", "--", "cat"}, payload);
  EXPECT_EQ(r.out.size(), payload.size());
  EXPECT_EQ(std::hash<std::string>()(r.out), std::hash<std::string>()(payload));
  EXPECT_EQ(r.status.code(), 0);
}

TEST_F(CliTest, ExitsWithTheChildsCode) {
  for (int code : {0, 1, 255}) {
    Result r = Cli({"spawn", "--", HelperPath(), "exit", std::to_string(code)});
    EXPECT_EQ(r.status.code(), code);
  }
}

TEST_F(CliTest, SignalDeathExitsWith128PlusN) {
  Result r = Cli({"spawn", "--", "sh", "-c", "kill -SEGV $$"});
  EXPECT_EQ(r.status.code(), 139);
}

TEST_F(CliTest, StdoutAndStderrGoToTheirOwnStreams) {
  Result r = Cli({"spawn", "--", HelperPath(), "stderr", "E"});
  EXPECT_EQ(r.out, "out");
  EXPECT_EQ(r.err, "E");
}

TEST_F(CliTest, StdinEofReachesTheChild) {
  Result r = Cli({"spawn", "--", "wc", "-c"}, "abc");
  EXPECT_EQ(r.out, "3\n");
}

TEST_F(CliTest, OptionsReachTheChild) {
  Result r = Cli({"spawn", "--env", "A=1", "--env", "B=x=y", "--cwd", "/tmp",
                  "--", "sh", "-c", "echo $A $B; pwd"});
  EXPECT_EQ(r.out, "1 x=y\n/tmp\n");
  r = Cli({"spawn", "--clear-env", "--env", "ONLY=1", "--", "/usr/bin/env"});
  EXPECT_EQ(r.out, "ONLY=1\n");
}

TEST_F(CliTest, ServerComesFromTheEnvironment) {
  process::Child child = SpawnCli({"spawn", "--", "echo", "via-env"}, true);
  EXPECT_EQ(RunChild(child).out, "via-env\n");
}

TEST_F(CliTest, TimeoutStopsTheChild) {
  Result r = Cli({"spawn", "--timeout", "200ms", "--", "sleep", "100"});
  EXPECT_EQ(r.status.code(), 128 + SIGTERM);
  EXPECT_THAT(r.err, HasSubstr("rexec: timed out after 200ms"));
}

TEST_F(CliTest, ForwardsSignalsToTheChild) {
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) {
    process::Child cli =
        SpawnCli({"spawn", "--", "sh", "-c", "echo ready; exec sleep 100"});
    // Wait for the remote child to run before signalling.
    std::string seen;
    while (seen.find("ready") == std::string::npos) {
      pollfd pfd{cli.stdout_fd().Get(), POLLIN, 0};
      ASSERT_EQ(poll(&pfd, 1, 30'000), 1);
      char buf[64];
      ssize_t n = read(cli.stdout_fd().Get(), buf, sizeof buf);
      ASSERT_GT(n, 0);
      seen.append(buf, n);
    }
    kill(cli.pid(), sig);
    Result r = RunChild(cli);
    EXPECT_TRUE(r.status.exited())
        << "the CLI itself died: " << r.status.ToString();
    EXPECT_EQ(r.status.code(), 128 + sig) << "signal " << sig;
  }
}

TEST_F(CliTest, RpcErrorsPrintTheStatusAndExit255) {
  Result r = Cli({"spawn", "--", "nosuchprog"});
  EXPECT_EQ(r.status.code(), 255);
  EXPECT_EQ(r.err,
            "rexec: NOT_FOUND: spawn nosuchprog: not found in PATH (ENOENT)\n");

  process::SpawnOptions options;
  options.argv = {RexecPath(), "--server", "127.0.0.1:1",
                  "spawn",     "--",       "true"};
  absl::StatusOr<process::Child> child = process::Child::Spawn(options);
  ASSERT_TRUE(child.ok());
  r = RunChild(*child);
  EXPECT_EQ(r.status.code(), 255);
  EXPECT_THAT(r.err, StartsWith("rexec: UNAVAILABLE: "));
}

TEST_F(CliTest, HelpOnEveryLevel) {
  Result top = Cli({"--help"});
  EXPECT_EQ(top.status.code(), 0);
  EXPECT_THAT(top.out, HasSubstr("spawn"));
  Result spawn = Cli({"spawn", "--help"});
  EXPECT_EQ(spawn.status.code(), 0);
  EXPECT_THAT(spawn.out, HasSubstr("--timeout"));
  Result bad = Cli({"spawn", "--timeout", "soon", "--", "true"});
  EXPECT_NE(bad.status.code(), 0);
  EXPECT_THAT(bad.err, HasSubstr("\"soon\" is not a duration"));
}

}  // namespace
}  // namespace rexec::testing
