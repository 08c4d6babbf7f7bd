// Faults: clients that die, connections that churn, a server stopped under
// load, children that misbehave. After each, the server must have no child
// left (no zombie, no orphaned descendant: rexecd is their subreaper, so
// they would be its children), no more fds than before, and still serve.
#include <signal.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client/child_session.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/child_io.h"
#include "tests/e2e/rexecd_process.h"
#include "tests/test_paths.h"

namespace rexec::testing {
namespace {

using ::testing::HasSubstr;

v1::SpawnStart Start(std::vector<std::string> argv) {
  v1::SpawnStart start;
  for (auto& a : argv) start.add_argv(a);
  return start;
}

// Runs `echo ok` and returns its stdout.
std::string EchoOk(v1::ChildProcess::Stub& stub) {
  client::SpawnSession session(stub, Start({"echo", "ok"}),
                               absl::Now() + absl::Seconds(60));
  session.WritesDone();
  std::string out;
  v1::SpawnResponse r;
  while (session.Read(&r)) out += r.stdout();
  return out;
}

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer({}); }

  void StartServer(std::vector<std::string> flags) {
    server_ = RexecdProcess::Start(std::move(flags));
    ASSERT_NE(server_, nullptr);
    // The test's own connection, opened before the baseline is taken.
    ASSERT_EQ(EchoOk(server_->stub()), "ok\n");
    fds_ = server_->FdCount();
    ASSERT_GT(fds_, 0);
  }

  // What every fault test ends with.
  void ExpectHealthy(const std::string& marker) {
    EXPECT_TRUE(Eventually([&] { return ProcessesWithArg(marker).empty(); }))
        << ProcessesWithArg(marker).size() << " processes with " << marker;
    EXPECT_TRUE(Eventually([&] { return ChildrenOf(server_->server_pid()).empty(); }))
        << ChildrenOf(server_->server_pid()).size() << " children of rexecd left";
    // Calls that never went away would hold their pidfds.
    EXPECT_TRUE(Eventually([&] { return server_->FdCount() <= fds_; }))
        << server_->FdCount() << " fds, " << fds_ << " before";
    EXPECT_EQ(EchoOk(server_->stub()), "ok\n");
  }

  std::unique_ptr<RexecdProcess> server_;
  int fds_ = 0;
};

TEST_F(FaultTest, ClientKilledMidStream50Times) {
  constexpr int kRounds = 50;
  constexpr int kAtOnce = 10;
  for (int round = 0; round < kRounds; round += kAtOnce) {
    std::vector<process::Child> clients;
    for (int i = 0; i < kAtOnce; ++i) {
      process::SpawnOptions options;
      options.argv = {RexecPath(), "--server", server_->address(),
                      "spawn",     "--",       "sleep",
                      "330"};
      absl::StatusOr<process::Child> child = process::Child::Spawn(options);
      ASSERT_TRUE(child.ok()) << child.status();
      clients.push_back(std::move(*child));
    }
    // Every call has its child running, then every client dies at once.
    ASSERT_TRUE(Eventually([&] {
      return ProcessesWithArg("330").size() >= kAtOnce * 2;  // rexec + sleep
    }));
    for (process::Child& client : clients) {
      client.SignalGroup(SIGKILL).IgnoreError();
      client.Wait().IgnoreError();
    }
    ASSERT_TRUE(Eventually([] { return ProcessesWithArg("330").empty(); }))
        << "round " << round;
  }
  ExpectHealthy("330");
}

TEST_F(FaultTest, AClientGoneWhileItsExitWaitsBehindAFullOutbox) {
  // The timeout stops `yes` while its output fills the outbox of a client
  // that does not read; after --drain-timeout (2 s) the exit is queued
  // behind that output. Then the client goes. The call must still end (its
  // audit record written, its memory and fds freed), or the server's
  // drain would wait for it for ever.
  v1::SpawnStart start = Start({"yes", "341"});
  start.mutable_options()->mutable_timeout()->set_seconds(1);
  auto session = std::make_unique<client::SpawnSession>(
      server_->stub(), start, absl::Now() + absl::Seconds(60));
  absl::SleepFor(absl::Milliseconds(4500));
  session->Cancel();
  EXPECT_THAT(server_->WaitForLogLine("\"341\"]", absl::Seconds(10)),
              HasSubstr("status=CANCELLED"));
  ExpectHealthy("341");
  const absl::Time sent = absl::Now();
  process::ExitStatus status = server_->Terminate();
  EXPECT_TRUE(status.exited() && status.code() == 0) << status.ToString();
  // A call that never ends holds the drain for ever (WaitForExit gives up
  // at 60 s); this one is bounded by --shutdown-grace and the exits' 2 s.
  EXPECT_LT(absl::Now() - sent, absl::Seconds(30));
}

TEST_F(FaultTest, ClientsCancelWhileOutputIsInFlight) {
  // A write is in flight when the cancel lands: the call must still finish
  // and go away, or the server's shutdown waits for it for ever.
  for (int i = 0; i < 50; ++i) {
    client::SpawnSession session(server_->stub(), Start({"yes", "339"}),
                                 absl::Now() + absl::Seconds(60));
    v1::SpawnResponse r;
    for (int read = 0; read < 3 && session.Read(&r); ++read) {
    }
    session.Cancel();
  }
  ExpectHealthy("339");
  process::ExitStatus status = server_->Terminate();
  EXPECT_TRUE(status.exited() && status.code() == 0) << status.ToString();
}

TEST_F(FaultTest, FiveHundredConnectStartDisconnectCycles) {
  for (int i = 0; i < 500; ++i) {
    // A connection of its own each time, not the pooled one.
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto stub = v1::ChildProcess::NewStub(grpc::CreateCustomChannel(
        server_->address(), grpc::InsecureChannelCredentials(), args));
    client::SpawnSession session(*stub, Start({"sleep", "331"}),
                                 absl::Now() + absl::Seconds(60));
    v1::SpawnResponse r;
    ASSERT_TRUE(session.Read(&r)) << "cycle " << i;
    ASSERT_TRUE(r.has_started());
    // The session, its stream and the channel go away here, unfinished.
    session.Cancel();
  }
  ExpectHealthy("331");
}

TEST_F(FaultTest, SigtermWithFiftyCallsRunningStopsEveryChild) {
  std::vector<std::unique_ptr<client::SpawnSession>> sessions;
  for (int i = 0; i < 50; ++i) {
    sessions.push_back(std::make_unique<client::SpawnSession>(
        server_->stub(), Start({"sleep", "332"}),
        absl::Now() + absl::Seconds(60)));
    v1::SpawnResponse r;
    ASSERT_TRUE(sessions.back()->Read(&r));
  }
  absl::Time sent = absl::Now();
  process::ExitStatus status = server_->Terminate();
  EXPECT_TRUE(status.exited() && status.code() == 0) << status.ToString();
  // The drain (--shutdown-grace 1s here) stops each at once, its kill_grace
  // cut to what is left; sleep dies of SIGTERM.
  EXPECT_LT(absl::Now() - sent, absl::Seconds(15));
  EXPECT_TRUE(ProcessesWithArg("332").empty());
  for (auto& session : sessions) {
    v1::SpawnResponse r;
    std::optional<v1::ExitStatus> exit;
    while (session->Read(&r)) {
      if (r.has_exit()) exit = r.exit();
    }
    EXPECT_TRUE(session->Finish().ok());
    ASSERT_TRUE(exit.has_value());
    EXPECT_EQ(exit->signal(), "SIGTERM");
    EXPECT_EQ(exit->reason(), v1::TERMINATION_REASON_SERVER_SHUTDOWN);
  }
}

TEST_F(FaultTest, ChildIgnoringSigtermIsKilledAfterTheGrace) {
  v1::SpawnStart start = Start({HelperPath(), "ignore-term", "335"});
  start.mutable_options()->mutable_kill_grace()->set_nanos(300'000'000);
  client::SpawnSession session(server_->stub(), start,
                               absl::Now() + absl::Seconds(60));
  v1::SpawnResponse r;
  while (session.Read(&r) && r.stdout().find("ready") == std::string::npos) {
  }
  session.Cancel();
  ExpectHealthy("335");
}

TEST_F(FaultTest, ChildThatClosesStdoutEarlyAndKeepsRunning) {
  client::SpawnSession session(server_->stub(),
                               Start({HelperPath(), "close-stdout", "336"}),
                               absl::Now() + absl::Seconds(60));
  v1::SpawnResponse r;
  ASSERT_TRUE(session.Read(&r));
  ASSERT_TRUE(Eventually([&] { return !ProcessesWithArg("336").empty(); }));
  absl::SleepFor(absl::Milliseconds(200));  // its pipes reach EOF
  session.Cancel();
  ExpectHealthy("336");
}

TEST_F(FaultTest, HundredMebibytesOfStdinToAChildThatNeverReadsThenCancel) {
  client::SpawnSession session(server_->stub(), Start({"sleep", "333"}),
                               absl::Now() + absl::Seconds(60));
  v1::SpawnResponse r;
  ASSERT_TRUE(session.Read(&r));
  int64_t rss_before = server_->RssBytes();
  std::atomic<int> sent{0};
  std::thread writer([&] {
    const std::string chunk(1 << 20, 'x');
    for (int i = 0; i < 100; ++i) {
      if (!session.WriteStdin(chunk)) return;
      ++sent;
    }
  });
  absl::SleepFor(absl::Seconds(2));
  EXPECT_LT(sent.load(), 100) << "all of it was taken from the client";
  // What the server holds for the child (up to 16 MiB, so that a signal
  // gets past it) and gRPC's buffers. Not under the sanitizers: ASan's
  // quarantine keeps every frame freed meanwhile.
  if (!kSanitized) {
    EXPECT_LT(server_->RssBytes() - rss_before, (32 << 20) + (16 << 20));
  }
  session.Cancel();
  writer.join();
  ExpectHealthy("333");
}

TEST_F(FaultTest, AtMaxProcessesTheNextIsRefusedAndServiceGoesOn) {
  StartServer({"--max-processes", "3"});
  std::vector<std::unique_ptr<client::SpawnSession>> sessions;
  for (int i = 0; i < 2; ++i) {  // the third slot is EchoOk's
    sessions.push_back(std::make_unique<client::SpawnSession>(
        server_->stub(), Start({"sleep", "337"}),
        absl::Now() + absl::Seconds(60)));
    v1::SpawnResponse r;
    ASSERT_TRUE(sessions.back()->Read(&r));
  }
  sessions.push_back(std::make_unique<client::SpawnSession>(
      server_->stub(), Start({"sleep", "337"}),
      absl::Now() + absl::Seconds(60)));
  v1::SpawnResponse r;
  ASSERT_TRUE(sessions.back()->Read(&r));  // the third fits
  client::SpawnSession refused(server_->stub(), Start({"true"}),
                               absl::Now() + absl::Seconds(60));
  EXPECT_FALSE(refused.Read(&r));
  EXPECT_EQ(refused.Finish().error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  for (auto& session : sessions) session->Cancel();
  ExpectHealthy("337");
}

TEST_F(FaultTest, OneCancelStopsATreeOfDescendants) {
  // A binary tree of subshells five deep, each with a sleep: 126 processes,
  // bounded (never a real fork bomb on a shared machine).
  const std::string script =
      "grow() { if [ $1 -gt 0 ]; then grow $(($1 - 1)) & grow $(($1 - 1)) & "
      "fi; sleep 338; }; grow 5";
  client::SpawnSession session(server_->stub(), Start({"bash", "-c", script}),
                               absl::Now() + absl::Seconds(60));
  v1::SpawnResponse r;
  ASSERT_TRUE(session.Read(&r));
  ASSERT_TRUE(Eventually([] { return ProcessesWithArg("338").size() >= 63; }))
      << ProcessesWithArg("338").size() << " sleeps";
  EXPECT_LE(ProcessesWithArg("338").size(), 200u);
  session.Cancel();
  ExpectHealthy("338");
}

}  // namespace
}  // namespace rexec::testing
