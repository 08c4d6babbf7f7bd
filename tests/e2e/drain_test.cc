// rexecd's drain on SIGTERM, as Kubernetes expects of a pod being stopped:
// health NOT_SERVING at once (on the main port and on --health-listen), new
// calls refused with UNAVAILABLE saying why, running calls left to end, then
// stopped with their kill policy so that a TERM handler's output and the
// exit still reach the client, SIGKILL by the end of --shutdown-grace, a
// second SIGTERM that stops at once, and a rolling restart that loses no
// call.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <atomic>
#include <thread>

#include "client/child_session.h"
#include "client/connection.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/e2e/rexecd_process.h"

namespace rexec::testing {
namespace {

using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;

// The health service's answer for `service` at `address`, or the error.
std::string Health(const std::string& address, const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(client::Connect(address));
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline(absl::Seconds(10)));
  HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  grpc::Status status = stub->Check(&ctx, request, &response);
  if (!status.ok()) return "error " + std::to_string(status.error_code());
  return HealthCheckResponse::ServingStatus_Name(response.status());
}

v1::SpawnStart Shell(const std::string& script,
                     absl::Duration kill_grace = absl::Seconds(1)) {
  v1::SpawnStart start;
  start.add_argv("sh");
  start.add_argv("-c");
  start.add_argv(script);
  start.mutable_options()->mutable_kill_grace()->set_seconds(
      absl::ToInt64Seconds(kill_grace));
  return start;
}

// One call read to its end on a thread of its own.
struct Outcome {
  std::string out;
  std::optional<v1::ExitStatus> exit;
  grpc::Status status;
};

class RunningCall {
 public:
  RunningCall(v1::ChildProcess::Stub& stub, const v1::SpawnStart& start)
      : session_(stub, start, absl::Now() + absl::Seconds(60)) {
    session_.WritesDone();
    thread_ = std::thread([this] {
      v1::SpawnResponse r;
      while (session_.Read(&r)) {
        if (r.has_started()) started_ = true;
        if (r.has_stdout()) {
          outcome_.out += r.stdout();
          printed_ = true;
        }
        if (r.has_exit()) outcome_.exit = r.exit();
      }
      outcome_.status = session_.Finish();
    });
  }
  ~RunningCall() {
    if (thread_.joinable()) thread_.join();
  }
  bool started() const { return started_; }
  // Some stdout came: the script is past what it did before its first echo.
  bool printed() const { return printed_; }
  const Outcome& Wait() {
    thread_.join();
    return outcome_;
  }

 private:
  client::SpawnSession session_;
  std::atomic<bool> started_{false};
  std::atomic<bool> printed_{false};
  Outcome outcome_;
  std::thread thread_;
};

bool ExitedZero(const process::ExitStatus& status) {
  return status.exited() && status.code() == 0;
}

TEST(DrainTest, RunningCallsEndOnTheirOwnAndNewOnesAreRefused) {
  auto server = RexecdProcess::Start(
      {"--shutdown-grace", "20s", "--health-listen", "127.0.0.1:0"});
  ASSERT_NE(server, nullptr);
  const std::string health = server->LoggedAddress("health service on ");
  for (const std::string& address : {server->address(), health}) {
    EXPECT_EQ(Health(address, ""), "SERVING");
    EXPECT_EQ(Health(address, "rexec.v1.ChildProcess"), "SERVING");
  }
  // Ends on its own once the checks below are done (the file is there),
  // well before its stop would come.
  TempDir dir;
  const std::string done = dir.path() + "/checked";
  RunningCall call(server->stub(),
                   Shell("echo begun; while [ ! -e " + done +
                         " ]; do sleep 0.05; done; echo finished; exit 3"));
  ASSERT_TRUE(Eventually([&] { return call.started(); }));

  kill(server->pid(), SIGTERM);
  server->WaitForLogLine("draining");
  for (const std::string& address : {server->address(), health}) {
    EXPECT_EQ(Health(address, ""), "NOT_SERVING") << address;
    EXPECT_EQ(Health(address, "rexec.v1.ChildProcess"), "NOT_SERVING");
  }
  // A new call: refused, with the reason, and nothing runs.
  client::SpawnSession late(server->stub(), Shell("echo 7101"),
                            absl::Now() + absl::Seconds(20));
  v1::SpawnResponse r;
  while (late.Read(&r)) EXPECT_FALSE(r.has_started());
  grpc::Status refused = late.Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(refused.error_message(), HasSubstr("draining"));

  dir.Write("checked", "");
  const Outcome& outcome = call.Wait();
  EXPECT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  EXPECT_EQ(outcome.out, "begun\nfinished\n");
  ASSERT_TRUE(outcome.exit.has_value());
  EXPECT_EQ(outcome.exit->code(), 3);
  EXPECT_EQ(outcome.exit->reason(), v1::TERMINATION_REASON_EXITED);
  // It ends as soon as the last call did, not at the end of the grace.
  absl::Time ended = absl::Now();
  process::ExitStatus exit = server->WaitForExit();
  EXPECT_TRUE(ExitedZero(exit)) << exit.ToString();
  EXPECT_LT(absl::Now() - ended, absl::Seconds(8));
}

TEST(DrainTest, AStoppedChildsTermHandlerOutputAndExitReachTheClient) {
  // kill_grace 3 s of a 4 s grace: the stop comes 1 s into the drain.
  auto server = RexecdProcess::Start({"--shutdown-grace", "4s"});
  ASSERT_NE(server, nullptr);
  RunningCall call(
      server->stub(),
      Shell("trap 'echo got TERM; sleep 0.3; echo cleaned up; exit 7' TERM; "
            "echo ready; while :; do sleep 0.1; done",
            absl::Seconds(3)));
  ASSERT_TRUE(Eventually([&] { return call.printed(); }));  // trap set
  const absl::Time sent = absl::Now();
  kill(server->pid(), SIGTERM);
  const Outcome& outcome = call.Wait();
  EXPECT_GE(absl::Now() - sent, absl::Milliseconds(800))
      << "stopped before only its kill_grace was left";
  EXPECT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  EXPECT_EQ(outcome.out, "ready\ngot TERM\ncleaned up\n");
  ASSERT_TRUE(outcome.exit.has_value());
  EXPECT_EQ(outcome.exit->code(), 7);
  EXPECT_EQ(outcome.exit->reason(), v1::TERMINATION_REASON_SERVER_SHUTDOWN);
  EXPECT_TRUE(ExitedZero(server->WaitForExit()));
}

TEST(DrainTest, WhatIgnoresTermIsKilledByTheEndOfTheGrace) {
  // kill_grace 30 s, more than the whole grace: stopped at once, and its
  // kill_grace cut to the 2 s left.
  auto server = RexecdProcess::Start({"--shutdown-grace", "2s"});
  ASSERT_NE(server, nullptr);
  RunningCall call(server->stub(),
                   Shell("trap '' TERM; echo ready; while :; do sleep 0.1; "
                         "done",
                         absl::Seconds(30)));
  ASSERT_TRUE(Eventually([&] { return call.printed(); }));  // trap set
  const absl::Time sent = absl::Now();
  kill(server->pid(), SIGTERM);
  const Outcome& outcome = call.Wait();
  EXPECT_LT(absl::Now() - sent, absl::Seconds(6));
  ASSERT_TRUE(outcome.exit.has_value()) << outcome.status.error_message();
  EXPECT_EQ(outcome.exit->signal(), "SIGKILL");
  EXPECT_EQ(outcome.exit->reason(), v1::TERMINATION_REASON_SERVER_SHUTDOWN);
  EXPECT_TRUE(ExitedZero(server->WaitForExit()));
}

TEST(DrainTest, ASecondSigtermStopsAtOnce) {
  auto server = RexecdProcess::Start({"--shutdown-grace", "60s"});
  ASSERT_NE(server, nullptr);
  RunningCall call(server->stub(), Shell("sleep 7102", absl::Seconds(30)));
  ASSERT_TRUE(Eventually([&] { return call.started(); }));
  kill(server->pid(), SIGTERM);
  server->WaitForLogLine("draining");
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_FALSE(ProcessesWithArg("7102").empty()) << "the drain stopped it";
  const absl::Time sent = absl::Now();
  kill(server->pid(), SIGTERM);
  const Outcome& outcome = call.Wait();
  ASSERT_TRUE(outcome.exit.has_value()) << outcome.status.error_message();
  EXPECT_EQ(outcome.exit->signal(), "SIGKILL");
  EXPECT_EQ(outcome.exit->reason(), v1::TERMINATION_REASON_SERVER_SHUTDOWN);
  EXPECT_TRUE(ExitedZero(server->WaitForExit()));
  EXPECT_LT(absl::Now() - sent, absl::Seconds(10));
  EXPECT_TRUE(ProcessesWithArg("7102").empty());
}

TEST(DrainTest, ACallOpenedBeforeTheDrainCannotStartAChildAfterIt) {
  auto server = RexecdProcess::Start({"--shutdown-grace", "20s"});
  ASSERT_NE(server, nullptr);
  // Keeps the drain going while the early call waits.
  RunningCall busy(server->stub(), Shell("sleep 3", absl::Seconds(1)));
  ASSERT_TRUE(Eventually([&] { return busy.started(); }));
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline(absl::Seconds(30)));
  auto early = server->stub().Spawn(&ctx);
  absl::SleepFor(absl::Milliseconds(300));  // the call has arrived
  kill(server->pid(), SIGTERM);
  server->WaitForLogLine("draining");
  v1::SpawnRequest start;
  *start.mutable_start() = Shell("echo 7103; sleep 7103");
  early->Write(start);
  early->WritesDone();
  v1::SpawnResponse r;
  while (early->Read(&r)) EXPECT_FALSE(r.has_started());
  grpc::Status status = early->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("draining"));
  EXPECT_TRUE(ProcessesWithArg("7103").empty());
  busy.Wait();
  EXPECT_TRUE(ExitedZero(server->WaitForExit()));
}

TEST(DrainTest, ARollingRestartUnderLoadLosesNoCall) {
  // Clients keep calling; the server is stopped and a new one takes over,
  // as a Deployment's rollout does. Every call the old server took must
  // finish there with its output; every call it refused is retried on the
  // new one and finishes there.
  auto old_server = RexecdProcess::Start({"--shutdown-grace", "10s"});
  ASSERT_NE(old_server, nullptr);
  std::unique_ptr<RexecdProcess> new_server;
  std::atomic<RexecdProcess*> target{old_server.get()};
  std::atomic<int> finished{0}, retried{0}, lost{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < 60 && !stop; ++i) {
        const std::string word =
            "call-" + std::to_string(c) + "-" + std::to_string(i);
        for (int attempt = 0; attempt < 50; ++attempt) {
          RexecdProcess* server = target.load();
          client::SpawnSession session(server->stub(),
                                       Shell("sleep 0.3; echo " + word),
                                       absl::Now() + absl::Seconds(30));
          session.WritesDone();
          v1::SpawnResponse r;
          std::string out;
          std::optional<v1::ExitStatus> exit;
          bool started = false;
          while (session.Read(&r)) {
            started |= r.has_started();
            out += r.stdout();
            if (r.has_exit()) exit = r.exit();
          }
          grpc::Status status = session.Finish();
          // Refused (UNAVAILABLE), or come as the old server shut down
          // (gRPC cancels a call it had not handed over yet): without
          // `started`, nothing ran, and the call is tried again.
          if ((status.error_code() == grpc::StatusCode::UNAVAILABLE ||
               status.error_code() == grpc::StatusCode::CANCELLED) &&
              !started) {
            ++retried;
            absl::SleepFor(absl::Milliseconds(50));
            continue;
          }
          if (status.ok() && exit && exit->code() == 0 && out == word + "\n") {
            ++finished;
          } else {
            ++lost;
            ADD_FAILURE() << word << ": " << status.error_message() << " "
                          << (exit ? exit->DebugString() : "no exit")
                          << " out=" << out;
          }
          break;
        }
      }
    });
  }
  ASSERT_TRUE(Eventually([&] { return finished >= 8; }));
  kill(old_server->pid(), SIGTERM);
  old_server->WaitForLogLine("draining");
  // Clients keep coming to the old server for a while (an endpoint is
  // removed some time after readiness fails).
  absl::SleepFor(absl::Seconds(1));
  new_server = RexecdProcess::Start();
  ASSERT_NE(new_server, nullptr);
  target = new_server.get();
  EXPECT_TRUE(ExitedZero(old_server->WaitForExit()));
  const int at_switch = finished;
  ASSERT_TRUE(Eventually([&] { return finished >= at_switch + 8; }));
  stop = true;
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(lost, 0);
  EXPECT_GT(retried, 0) << "no call met the drain: the test tested nothing";
  target = nullptr;
}

}  // namespace
}  // namespace rexec::testing
