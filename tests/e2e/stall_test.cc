// No client can stall the server: each probe that once froze a worker,
// held a shutdown, locked out other clients or slipped past an error, tried
// again, and the server shown to go on serving.
#include <arpa/inet.h>
#include <grpcpp/generic/generic_stub.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/child_session.h"
#include "client/connection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/raw_call.h"
#include "tests/e2e/rexecd_process.h"
#include "tests/test_paths.h"

namespace rexec::testing {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

// `echo ok` with a deadline: the server still serves.
bool ServesInTime(RexecdProcess& server,
                  absl::Duration deadline = absl::Seconds(10)) {
  v1::SpawnStart start;
  start.add_argv("echo");
  start.add_argv("ok");
  client::SpawnSession call(server.stub(), start, absl::Now() + deadline);
  call.WritesDone();
  v1::SpawnResponse response;
  std::string out;
  while (call.Read(&response)) out += response.stdout();
  return call.Finish().ok() && out == "ok\n";
}

TEST(Stall, ADeeplyNestedChannelMessageDoesNotFreezeTheOnlyWorker) {
  auto server = RexecdProcess::Start({"--workers", "1"});
  ASSERT_NE(server, nullptr);
  // The probe: 100,000 '[' on the channel, then a newline.
  v1::ForkRequest start;
  start.mutable_start()->set_module("probe");
  start.mutable_start()->set_exec_path("/bin/sh");
  start.mutable_start()->add_exec_argv("-c");
  start.mutable_start()->add_exec_argv(
      "head -c 100000 /dev/zero | tr '\\0' '[' >&3; echo >&3; exec sleep 325");
  RawOutcome<v1::ForkRequest> o =
      RawCall<v1::ForkRequest>(server->stub(), {start}, false);
  EXPECT_EQ(o.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(o.status.error_message(),
            "the child sent a message at byte offset 0 of the IPC channel is "
            "nested deeper than 32 levels");
  EXPECT_TRUE(ServesInTime(*server));
  EXPECT_TRUE(Eventually([] { return ProcessesWithArg("325").empty(); }));
}

// The most memory the process ever held (VmHWM), in bytes.
int64_t PeakRss(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return -1;
}

TEST(Stall, HandlesSentToAChildThatDoesNotReadAreNotQueuedWithoutEnd) {
  // Each NODE_HANDLE is answered with a NACK; while the channel is busy
  // (the child does not read it), answers are owed. They used to be owed
  // without bound, and written in one piece when the child read again:
  // 8 million handles grew the server by 250 MB.
  auto server = RexecdProcess::Start();
  ASSERT_NE(server, nullptr);
  v1::ForkStart start;
  start.set_module("handles");
  start.set_exec_path("/bin/sh");
  start.add_exec_argv("-c");
  start.add_exec_argv(
      "yes '{\"cmd\":\"NODE_HANDLE\"}' | head -n 2000000 >&3; "
      "exec cat <&3 >/dev/null");
  client::ForkSession call(server->stub(), start,
                           absl::Now() + absl::Seconds(60));
  v1::ForkResponse response;
  ASSERT_TRUE(call.Read(&response));  // started
  const int64_t peak_before = PeakRss(server->server_pid());
  absl::SleepFor(absl::Seconds(3));  // the child sends, then reads
  const int64_t growth = PeakRss(server->server_pid()) - peak_before;
  if (!kSanitized) {
    EXPECT_LT(growth, 16 << 20) << "server peak RSS grew by " << growth;
  }
  call.Cancel();
}

TEST(Stall, KillGraceIsCappedByTheServer) {
  auto server = RexecdProcess::Start({"--max-kill-grace", "2s"});
  ASSERT_NE(server, nullptr);
  CliResult r = RunRexec({"--server", server->address(), "spawn",
                          "--kill-grace", "100000s", "--", "true"});
  EXPECT_EQ(r.code, 255);
  EXPECT_THAT(r.err, HasSubstr("rexec: INVALID_ARGUMENT: options.kill_grace "
                               "is 27h46m40s, over this server's limit of "
                               "2s (--max-kill-grace)"));
}

TEST(Stall, ASecondSigtermStopsAChildThatIgnoresTheFirst) {
  auto server = RexecdProcess::Start({"--shutdown-grace", "60s"});
  ASSERT_NE(server, nullptr);
  v1::SpawnStart start;
  start.add_argv(HelperPath());
  start.add_argv("ignore-term");
  start.add_argv("marker-326");
  start.mutable_options()->mutable_kill_grace()->set_seconds(60);
  client::SpawnSession call(server->stub(), start,
                            absl::Now() + absl::Seconds(120));
  v1::SpawnResponse response;
  ASSERT_TRUE(call.Read(&response));  // started
  ASSERT_TRUE(call.Read(&response));  // "ready": SIGTERM is ignored now
  kill(server->pid(), SIGTERM);
  server->WaitForLogLine("SIGTERM: draining");
  EXPECT_FALSE(ProcessesWithArg("marker-326").empty());
  kill(server->pid(), SIGTERM);
  EXPECT_THAT(server->WaitForLogLine("SIGTERM again"),
              HasSubstr("killed 1 process groups with SIGKILL"));
  EXPECT_TRUE(Eventually([] { return ProcessesWithArg("marker-326").empty(); },
                         absl::Seconds(10)));
  // The server is gone too, well before the 60 s grace: the fixture's
  // SIGTERM finds it exited 0.
  server->WaitForLogLine("stopped", absl::Seconds(10));
}

TEST(Stall, AStopEndsWhenOnlyZombiesAreLeft) {
  auto server = RexecdProcess::Start();
  ASSERT_NE(server, nullptr);
  v1::SpawnStart start;
  start.add_argv("sh");
  start.add_argv("-c");
  start.add_argv("sleep 327 & sleep 328");
  start.mutable_options()->mutable_kill_grace()->set_seconds(60);
  auto call = std::make_unique<client::SpawnSession>(
      server->stub(), start, absl::Now() + absl::Seconds(60));
  v1::SpawnResponse response;
  ASSERT_TRUE(call->Read(&response));
  ASSERT_TRUE(Eventually([] { return !ProcessesWithArg("327").empty(); }));
  call->Cancel();
  // The call's record is written when its runner is done: after the whole
  // 60 s grace if the stop waited for it, at once if it saw the group empty.
  EXPECT_THAT(server->WaitForLogLine("reason=CLIENT_GONE", absl::Seconds(15)),
              HasSubstr("sleep 327 & sleep 328"));
  EXPECT_TRUE(ProcessesWithArg("327").empty());
}

// Sends raw frames on a Spawn stream, to get bytes no client would send to
// the server, and reads it to its end.
grpc::Status RawFrames(const std::string& address,
                       const std::vector<std::string>& frames) {
  auto channel = client::Connect(address);
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline(absl::Seconds(30)));
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(&ctx, "/rexec.v1.ChildProcess/Spawn", &cq);
  void* tag;
  bool ok;
  call->StartCall(reinterpret_cast<void*>(1));
  cq.Next(&tag, &ok);
  for (const std::string& frame : frames) {
    grpc::Slice slice(frame);
    grpc::ByteBuffer buffer(&slice, 1);
    call->Write(buffer, reinterpret_cast<void*>(2));
    cq.Next(&tag, &ok);
  }
  grpc::ByteBuffer reply;
  do {
    call->Read(&reply, reinterpret_cast<void*>(3));
    cq.Next(&tag, &ok);
  } while (ok);
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(4));
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return status;
}

TEST(Stall, AMalformedFrameEndsTheCallWithAnErrorNamingIt) {
  auto server = RexecdProcess::Start();
  ASSERT_NE(server, nullptr);
  v1::SpawnRequest start;
  start.mutable_start()->add_argv("sleep");
  start.mutable_start()->add_argv("329");
  v1::SpawnRequest bad_text;
  bad_text.mutable_signal()->set_name("INT\xff");
  struct Case {
    std::string frame, error;
  };
  for (const Case& c : std::vector<Case>{
           {"\xff\xff\xff\xff garbage",
            "request 2 is not a valid rexec.v1.SpawnRequest: the bytes are not "
            "protobuf wire format"},
           {bad_text.SerializePartialAsString(),
            "request 2 is not a valid rexec.v1.SpawnRequest: String field "
            "'rexec.v1.Signal.name' contains invalid UTF-8 data"}}) {
    grpc::Status status =
        RawFrames(server->address(), {start.SerializeAsString(), c.frame});
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(status.error_message(), c.error);
    EXPECT_TRUE(Eventually([] { return ProcessesWithArg("329").empty(); }));
  }
  EXPECT_THAT(server->WaitForLogLine("reason=CALL_FAILED"),
              HasSubstr("status=INVALID_ARGUMENT"));
}

TEST(Stall, ACallThatNeverStartsIsEnded) {
  auto server = RexecdProcess::Start({"--start-timeout", "1s"});
  ASSERT_NE(server, nullptr);
  RawOutcome<v1::SpawnRequest> o =
      RawCall<v1::SpawnRequest>(server->stub(), {}, false);
  EXPECT_EQ(o.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(o.status.error_message(),
            "no start message within 1s of the call (--start-timeout)");
}


// On the API port and the health port alike, gRPC's own or behind the
// front: a connection that says nothing, or only the preface, is closed.
class SilentConnections : public ::testing::TestWithParam<bool> {};

TEST_P(SilentConnections, AreClosedOnEveryPort) {
  std::vector<std::string> flags = {"--handshake-timeout", "1s",
                                    "--max-connection-idle", "1s",
                                    "--health-listen", "127.0.0.1:0"};
  if (GetParam()) flags.insert(flags.end(), {"--front", "haproxy"});
  auto server = RexecdProcess::Start(flags);
  ASSERT_NE(server, nullptr);
  const std::string health = server->LoggedAddress("health service on ");
  for (const std::string& address : {server->address(), health}) {
    int silent = ConnectTcp(address);
    int preface_only = ConnectTcp(address);
    const std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    ASSERT_EQ(write(preface_only, preface.data(), preface.size()),
              static_cast<ssize_t>(preface.size()));
    EXPECT_TRUE(ClosedByServer(silent, absl::Seconds(15))) << address;
    EXPECT_TRUE(ClosedByServer(preface_only, absl::Seconds(15))) << address;
    close(silent);
    close(preface_only);
  }
  EXPECT_TRUE(ServesInTime(*server));
  // A call that is silent for longer is a call, not a silent connection.
  CliResult quiet = RunRexec({"--server", server->address(), "spawn", "--",
                              "sh", "-c", "sleep 3; echo still"});
  EXPECT_EQ(quiet.out, "still\n") << quiet.err;
}

INSTANTIATE_TEST_SUITE_P(GrpcOrFront, SilentConnections, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "BehindHaproxy" : "Grpc";
                         });

TEST(Stall, AConnectionHoldsAtMostItsStreams) {
  auto server = RexecdProcess::Start({"--max-streams-per-connection", "2"});
  ASSERT_NE(server, nullptr);
  auto sleeper = [&] {
    v1::SpawnStart start;
    start.add_argv("sleep");
    start.add_argv("338");
    return std::make_unique<client::SpawnSession>(
        server->stub(), start, absl::Now() + absl::Seconds(60));
  };
  auto first = sleeper();
  auto second = sleeper();
  v1::SpawnResponse response;
  ASSERT_TRUE(first->Read(&response));
  ASSERT_TRUE(second->Read(&response));
  // The third waits for a stream of the same connection: it is not served.
  EXPECT_FALSE(ServesInTime(*server, absl::Seconds(2)));
  first->Cancel();
  EXPECT_TRUE(ServesInTime(*server));
  second->Cancel();
}

// The peer (the client's address and port) of the call whose argv has
// `marker`, from its audit record.
std::string PeerOf(RexecdProcess& server, const std::string& marker) {
  std::string line = server.WaitForLogLine("\"" + marker + "\"");
  size_t at = line.find("peer=\"");
  if (at == std::string::npos) return "";
  at += 6;
  return line.substr(at, line.find('"', at) - at);
}

TEST(Stall, AnOldConnectionTakesNoNewCallsAndKeepsItsRunningOnes) {
  auto server = RexecdProcess::Start({"--max-connection-age", "1s"});
  ASSERT_NE(server, nullptr);
  v1::SpawnStart start;
  start.add_argv("cat");
  start.add_argv("-");
  start.add_argv("age-running");
  client::SpawnSession running(server->stub(), start,
                               absl::Now() + absl::Seconds(60));
  v1::SpawnResponse response;
  ASSERT_TRUE(running.Read(&response));  // started
  auto echo = [&](int i) {
    v1::SpawnRequest request;
    request.mutable_start()->add_argv("echo");
    request.mutable_start()->add_argv(absl::StrCat("age-", i));
    RawCall<v1::SpawnRequest>(server->stub(), {request});
    return PeerOf(*server, absl::StrCat("age-", i));
  };
  const std::string first = echo(0);
  ASSERT_FALSE(first.empty());
  // Calls on the same channel move to a new connection once the old one
  // is past its age; without an age they would stay on it for ever.
  int i = 1;
  EXPECT_TRUE(Eventually([&] { return echo(i++) != first; }));
  // The call that was running on the old connection goes on.
  ASSERT_TRUE(running.WriteStdin("still here\n"));
  ASSERT_TRUE(running.Read(&response));
  EXPECT_EQ(response.stdout(), "still here\n");
  running.WritesDone();
  while (running.Read(&response)) {
  }
  EXPECT_TRUE(running.Finish().ok());
}

TEST(Stall, AClientThatStopsAnsweringIsDroppedAndItsChildStopped) {
  auto server = RexecdProcess::Start(
      {"--keepalive-time", "1s", "--keepalive-timeout", "1s"});
  ASSERT_NE(server, nullptr);
  process::SpawnOptions options;
  options.argv = {RexecPath(), "--server", server->address(), "spawn", "--",
                  "sleep",     "339"};
  absl::StatusOr<process::Child> cli = process::Child::Spawn(options);
  ASSERT_TRUE(cli.ok());
  ASSERT_TRUE(Eventually([&] { return !ChildrenOf(server->server_pid()).empty(); }));
  // Frozen, its connection open: only the server's pings can tell.
  kill(cli->pid(), SIGSTOP);
  EXPECT_THAT(server->WaitForLogLine("\"339\"", absl::Seconds(30)),
              HasSubstr("reason=CLIENT_GONE"));
  EXPECT_TRUE(ChildrenOf(server->server_pid()).empty());
  kill(cli->pid(), SIGKILL);
}

TEST(Stall, ManySilentConnectionsDoNotLockOthersOut) {
  // A soft limit of 1,024 open files, as many hosts give: rexecd raises it
  // to the hard limit, or 1,100 idle connections would leave it no fd to
  // accept the next one (EMFILE) and every client locked out.
  auto server = RexecdProcess::Start(
      {}, {}, {"sh", "-c", "ulimit -Sn 1024 && exec \"$0\" \"$@\""});
  ASSERT_NE(server, nullptr);
  rlimit limit;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  limit.rlim_cur = limit.rlim_max;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &limit), 0);
  ASSERT_GE(limit.rlim_max, 2048u) << "this host allows too few fds to test";
  std::vector<int> idle;
  for (int i = 0; i < 1100; ++i) idle.push_back(ConnectTcp(server->address()));
  EXPECT_TRUE(Eventually([&] { return server->FdCount() > 1100; }));
  EXPECT_TRUE(ServesInTime(*server));
  for (int fd : idle) close(fd);
}

TEST(Stall, MaxProcessesMustFitTheFileLimit) {
  process::SpawnOptions options;
  options.argv = {
      "sh",         "-c",       "ulimit -n 512 && exec \"$0\" \"$@\"",
      RexecdPath(), "--listen", "127.0.0.1:0"};
  absl::StatusOr<process::Child> child = process::Child::Spawn(options);
  ASSERT_TRUE(child.ok());
  Result r = RunChild(*child);
  EXPECT_EQ(r.status.code(), 1);
  EXPECT_THAT(r.err,
              HasSubstr("rexecd: --max-processes 1024 needs about 4352 open "
                        "files, and this process may open at most 512 (the "
                        "RLIMIT_NOFILE hard limit)"));
  // Four fds a child (see CgroupTest.ARunningChildHoldsAtMostFourFds): a
  // hard limit of 20,000 holds 4,500 children.
  auto server = RexecdProcess::Start(
      {"--max-processes", "4500"}, {},
      {"sh", "-c", "ulimit -n 20000 && exec \"$0\" \"$@\""});
  EXPECT_NE(server, nullptr);
}

// A Fork holds five fds, one more than the start-up check counts on: the
// children are admitted by what each holds, so that a client with many
// Forks cannot take the fds the connections need (EMFILE for everyone).
TEST(Stall, ChildrenAreAdmittedByTheFdsTheyHold) {
  // 300 open files, less 256 for connections: room for 44 fds, as many as
  // 11 Spawns hold.
  auto server = RexecdProcess::Start(
      {"--max-processes", "11"}, {},
      {"sh", "-c", "ulimit -n 300 && exec \"$0\" \"$@\""});
  ASSERT_NE(server, nullptr);
  v1::ForkStart fork;
  fork.set_module("fds");
  fork.set_exec_path("/bin/sh");
  fork.add_exec_argv("-c");
  fork.add_exec_argv("exec cat");
  std::vector<std::unique_ptr<client::ForkSession>> forks;
  for (int i = 0; i < 8; ++i) {  // 40 fds
    forks.push_back(
        std::make_unique<client::ForkSession>(server->stub(), fork));
    v1::ForkResponse r;
    ASSERT_TRUE(forks.back()->Read(&r) && r.has_started()) << "fork " << i;
  }
  client::ForkSession refused(server->stub(), fork,
                             absl::Now() + absl::Seconds(10));
  v1::ForkResponse r;
  if (refused.Read(&r) && r.has_started()) {
    refused.Cancel();
    FAIL() << "a ninth Fork ran";
  }
  grpc::Status status = refused.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("the server's children hold 40 of the 44 file "
                        "descriptors its open-file limit (RLIMIT_NOFILE) "
                        "leaves them, and this one needs 5"));
  // A Spawn's four still fit; a new connection is served all the same.
  v1::SpawnStart spawn;
  spawn.add_argv("cat");
  client::SpawnSession fits(server->stub(), spawn);
  v1::SpawnResponse started;
  EXPECT_TRUE(fits.Read(&started) && started.has_started());
  CliResult health = RunRexec({"--server", server->address(), "health"});
  EXPECT_EQ(health.code, 0) << health.err;
  // What a child leaves is given back.
  fits.Cancel();
  EXPECT_FALSE(fits.Finish().ok());
  EXPECT_TRUE(Eventually([&] { return ServesInTime(*server); }));
  for (auto& f : forks) f->Cancel();
}

TEST(Stall, ExecBuffersTogetherAreCapped) {
  auto server = RexecdProcess::Start({"--max-exec-memory", "3MiB"});
  ASSERT_NE(server, nullptr);
  v1::ExecStart start;
  start.set_command("read x");
  start.set_max_buffer(1 << 20);  // holds back 2 MiB
  client::ExecSession first(server->stub(), start,
                            absl::Now() + absl::Seconds(60));
  v1::ExecResponse response;
  ASSERT_TRUE(first.Read(&response));  // started
  RawOutcome<v1::ExecRequest> second =
      RawCall<v1::ExecRequest>(server->stub(), {[&] {
                                 v1::ExecRequest r;
                                 *r.mutable_start() = start;
                                 return r;
                               }()});
  EXPECT_EQ(second.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(second.status.error_message(),
            "the Exec calls' buffer limit is spent: calls hold 2 MiB of 3 MiB "
            "(--max-exec-memory), and an Exec's output buffers (2 x "
            "max_buffer) would need 2 MiB more; retry when calls have ended, "
            "or on another server");
  first.WritesDone();
  while (first.Read(&response)) {
  }
  EXPECT_TRUE(first.Finish().ok());
  // What it held back is free again.
  CliResult third = RunRexec({"--server", server->address(), "exec",
                              "--max-buffer", "1MiB", "echo free"});
  EXPECT_EQ(third.out, "free\n") << third.err;
}

// The exit of `child` if it comes within 10 s.
std::optional<process::ExitStatus> WaitForExit(process::Child& child) {
  std::optional<process::ExitStatus> exit;
  Eventually(
      [&] {
        auto status = child.TryReap();
        if (status.ok() && status->has_value()) exit = **status;
        return exit.has_value();
      },
      absl::Seconds(10));
  return exit;
}

// Whether `sig` is in a signal set of the process's /proc status: "ShdPnd"
// (waiting to be taken) or "SigBlk" (blocked by its main thread).
bool InSignalSet(pid_t pid, const std::string& set, int sig) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(set + ":", 0) != 0) continue;
    uint64_t mask = std::stoull(line.substr(set.size() + 1), nullptr, 16);
    return (mask >> (sig - 1)) & 1;
  }
  return false;
}
bool SignalPending(pid_t pid, int sig) {
  return InSignalSet(pid, "ShdPnd", sig);
}

TEST(Stall, ASigintEndsTheCliAtOnceWhileTheServerCannotAnswer) {
  // A server that hangs before the call is even open (rexecd itself: the
  // keeper of its namespace, stopped, stops nothing).
  auto server = RexecdProcess::Start();
  ASSERT_NE(server, nullptr);
  kill(server->server_pid(), SIGSTOP);
  process::SpawnOptions options;
  options.argv = {RexecPath(), "--server", server->address(),
                  "spawn",     "--",       "true"};
  absl::StatusOr<process::Child> cli = process::Child::Spawn(options);
  ASSERT_TRUE(cli.ok());
  // Once its signals are blocked, SIGINT waits for rexec to take it.
  ASSERT_TRUE(
      Eventually([&] { return InSignalSet(cli->pid(), "SigBlk", SIGINT); }));
  kill(cli->pid(), SIGINT);
  std::optional<process::ExitStatus> exit = WaitForExit(*cli);
  kill(server->server_pid(), SIGCONT);
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->ToString(), process::ExitStatus::Exited(130).ToString());
}

TEST(Stall, ASecondSigintEndsTheCliWhenTheServerDoesNotAnswer) {
  auto server = RexecdProcess::Start();
  ASSERT_NE(server, nullptr);
  process::SpawnOptions options;
  options.argv = {RexecPath(), "--server", server->address(), "spawn", "--",
                  "sleep",     "330"};
  absl::StatusOr<process::Child> cli = process::Child::Spawn(options);
  ASSERT_TRUE(cli.ok());
  // The child runs (the CLI has "330" in its own argv too).
  ASSERT_TRUE(Eventually([&] { return !ChildrenOf(server->server_pid()).empty(); }));
  kill(server->server_pid(), SIGSTOP);  // a server that hangs
  kill(cli->pid(), SIGINT);
  // Two SIGINTs pending at once would be one: wait until rexec took it.
  ASSERT_TRUE(Eventually([&] { return !SignalPending(cli->pid(), SIGINT); }));
  kill(cli->pid(), SIGINT);
  std::optional<process::ExitStatus> exit = WaitForExit(*cli);
  kill(server->server_pid(), SIGCONT);
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->code(), 130);
  // The server, back, finds the client gone and stops the child; or, when
  // it reads the first SIGINT (forwarded before the CLI left) ahead of the
  // connection's end, passes it on, and that ends the child.
  EXPECT_TRUE(Eventually([&] { return ChildrenOf(server->server_pid()).empty(); }));
  EXPECT_THAT(server->WaitForLogLine("\"330\""),
              AnyOf(HasSubstr("reason=CLIENT_GONE"),
                    HasSubstr("exit=SIGINT reason=SIGNALED")));
}

}  // namespace
}  // namespace rexec::testing
