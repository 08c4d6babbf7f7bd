// rexecd as a server: bad input, limits, health, reflection, lifecycle.
#include <grpcpp/generic/generic_stub.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/child_session.h"
#include "client/connection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/child_io.h"
#include "tests/e2e/raw_call.h"
#include "tests/e2e/rexecd_process.h"
#include "tests/test_paths.h"

namespace rexec::testing {
namespace {

using ::testing::HasSubstr;
using v1::SpawnRequest;
using v1::SpawnResponse;

struct Ended {
  grpc::StatusCode code;
  std::string message;
};

Ended Send(RexecdProcess& server, std::vector<SpawnRequest> requests,
           bool half_close = true) {
  auto outcome = RawCall<SpawnRequest>(server.stub(), requests, half_close);
  return {outcome.status.error_code(), outcome.status.error_message()};
}

SpawnRequest StartOf(std::vector<std::string> argv) {
  SpawnRequest r;
  r.mutable_start();
  for (auto& a : argv) r.mutable_start()->add_argv(a);
  return r;
}

SpawnRequest Stdin(std::string data) {
  SpawnRequest r;
  r.set_stdin(std::move(data));
  return r;
}

class ServerTest : public RexecdTest {};

TEST_F(ServerTest, FirstMessageMustBeStart) {
  Ended e = Send(*server_, {Stdin("x")});
  EXPECT_EQ(e.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(e.message, "the first message must be start, got stdin");
  e = Send(*server_, {});
  EXPECT_EQ(e.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(e.message, "the request stream ended before the start message");
}

TEST_F(ServerTest, SecondStartEndsTheCallAndStopsTheChild) {
  Ended e =
      Send(*server_, {StartOf({"sleep", "305"}), StartOf({"true"})}, false);
  EXPECT_EQ(e.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(e.message, HasSubstr("start was sent twice"));
  EXPECT_TRUE(Eventually([] { return ProcessesWithArg("305").empty(); }));
}

TEST_F(ServerTest, EmptyMessageMidStreamEndsTheCallAndStopsTheChild) {
  Ended e = Send(*server_, {StartOf({"sleep", "306"}), SpawnRequest()}, false);
  EXPECT_EQ(e.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(e.message, HasSubstr("empty request message"));
  EXPECT_TRUE(Eventually([] { return ProcessesWithArg("306").empty(); }));
}

TEST_F(ServerTest, UnknownSignalEndsTheCallAndStopsTheChild) {
  SpawnRequest sig;
  sig.mutable_signal()->set_name("SIGBOGUS");
  Ended e = Send(*server_, {StartOf({"sleep", "307"}), sig}, false);
  EXPECT_EQ(e.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(e.message, "signal: unknown signal name \"SIGBOGUS\"");
  EXPECT_TRUE(Eventually([] { return ProcessesWithArg("307").empty(); }));
}

TEST_F(ServerTest, BadStartsGetTheirStatus) {
  struct Case {
    SpawnRequest start;
    grpc::StatusCode code;
    std::string message;
  };
  std::vector<Case> cases;
  cases.push_back({StartOf({}), grpc::StatusCode::INVALID_ARGUMENT,
                   "argv is empty: argv[0] must name the program"});
  cases.push_back({StartOf({"echo", std::string("a\0b", 3)}),
                   grpc::StatusCode::INVALID_ARGUMENT,
                   "argv[1] contains a NUL byte"});
  SpawnRequest bad_env = StartOf({"true"});
  (*bad_env.mutable_start()->mutable_options()->mutable_env())["A=B"] = "1";
  cases.push_back(
      {bad_env, grpc::StatusCode::INVALID_ARGUMENT,
       "env name \"A=B\" is invalid: it must be non-empty without '=' or NUL"});
  SpawnRequest bad_kill = StartOf({"true"});
  bad_kill.mutable_start()->mutable_options()->set_kill_signal("NOPE");
  cases.push_back({bad_kill, grpc::StatusCode::INVALID_ARGUMENT,
                   "options.kill_signal: unknown signal name \"NOPE\""});
  SpawnRequest bad_timeout = StartOf({"true"});
  bad_timeout.mutable_start()
      ->mutable_options()
      ->mutable_timeout()
      ->set_seconds(-1);
  cases.push_back({bad_timeout, grpc::StatusCode::INVALID_ARGUMENT,
                   "options.timeout is invalid: -1s 0ns (it must be a "
                   "non-negative duration)"});
  cases.push_back({StartOf({"nosuchprog"}), grpc::StatusCode::NOT_FOUND,
                   "spawn nosuchprog: not found in PATH (ENOENT)"});
  SpawnRequest bad_cwd = StartOf({"true"});
  bad_cwd.mutable_start()->mutable_options()->set_cwd("/no/such/dir");
  cases.push_back(
      {bad_cwd, grpc::StatusCode::NOT_FOUND,
       "spawn true: cwd /no/such/dir: No such file or directory (ENOENT)"});
  char not_executable[] = "/tmp/rexec-noexec-XXXXXX";
  close(mkstemp(not_executable));  // mode 0600: no execute bit, even for root
  cases.push_back({StartOf({not_executable}),
                   grpc::StatusCode::PERMISSION_DENIED,
                   std::string("spawn ") + not_executable +
                       ": Permission denied (EACCES)"});
  char not_a_program[] = "/tmp/rexec-text-XXXXXX";
  int text_fd = mkstemp(not_a_program);
  const std::string text = "\x01\x02 not a program";
  (void)!write(text_fd, text.data(), text.size());
  fchmod(text_fd, 0755);
  close(text_fd);
  cases.push_back({StartOf({not_a_program}),
                   grpc::StatusCode::FAILED_PRECONDITION,
                   std::string("spawn ") + not_a_program +
                       ": Exec format error (ENOEXEC)"});
  for (Case& c : cases) {
    Ended e = Send(*server_, {c.start});
    EXPECT_EQ(e.code, c.code) << c.message;
    EXPECT_EQ(e.message, c.message);
  }
  unlink(not_executable);
  unlink(not_a_program);
  // Nothing else was disturbed.
  Ended ok = Send(*server_, {StartOf({"true"})});
  EXPECT_EQ(ok.code, grpc::StatusCode::OK);
}

// Calls a unary method by name with hand-encoded bytes, to check the
// standard services without their generated stubs.
std::string RawCall(const std::string& address, const std::string& method,
                    const std::string& request, bool streaming) {
  auto channel = client::Connect(address);
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(&ctx, method, &cq);
  void* tag;
  bool ok;
  call->StartCall(reinterpret_cast<void*>(1));
  cq.Next(&tag, &ok);
  grpc::Slice slice(request);
  grpc::ByteBuffer buffer(&slice, 1);
  call->Write(buffer, reinterpret_cast<void*>(2));
  cq.Next(&tag, &ok);
  if (streaming) {
    call->WritesDone(reinterpret_cast<void*>(5));
    cq.Next(&tag, &ok);
  }
  grpc::ByteBuffer reply;
  call->Read(&reply, reinterpret_cast<void*>(3));
  cq.Next(&tag, &ok);
  std::vector<grpc::Slice> slices;
  std::string out;
  if (ok && reply.Dump(&slices).ok()) {
    for (auto& s : slices)
      out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(4));
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return out;
}

TEST_F(ServerTest, ServesHealthAndReflection) {
  // HealthCheckRequest{} -> HealthCheckResponse{status: SERVING (1)}.
  EXPECT_EQ(
      RawCall(server_->address(), "/grpc.health.v1.Health/Check", "", false),
      std::string("\x08\x01", 2));
  // ServerReflectionRequest{list_services: ""}.
  std::string reply =
      RawCall(server_->address(),
              "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
              std::string("\x3a\x00", 2), true);
  EXPECT_THAT(reply, HasSubstr("rexec.v1.ChildProcess"));
}

TEST(ServerLimits, MaxProcessesGivesResourceExhaustedAndServiceGoesOn) {
  auto server = RexecdProcess::Start({"--max-processes", "1"});
  ASSERT_NE(server, nullptr);
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  auto first = server->stub().Spawn(&ctx);
  first->Write(StartOf({"sleep", "308"}));
  SpawnResponse started;
  ASSERT_TRUE(first->Read(&started));
  Ended e = Send(*server, {StartOf({"true"})});
  EXPECT_EQ(e.code, grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(
      e.message,
      "spawn true: the server runs its limit of 1 processes (--max-processes)");
  ctx.TryCancel();
  first->Finish().IgnoreError();
  // The slot comes back once the child is reaped.
  EXPECT_TRUE(Eventually([&] {
    return Send(*server, {StartOf({"true"})}).code == grpc::StatusCode::OK;
  }));
}

TEST(ServerLifecycle, SigtermStopsRunningChildrenAndExitsZero) {
  auto server = RexecdProcess::Start();
  ASSERT_NE(server, nullptr);
  std::vector<std::unique_ptr<client::SpawnSession>> sessions;
  v1::SpawnStart start;
  start.add_argv("sleep");
  start.add_argv("309");
  for (int i = 0; i < 5; ++i) {
    sessions.push_back(std::make_unique<client::SpawnSession>(
        server->stub(), start, absl::Now() + absl::Seconds(60)));
    SpawnResponse r;
    ASSERT_TRUE(sessions.back()->Read(&r));
  }
  ASSERT_TRUE(Eventually([] { return ProcessesWithArg("309").size() == 5; }));
  process::ExitStatus status = server->Terminate();
  EXPECT_TRUE(status.exited());
  EXPECT_EQ(status.code(), 0);
  EXPECT_TRUE(ProcessesWithArg("309").empty());
  // Each got its exit, stopped by the drain.
  for (auto& s : sessions) {
    SpawnResponse r;
    std::optional<v1::ExitStatus> exit;
    while (s->Read(&r)) {
      if (r.has_exit()) exit = r.exit();
    }
    EXPECT_TRUE(s->Finish().ok());
    ASSERT_TRUE(exit.has_value());
    EXPECT_EQ(exit->reason(), v1::TERMINATION_REASON_SERVER_SHUTDOWN);
  }
}

// The main thread waits for signals, file changes and the launcher's end,
// and wakes for nothing else: not once per child's exit (a signalfd it
// polled was woken by every SIGCHLD), a thread switch each spawn. It still
// hears a signal: SIGTERM ends the server.
TEST(ServerLifecycle, TheMainThreadSleepsThroughTheChildrensExits) {
  auto server = RexecdProcess::Start();
  ASSERT_NE(server, nullptr);
  v1::SpawnStart start;
  start.add_argv("true");
  const auto spawn = [&] {
    client::SpawnSession session(server->stub(), start,
                                 absl::Now() + absl::Seconds(20));
    session.WritesDone();
    SpawnResponse r;
    while (session.Read(&r)) {
    }
    EXPECT_TRUE(session.Finish().ok());
  };
  spawn();  // the first call's own set-up
  const int64_t before = server->MainThreadWakeups();
  ASSERT_GE(before, 0);
  constexpr int kSpawns = 40;
  for (int i = 0; i < kSpawns; ++i) spawn();
  const int64_t after = server->MainThreadWakeups();
  ASSERT_GE(after, before);
  const int64_t woken = after - before;
  EXPECT_LT(woken, kSpawns / 4) << "rexecd's main thread woke " << woken
                                << " times for " << kSpawns << " spawns";
  process::ExitStatus status = server->Terminate();
  EXPECT_TRUE(status.exited());
  EXPECT_EQ(status.code(), 0);
}

TEST(ServerLifecycle, BusyAddressFailsWithAClearMessage) {
  auto server = RexecdProcess::Start();
  ASSERT_NE(server, nullptr);
  process::SpawnOptions options;
  options.argv = {RexecdPath(), "--insecure", "--listen", server->address()};
  absl::StatusOr<process::Child> second = process::Child::Spawn(options);
  ASSERT_TRUE(second.ok());
  Result r = RunChild(*second);
  EXPECT_EQ(r.status.code(), 1);
  EXPECT_THAT(r.err,
              HasSubstr("rexecd: cannot listen on " + server->address()));
}

TEST(ServerLifecycle, BadFlagsAreRejected) {
  process::SpawnOptions options;
  options.argv = {RexecdPath(), "--drain-timeout", "soon"};
  absl::StatusOr<process::Child> bad = process::Child::Spawn(options);
  ASSERT_TRUE(bad.ok());
  Result r = RunChild(*bad);
  EXPECT_NE(r.status.code(), 0);
  EXPECT_THAT(r.err, HasSubstr("\"soon\" is not a duration"));
}

}  // namespace
}  // namespace rexec::testing
