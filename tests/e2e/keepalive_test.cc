// The rexec CLI's keepalive against a real rexecd: a server that froze ends
// the call UNAVAILABLE; rexecd's ping policy takes the pings of the
// clients' default keepalive and refuses pings more often than its
// --keepalive-min-time. (Through the front, HAProxy answers the pings:
// front_test.)
#include <signal.h>

#include <string>
#include <thread>
#include <vector>

#include "client/connection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/rpc/server.h"
#include "tests/e2e/rexecd_process.h"
#include "tests/test_paths.h"

namespace rexec::testing {
namespace {

using ::testing::HasSubstr;

// Sends SIGCONT to a process that may be stopped when the test leaves the
// scope, however it leaves it.
struct Resume {
  pid_t pid;
  ~Resume() { kill(pid, SIGCONT); }
};

TEST(Keepalive, TheCliEndsUnavailableWhenTheServerFreezes) {
  auto server = RexecdProcess::Start();
  ASSERT_NE(server, nullptr);
  {
    Resume resume{server->server_pid()};
    std::thread freeze([&] {
      // Once the child runs, the call is open and silent: only pings can
      // tell that the server stopped answering.
      if (Eventually([&] { return !ChildrenOf(server->server_pid()).empty(); })) {
        kill(server->server_pid(), SIGSTOP);
      }
    });
    CliResult r = RunRexecWithin(
        {"--server", server->address(), "--keepalive-time", "1s",
         "--keepalive-timeout", "1s", "spawn", "--", "sleep", "1000"},
        absl::Seconds(40));
    freeze.join();
    EXPECT_EQ(r.code, 255) << r.err;
    EXPECT_THAT(r.err, HasSubstr("UNAVAILABLE"));
  }
  // Running again, the server finds the connection closed, and stops the
  // child of the call that went with it.
  EXPECT_THAT(server->WaitForLogLine("\"1000\""),
              HasSubstr("reason=CLIENT_GONE"));
  EXPECT_TRUE(Eventually([&] { return ChildrenOf(server->server_pid()).empty(); }));
}

TEST(Keepalive, TheCliEndsUnavailableWhenTheServerFreezesAfterManyPings) {
  // gRPC's client sends two pings, by default, and then none until a data
  // or header frame comes back: the call of a silent child would not see
  // the server freeze after them.
  auto server = RexecdProcess::Start({"--keepalive-min-time", "1s"});
  ASSERT_NE(server, nullptr);
  {
    Resume resume{server->server_pid()};
    std::thread freeze([&] {
      if (Eventually([&] { return !ChildrenOf(server->server_pid()).empty(); })) {
        // What is waited for is time itself: four pings, answered.
        absl::SleepFor(absl::Seconds(4.5));
        kill(server->server_pid(), SIGSTOP);
      }
    });
    CliResult r = RunRexecWithin(
        {"--server", server->address(), "--keepalive-time", "1s",
         "--keepalive-timeout", "1s", "spawn", "--", "sleep", "1001"},
        absl::Seconds(40));
    freeze.join();
    EXPECT_EQ(r.code, 255) << r.err;
    EXPECT_THAT(r.err, HasSubstr("UNAVAILABLE"));
  }
  EXPECT_THAT(server->WaitForLogLine("\"1001\""),
              HasSubstr("reason=CLIENT_GONE"));
}

TEST(Keepalive, TheClientsDefaultIsWithinTheServersDefaultPolicy) {
  // Pings more often than --keepalive-min-time would be struck out.
  EXPECT_GE(client::kDefaultKeepaliveTime,
            rpc::ConnectionLimits{}.keepalive_min_time);
  // A silent call on the CLI's default keepalive against a default rexecd
  // is not closed (GOAWAY too_many_pings): pings would come in
  // milliseconds if a default were off by a unit, and the fourth too soon
  // would close the connection.
  auto server = RexecdProcess::Start();
  ASSERT_NE(server, nullptr);
  CliResult r = RunRexecWithin(
      {"--server", server->address(), "spawn", "--", "sleep", "12"},
      absl::Seconds(60));
  EXPECT_EQ(r.code, 0) << r.err << server->Log();
  EXPECT_EQ(r.err, "");
}

TEST(Keepalive, PingsNoMoreOftenThanTheMinimumKeepASilentCall) {
  // With gRPC's own policy (a ping in 5 minutes) the fourth ping of a
  // silent call would close its connection: here after about 8 s.
  auto server = RexecdProcess::Start({"--keepalive-min-time", "1s"});
  ASSERT_NE(server, nullptr);
  CliResult r =
      RunRexecWithin({"--server", server->address(), "--keepalive-time", "2s",
                      "spawn", "--", "sleep", "11"},
                     absl::Seconds(60));
  EXPECT_EQ(r.code, 0) << r.err << server->Log();
  EXPECT_EQ(r.err, "");
}

TEST(Keepalive, PingsMoreOftenThanTheMinimumCloseTheConnection) {
  auto server = RexecdProcess::Start({"--keepalive-min-time", "1m"});
  ASSERT_NE(server, nullptr);
  CliResult r =
      RunRexecWithin({"--server", server->address(), "--keepalive-time", "1s",
                      "spawn", "--", "sleep", "1000"},
                     absl::Seconds(40));
  EXPECT_EQ(r.code, 255) << r.err;
  EXPECT_THAT(r.err, HasSubstr("UNAVAILABLE: Too many pings"));
  EXPECT_THAT(server->WaitForLogLine("\"1000\""),
              HasSubstr("reason=CLIENT_GONE"));
}

TEST(Keepalive, FlagsAreChecked) {
  for (const auto& [flag, value] :
       std::vector<std::pair<std::string, std::string>>{
           {"--keepalive-time", "-1s"},
           {"--keepalive-time", "soon"},
           {"--keepalive-timeout", "0"}}) {
    CliResult r = RunRexecWithin(
        {"--server", "127.0.0.1:1", flag, value, "spawn", "--", "true"},
        absl::Seconds(20));
    EXPECT_EQ(r.code, 2) << flag << " " << value;
    EXPECT_THAT(r.err, HasSubstr(flag)) << value;
  }
}

}  // namespace
}  // namespace rexec::testing
