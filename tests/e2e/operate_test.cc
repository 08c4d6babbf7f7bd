// What an operator meets: Prometheus metrics that move as calls run (and an
// HTTP endpoint that refuses what is not a scrape), the plaintext health
// port that serves health and nothing else, --version, and a clear line for
// an address in use.
#include <arpa/inet.h>
#include <grpcpp/generic/generic_stub.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "client/child_session.h"
#include "client/connection.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/child_io.h"
#include "tests/e2e/http_scrape.h"
#include "tests/e2e/raw_call.h"
#include "tests/e2e/rexecd_process.h"
#include "tests/test_paths.h"

namespace rexec::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

class MetricsTest : public RexecdTest {
 protected:
  std::vector<std::string> Flags() override {
    tokens_.Write("tokens", "ops " + Sha256Hex("secret-token") + "\n");
    return {"--metrics-listen", ":0", "--token-file",
            tokens_.path() + "/tokens"};
  }
  void SetUp() override {
    RexecdTest::SetUp();
    metrics_ = server_->LoggedAddress("metrics on http://");
    metrics_ = metrics_.substr(0, metrics_.find('/'));
  }
  std::string Scrape() {
    std::string answer = Get(metrics_, "/metrics");
    EXPECT_THAT(answer, StartsWith("HTTP/1.1 200"));
    return answer.substr(answer.find("\r\n\r\n") + 4);
  }
  CliResult Rexec(std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", server_->address(), "--token-file",
                               tokens_.path() + "/token"});
    return RunRexec(args);
  }

  TempDir tokens_;
  std::string metrics_;
};

// One client address holds at most eight connections to the metrics port:
// the ninth is closed at once, before the idle timeout (3 s) would.
TEST_F(MetricsTest, AClientAddressHoldsAtMostEightConnections) {
  std::vector<int> held;
  for (int i = 0; i < 8; ++i) held.push_back(ConnectTcp(metrics_));
  absl::SleepFor(absl::Milliseconds(200));  // accepted, all of them
  const int ninth = ConnectTcp(metrics_);
  EXPECT_TRUE(ClosedByServer(ninth, absl::Seconds(1)));
  close(ninth);
  for (int fd : held) close(fd);
  // Given back, a scrape is served again.
  EXPECT_TRUE(Eventually(
      [&] {
        return absl::StartsWith(Get(metrics_, "/metrics"), "HTTP/1.1 200");
      },
      absl::Seconds(10)));
}

TEST_F(MetricsTest, ValuesMoveAsCallsRun) {
  tokens_.Write("token", "secret-token\n");
  // On loopback unless told otherwise.
  EXPECT_THAT(metrics_, StartsWith("127.0.0.1:"));
  std::string before = Scrape();
  EXPECT_THAT(before, HasSubstr("# TYPE rexec_calls_started_total counter"));
  EXPECT_THAT(before, MatchesRegex("(.|\n)*rexec_build_info\\{version=\"[0-9.]+"
                                   "\",commit=\"[0-9a-f]*\"\\} 1\n(.|\n)*"));
  EXPECT_EQ(Sample(before, "rexec_calls_started_total{rpc=\"Spawn\"}"), 0);
  EXPECT_EQ(Sample(before, "rexec_processes_running"), 0);
  // Before any call, the memory budget holds gRPC's share, a quarter.
  const double budget = Sample(before, "rexec_memory_budget_bytes");
  EXPECT_GE(budget, 16 << 20);
  EXPECT_EQ(Sample(before, "rexec_memory_budget_held_bytes"),
            std::floor(budget / 4));

  // A call that streams stdin to stdout and stderr; one that fails; one
  // refused; an Exec; a running one.
  CliResult cat = RunRexec({"--server", server_->address(), "--token-file",
                            tokens_.path() + "/token", "spawn", "--", "sh",
                            "-c", "cat; echo oops >&2; exit 3"},
                           {}, "twelve bytes");
  EXPECT_EQ(cat.code, 3);
  CliResult exec = Rexec({"exec", "--", "echo", "hello"});
  EXPECT_EQ(exec.code, 0);
  CliResult refused = RunRexec(
      {"--server", server_->address(), "spawn", "--", "true"});  // no token
  EXPECT_EQ(refused.code, 255);
  client::SessionOptions options(absl::Now() + absl::Seconds(60));
  options.bearer_token = "secret-token";
  v1::SpawnStart sleep;
  sleep.add_argv("sleep");
  sleep.add_argv("7201");
  client::SpawnSession running(server_->stub(), sleep, options);
  v1::SpawnResponse r;
  ASSERT_TRUE(running.Read(&r));

  // A call's end is counted as its record is written, which is just after
  // its client has the status: the CLIs may have exited before.
  std::string during;
  ASSERT_TRUE(Eventually([&] {
    during = Scrape();
    return Sample(during, "rexec_calls_ended_total{rpc=\"Exec\",code="
                          "\"OK\"}") == 1 &&
           Sample(during, "rexec_calls_ended_total{rpc=\"Spawn\",code="
                          "\"UNAUTHENTICATED\"}") == 1 &&
           Sample(during, "rexec_calls_ended_total{rpc=\"Spawn\",code="
                          "\"OK\"}") == 1;
  })) << during;
  EXPECT_EQ(Sample(during, "rexec_processes_running"), 1);
  EXPECT_EQ(Sample(during, "rexec_calls_started_total{rpc=\"Spawn\"}"), 3);
  EXPECT_EQ(Sample(during, "rexec_calls_started_total{rpc=\"Exec\"}"), 1);
  EXPECT_EQ(
      Sample(during, "rexec_calls_ended_total{rpc=\"Spawn\",code=\"OK\"}"), 1);
  EXPECT_EQ(Sample(during,
                   "rexec_calls_ended_total{rpc=\"Spawn\",code="
                   "\"UNAUTHENTICATED\"}"),
            1);
  EXPECT_EQ(Sample(during, "rexec_refusals_total{code=\"UNAUTHENTICATED\"}"),
            1);
  EXPECT_EQ(Sample(during, "rexec_refusals_total{code=\"OK\"}"), 0);
  EXPECT_EQ(Sample(during, "rexec_exits_total{reason=\"exited\"}"), 2);
  EXPECT_EQ(Sample(during, "rexec_bytes_total{stream=\"stdin\"}"), 12);
  // cat's 12, and Exec's "hello\n".
  EXPECT_EQ(Sample(during, "rexec_bytes_total{stream=\"stdout\"}"), 18);
  EXPECT_EQ(Sample(during, "rexec_bytes_total{stream=\"stderr\"}"), 5);
  EXPECT_EQ(Sample(during, "rexec_spawn_duration_seconds_count"), 3);
  EXPECT_EQ(Sample(during, "rexec_spawn_duration_seconds_bucket{le=\"+Inf\"}"),
            3);
  EXPECT_GT(Sample(during, "rexec_spawn_duration_seconds_sum"), 0);

  running.SendSignal("SIGKILL");
  while (running.Read(&r)) {
  }
  EXPECT_TRUE(running.Finish().ok());
  std::string after = Scrape();
  EXPECT_EQ(Sample(after, "rexec_processes_running"), 0);
  EXPECT_EQ(Sample(after, "rexec_exits_total{reason=\"signaled\"}"), 1);
}

TEST_F(MetricsTest, ForkMessagesAreCountedEachWay) {
  tokens_.Write("token", "secret-token\n");
  CliResult fork = Rexec({"fork", "--send", "{\"n\":1}", "--send", "\"bye\"",
                          "--", ForkScriptsDir() + "/child.js", "echo"});
  std::string page = Scrape();
  EXPECT_EQ(Sample(page, "rexec_ipc_messages_total{direction=\"to_child\"}"), 2)
      << fork.err;
  EXPECT_GE(Sample(page, "rexec_ipc_messages_total{direction=\"from_child\"}"),
            2);
  EXPECT_GT(Sample(page, "rexec_bytes_total{stream=\"ipc_to_child\"}"), 0);
}

// Prometheus' standard process metrics, as any client library exports
// them, read off rexecd itself; and its sessions by state.
TEST_F(MetricsTest, ProcessAndSessionMetrics) {
  tokens_.Write("token", "secret-token\n");
  std::string page = Scrape();
  for (const char* name :
       {"process_cpu_seconds_total counter", "process_resident_memory_bytes gauge",
        "process_virtual_memory_bytes gauge", "process_open_fds gauge",
        "process_max_fds gauge", "process_start_time_seconds gauge",
        "rexec_sessions gauge", "rexec_session_log_bytes gauge"}) {
    EXPECT_THAT(page, HasSubstr(std::string("# TYPE ") + name + "\n"));
  }
  const pid_t pid = server_->server_pid();
  auto fds_of_rexecd = [pid] {
    double n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(
             "/proc/" + std::to_string(pid) + "/fd")) {
      (void)entry;
      ++n;
    }
    return n;
  };
  // Each read apart: a scrape itself holds a connection's fd or two.
  EXPECT_NEAR(Sample(page, "process_open_fds"), fds_of_rexecd(), 3);
  rlimit files{};
  ASSERT_EQ(prlimit(pid, RLIMIT_NOFILE, nullptr, &files), 0);
  EXPECT_EQ(Sample(page, "process_max_fds"), files.rlim_cur);
  EXPECT_GT(Sample(page, "process_resident_memory_bytes"), 1 << 20);
  EXPECT_GT(Sample(page, "process_virtual_memory_bytes"),
            Sample(page, "process_resident_memory_bytes"));
  const double now = absl::ToUnixMillis(absl::Now()) / 1000.0;
  EXPECT_LE(Sample(page, "process_start_time_seconds"), now + 1);
  EXPECT_GE(Sample(page, "process_start_time_seconds"), now - 300);
  EXPECT_EQ(Sample(page, "rexec_sessions{state=\"running\"}"), 0);
  EXPECT_EQ(Sample(page, "rexec_sessions{state=\"ended\"}"), 0);
  EXPECT_EQ(Sample(page, "rexec_session_log_bytes"), 0);

  // What the kernel counts (in clock ticks), to the microsecond.
  const double cpu = Sample(page, "process_cpu_seconds_total");
  EXPECT_GT(cpu, 0);
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)),
                   std::istreambuf_iterator<char>());
  std::vector<std::string> fields =
      absl::StrSplit(text.substr(text.rfind(')') + 2), ' ');
  const double ticks = sysconf(_SC_CLK_TCK);
  EXPECT_NEAR(cpu, (std::stod(fields[11]) + std::stod(fields[12])) / ticks,
              0.05);
  CliResult session = Rexec({"spawn", "--detach", "--name", "counted", "--",
                             "sh", "-c", "head -c 100000 /dev/zero; exec sleep 7201"});
  ASSERT_EQ(session.code, 0) << session.err;
  ASSERT_TRUE(Eventually([&] {
    page = Scrape();
    return Sample(page, "rexec_session_log_bytes") >= 100000;
  })) << page;
  EXPECT_EQ(Sample(page, "rexec_sessions{state=\"running\"}"), 1);
  EXPECT_GT(Sample(page, "process_cpu_seconds_total"), cpu);

  ASSERT_EQ(Rexec({"kill", "-s", "KILL", "counted"}).code, 0);
  ASSERT_TRUE(Eventually([&] {
    page = Scrape();
    return Sample(page, "rexec_sessions{state=\"ended\"}") == 1;
  })) << page;
  EXPECT_EQ(Sample(page, "rexec_sessions{state=\"running\"}"), 0);
}

TEST_F(MetricsTest, TheEndpointServesAScrapeAndNothingElse) {
  EXPECT_THAT(Get(metrics_, "/"), StartsWith("HTTP/1.1 404"));
  EXPECT_THAT(Get(metrics_, "/metrics/../etc/passwd"),
              StartsWith("HTTP/1.1 404"));
  EXPECT_THAT(HttpExchange(metrics_,
                           "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-"
                           "Length: 5\r\nConnection: close\r\n\r\nhello"),
              StartsWith("HTTP/1.1 405"));
  // Headers past the per-connection memory cap are refused, not stored.
  std::string huge = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " +
                     std::string(64 << 10, 'a') + "\r\n\r\n";
  EXPECT_THAT(HttpExchange(metrics_, huge, 2), Not(StartsWith("HTTP/1.1 200")));
  // Garbage is answered or dropped, and the server goes on.
  HttpExchange(metrics_, std::string("\x16\x03\x01\x00\xff", 5), 1);
  EXPECT_THAT(Get(metrics_, "/metrics"), StartsWith("HTTP/1.1 200"));
}

TEST(OperateTest, MetricsAreOffByDefaultAndABadAddressIsNamed) {
  auto server = RexecdProcess::Start();
  ASSERT_NE(server, nullptr);
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_THAT(server->Log(), Not(HasSubstr("metrics on")));
  for (const char* bad : {"nonsense", "127.0.0.1:99999", "host:80"}) {
    Result out = RunProgram(
        {RexecdPath(), "--listen", "127.0.0.1:0", "--metrics-listen", bad});
    EXPECT_EQ(out.status.code(), 2) << bad;
    EXPECT_THAT(out.err, HasSubstr("--metrics-listen")) << bad;
    EXPECT_THAT(out.err, HasSubstr(bad));
  }
}

TEST(OperateTest, TheHealthPortServesHealthAndNothingElse) {
  auto server = RexecdProcess::Start({"--health-listen", "127.0.0.1:0"});
  ASSERT_NE(server, nullptr);
  const std::string health = server->LoggedAddress("health service on ");
  CliResult ok = RunRexec(
      {"--server", health, "health", "--service", "rexec.v1.ChildProcess"});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(ok.out, "SERVING\n");
  CliResult unknown =
      RunRexec({"--server", health, "health", "--service", "no.Such"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("no service \"no.Such\""));
  // No ChildProcess, and no reflection, on the probe port.
  auto stub = v1::ChildProcess::NewStub(client::Connect(health));
  v1::SpawnRequest start;
  start.mutable_start()->add_argv("true");
  EXPECT_EQ(RawCall<v1::SpawnRequest>(*stub, {start}).status.error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  grpc::GenericStub generic(client::Connect(health));
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline(absl::Seconds(10)));
  grpc::CompletionQueue cq;
  grpc::ByteBuffer request, response;
  auto call = generic.PrepareUnaryCall(
      &ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      request, &cq);
  call->StartCall();
  grpc::Status status;
  call->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag;
  bool ok_event;
  ASSERT_TRUE(cq.Next(&tag, &ok_event));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST(OperateTest, VersionOnBothBinaries) {
  for (const std::string& binary : {RexecdPath(), RexecPath()}) {
    Result out = RunProgram({binary, "--version"});
    EXPECT_EQ(out.status.code(), 0);
    EXPECT_THAT(out.out,
                MatchesRegex("rexecd? [0-9]+\\.[0-9]+\\.[0-9]+( \\(commit "
                             "[0-9a-f]+\\))?\n"));
  }
}

TEST(OperateTest, AnAddressInUseIsOneClearLine) {
  auto first = RexecdProcess::Start();
  ASSERT_NE(first, nullptr);
  Result out = RunProgram(
      {RexecdPath(), "--insecure", "--listen", first->address()});
  EXPECT_EQ(out.status.code(), 1);
  EXPECT_EQ(out.err, "rexecd: cannot listen on " + first->address() +
                         ": Address already in use\n");
}


// ---- a log nobody reads ---------------------------------------------------

// rexecd whose stderr (its server log and audit log) a reader stops taking:
// its pipe fills, then the logs' bounded queues.
class StalledLogTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> flags) {
    flags.insert(flags.end(), {"--metrics-listen", "127.0.0.1:0",
                               "--health-listen", "127.0.0.1:0"});
    server_ = RexecdProcess::Start(flags);
    ASSERT_NE(server_, nullptr);
    metrics_ = server_->LoggedAddress("metrics on http://");
    metrics_ = metrics_.substr(0, metrics_.find('/'));
    health_ = server_->LoggedAddress("health service on ");
  }
  // A List call (each has an audit record): its status.
  grpc::Status List() {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline(absl::Seconds(10)));
    v1::ListResponse response;
    return server_->stub().List(&ctx, v1::ListRequest(), &response);
  }
  double Dropped() {
    const std::string page = Get(metrics_, "/metrics");
    return Sample(page.substr(page.find("\r\n\r\n") + 4),
                  "rexec_audit_records_dropped_total");
  }
  std::string Health(const std::string& address) {
    return RunRexec({"--server", address, "health"}).out;
  }

  std::unique_ptr<RexecdProcess> server_;
  std::string metrics_, health_;
};

// More records than the pipe (64 KiB) and the audit log's queue (1024)
// hold.
constexpr int kCallsPastTheQueue = 3000;

TEST_F(StalledLogTest, ByDefaultRecordsAreDroppedAndCountedAndCallsGoOn) {
  ASSERT_NO_FATAL_FAILURE(Start({}));
  EXPECT_EQ(Dropped(), 0);
  server_->PauseLog();
  for (int i = 0; i < kCallsPastTheQueue; ++i) {
    const grpc::Status status = List();
    ASSERT_TRUE(status.ok()) << "call " << i << ": " << status.error_message();
  }
  EXPECT_GT(Dropped(), 0) << "nothing was dropped: the log did not stall";
  EXPECT_EQ(Health(server_->address()), "SERVING\n");
  CliResult spawned = RunRexec(
      {"--server", server_->address(), "spawn", "--", "echo", "served"});
  EXPECT_EQ(spawned.out, "served\n") << spawned.err;

  server_->ResumeLog();
  // Said once, when it began (written once the reader came back, or
  // dropped with the rest), and the end is said.
  EXPECT_THAT(server_->WaitForLogLine("the audit log takes records again"),
              HasSubstr("were dropped in all"));
  std::string log = server_->Log();
  size_t said = 0;
  for (size_t at = log.find("the audit log does not take records");
       at != std::string::npos;
       at = log.find("the audit log does not take records", at + 1)) {
    ++said;
  }
  EXPECT_LE(said, 1u);
  EXPECT_TRUE(List().ok());
}

TEST_F(StalledLogTest, RefuseMakesNewCallsUnavailableUntilTheLogTakesRecords) {
  ASSERT_NO_FATAL_FAILURE(Start({"--audit-on-failure", "refuse"}));
  server_->PauseLog();
  grpc::Status refused;
  for (int i = 0; i < kCallsPastTheQueue && refused.ok(); ++i) {
    refused = List();
  }
  ASSERT_FALSE(refused.ok()) << "no call was refused";
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(refused.error_message(), HasSubstr("audit log unavailable"));
  CliResult spawned = RunRexec(
      {"--server", server_->address(), "spawn", "--", "echo", "served"});
  EXPECT_NE(spawned.code, 0);
  EXPECT_THAT(spawned.err, HasSubstr("audit log unavailable"));
  for (const std::string& address : {server_->address(), health_}) {
    EXPECT_EQ(Health(address), "NOT_SERVING\n") << address;
  }

  server_->ResumeLog();
  EXPECT_TRUE(Eventually([&] { return Health(health_) == "SERVING\n"; },
                         absl::Seconds(10)));
  EXPECT_EQ(Health(server_->address()), "SERVING\n");
  EXPECT_TRUE(List().ok());
}

// As systemd hears it (Type=notify, NotifyAccess=main): READY=1 once
// rexecd serves, RELOADING=1 then READY=1 around SIGHUP, STOPPING=1 when the
// drain begins; every message from the process systemd started (the keeper
// of rexecd's PID namespace, which relays them), none from elsewhere; and
// no child inherits $NOTIFY_SOCKET.
TEST(OperateTest, SystemdHearsReadyReloadingAndStoppingFromTheMainProcess) {
  TempDir dir;
  const std::string path = dir.path() + "/notify";
  const int listener = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address),
                 sizeof address),
            0);
  const int on = 1;
  ASSERT_EQ(setsockopt(listener, SOL_SOCKET, SO_PASSCRED, &on, sizeof on), 0);
  // The next message and its sender's pid, within 20 s.
  auto next = [listener]() -> std::pair<std::string, pid_t> {
    pollfd ready{listener, POLLIN, 0};
    if (poll(&ready, 1, 20'000) != 1) return {"(nothing)", -1};
    char text[4096];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
    iovec io{text, sizeof text};
    msghdr message{};
    message.msg_iov = &io;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    const ssize_t n = recvmsg(listener, &message, 0);
    if (n < 0) return {"(error)", -1};
    pid_t sender = -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr;
         c = CMSG_NXTHDR(&message, c)) {
      if (c->cmsg_type == SCM_CREDENTIALS) {
        sender = reinterpret_cast<ucred*>(CMSG_DATA(c))->pid;
      }
    }
    return {std::string(text, n), sender};
  };

  auto server = RexecdProcess::Start({}, {{"NOTIFY_SOCKET", path}});
  ASSERT_NE(server, nullptr);
  const pid_t main_pid = server->pid();
  auto [ready, from] = next();
  EXPECT_EQ(ready, "READY=1\nSTATUS=serving on " + server->address());
  EXPECT_EQ(from, main_pid);

  CliResult child = RunRexec({"--server", server->address(), "spawn", "--",
                              "sh", "-c", "echo \"[$NOTIFY_SOCKET]\""});
  EXPECT_EQ(child.out, "[]\n");

  ASSERT_EQ(kill(main_pid, SIGHUP), 0);
  auto [reloading, reloading_from] = next();
  EXPECT_EQ(reloading, "RELOADING=1");
  EXPECT_EQ(reloading_from, main_pid);
  auto [reloaded, reloaded_from] = next();
  EXPECT_EQ(reloaded, "READY=1\nSTATUS=serving; policy and tokens reloaded");
  EXPECT_EQ(reloaded_from, main_pid);

  ASSERT_EQ(kill(main_pid, SIGTERM), 0);
  auto [stopping, stopping_from] = next();
  EXPECT_EQ(stopping, "STOPPING=1\nSTATUS=draining for up to 1s");
  EXPECT_EQ(stopping_from, main_pid);
  EXPECT_EQ(server->WaitForExit().ToString(), "exited with code 0");
  close(listener);
}

// Socket activation as rexecd.socket does it: systemd-socket-activate
// listens, and at the first connection becomes rexecd with the socket as
// fd 3 (LISTEN_FDS=1, LISTEN_PID its own). rexecd serves it in place of the
// --listen of that path (which it must not bind again: the socket is the
// manager's), and no child inherits the variables.
TEST(OperateTest, ASocketFromSystemdIsServed) {
  TempDir dir;
  const std::string path = dir.path() + "/rexecd.sock";
  process::SpawnOptions options;
  options.argv = {"systemd-socket-activate", "--listen", path, RexecdPath(),
                  "--listen", "unix:" + path, "--shutdown-grace", "1s"};
  absl::StatusOr<process::Child> activator = process::Child::Spawn(options);
  ASSERT_TRUE(activator.ok()) << activator.status();
  ASSERT_TRUE(Eventually([&] { return access(path.c_str(), F_OK) == 0; }))
      << "systemd-socket-activate made no socket";
  struct stat made {};
  ASSERT_EQ(stat(path.c_str(), &made), 0);
  const std::string server = "unix:" + path;
  CliResult first = RunRexec(
      {"--server", server, "spawn", "--", "sh", "-c",
       "echo \"[$LISTEN_FDS$LISTEN_PID$LISTEN_FDNAMES]\""});
  EXPECT_EQ(first.code, 0) << first.err;
  EXPECT_EQ(first.out, "[]\n");
  // The same socket, served on: the second call finds rexecd running, and
  // the socket is the manager's still (rexecd did not bind its path anew).
  CliResult second = RunRexec({"--server", server, "exec", "echo again"});
  EXPECT_EQ(second.out, "again\n") << second.err;
  struct stat served {};
  ASSERT_EQ(stat(path.c_str(), &served), 0);
  EXPECT_EQ(served.st_ino, made.st_ino) << "rexecd bound the path itself";
  ASSERT_EQ(kill(activator->pid(), SIGTERM), 0);
  Result r = RunChild(*activator);
  EXPECT_EQ(r.status.ToString(), "exited with code 0");
  EXPECT_THAT(r.err, HasSubstr("listening on " + server));
}

// What rexecd takes from a service manager is a listening unix socket and
// nothing else: anything else is refused at start, naming the fd.
TEST(OperateTest, AnFdFromSystemdThatIsNotAUnixSocketIsRefused) {
  // fd 3 as a service manager would pass it, then rexecd in this process.
  const std::pair<std::string, std::string> passed[] = {
      {"f = os.open('/dev/null', os.O_RDONLY)",
       "which is not a socket (Socket operation on non-socket)"},
      {"s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); "
       "f = s.fileno()",
       "which is not a unix socket"},
  };
  for (const auto& [make_fd3, why] : passed) {
    process::SpawnOptions options;
    options.argv = {"/usr/bin/python3", "-c",
                    // Through a dup: the fd may be 3 already, and not
                    // inheritable.
                    "import os, socket, sys; " + make_fd3 +
                        "; os.dup2(os.dup(f), 3)"
                        "; os.environ['LISTEN_PID'] = str(os.getpid()); "
                        "os.environ['LISTEN_FDS'] = '1'; "
                        "os.execv(sys.argv[1], sys.argv[1:])",
                    RexecdPath()};
    absl::StatusOr<process::Child> child = process::Child::Spawn(options);
    ASSERT_TRUE(child.ok());
    Result r = RunChild(*child);
    EXPECT_EQ(r.status.code(), 1) << r.err;
    EXPECT_THAT(r.err,
                HasSubstr("the service manager passed fd 3 (LISTEN_FDS), " + why));
    EXPECT_THAT(r.err, HasSubstr("rexecd takes only listening unix stream "
                                 "sockets from it"));
  }
}

}  // namespace
}  // namespace rexec::testing
