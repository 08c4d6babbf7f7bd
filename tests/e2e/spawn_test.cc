// Spawn end to end: the real rexecd, real children, the client library.
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/child_session.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/rexecd_process.h"
#include "tests/test_paths.h"

namespace rexec::testing {
namespace {

using ::testing::HasSubstr;
using v1::SpawnResponse;

struct Outcome {
  std::string out;
  std::string err;
  std::optional<v1::ExitStatus> exit;
  int started_pid = 0;
  grpc::Status status;
};

// Reads a session to its end.
Outcome Collect(client::SpawnSession& session) {
  Outcome o;
  SpawnResponse r;
  while (session.Read(&r)) {
    EXPECT_FALSE(o.exit.has_value()) << "an event after exit";
    switch (r.event_case()) {
      case SpawnResponse::kStarted:
        EXPECT_EQ(o.started_pid, 0) << "started twice";
        o.started_pid = r.started().pid();
        break;
      case SpawnResponse::kStdout:
        EXPECT_NE(o.started_pid, 0) << "output before started";
        o.out += r.stdout();
        break;
      case SpawnResponse::kStderr:
        o.err += r.stderr();
        break;
      case SpawnResponse::kExit:
        o.exit = r.exit();
        break;
      default:
        ADD_FAILURE() << "empty event";
    }
  }
  o.status = session.Finish();
  return o;
}

// The exit the call reported, or a failure of the test (and an empty exit)
// when it reported none.
v1::ExitStatus Exit(const Outcome& o) {
  if (!o.exit.has_value()) {
    ADD_FAILURE() << "the call ended without an exit (" << o.status.error_code()
                  << " " << o.status.error_message() << ")";
    return v1::ExitStatus();
  }
  return *o.exit;
}

v1::SpawnStart Start(std::vector<std::string> argv) {
  v1::SpawnStart start;
  for (auto& a : argv) start.add_argv(a);
  return start;
}

Outcome RunSpawn(RexecdProcess& server, const v1::SpawnStart& start,
                 const std::string& input = "") {
  client::SpawnSession session(server.stub(), start,
                               absl::Now() + absl::Seconds(20));
  if (!input.empty()) session.WriteStdin(input);
  session.CloseStdin();
  return Collect(session);
}

class SpawnTest : public RexecdTest {
 protected:
  std::vector<std::string> Flags() override {
    return {"--drain-timeout", "300ms"};
  }
};

TEST_F(SpawnTest, LargeRandomPayloadThroughCatArrivesByteExact) {
  std::string payload(64 << 20, '\0');
  std::mt19937_64 rng(42);
  for (size_t i = 0; i < payload.size(); i += 8) {
    uint64_t v = rng();
    std::memcpy(&payload[i], &v, 8);
  }
  client::SpawnSession session(server_->stub(), Start({"cat"}),
                               absl::Now() + absl::Seconds(120));
  std::thread writer([&] {
    for (size_t at = 0; at < payload.size(); at += 1 << 16) {
      ASSERT_TRUE(session.WriteStdin(payload.substr(at, 1 << 16)));
    }
    session.CloseStdin();
  });
  Outcome o = Collect(session);
  writer.join();
  ASSERT_TRUE(o.status.ok()) << o.status.error_message();
  EXPECT_EQ(o.out.size(), payload.size());
  EXPECT_EQ(std::hash<std::string>()(o.out), std::hash<std::string>()(payload));
  EXPECT_TRUE(o.out == payload);
  EXPECT_EQ(Exit(o).code(), 0);
}

TEST_F(SpawnTest, StdoutAndStderrStayApart) {
  Outcome o = RunSpawn(
      *server_, Start({"sh", "-c", "echo out; echo err >&2; echo more"}));
  EXPECT_EQ(o.out, "out\nmore\n");
  EXPECT_EQ(o.err, "err\n");
  EXPECT_GT(o.started_pid, 0);
}

TEST_F(SpawnTest, ReportsExitCodesInBand) {
  for (int code : {0, 1, 255}) {
    Outcome o =
        RunSpawn(*server_, Start({HelperPath(), "exit", std::to_string(code)}));
    ASSERT_TRUE(o.status.ok());
    ASSERT_TRUE(o.exit.has_value());
    EXPECT_TRUE(Exit(o).has_code());
    EXPECT_EQ(Exit(o).code(), code);
    EXPECT_EQ(Exit(o).reason(), v1::TERMINATION_REASON_EXITED);
    EXPECT_TRUE(Exit(o).has_wall_time());
  }
}

TEST_F(SpawnTest, ReportsSignalDeath) {
  Outcome o = RunSpawn(*server_, Start({"sh", "-c", "kill -SEGV $$"}));
  ASSERT_TRUE(o.exit.has_value());
  EXPECT_EQ(Exit(o).signal(), "SIGSEGV");
  EXPECT_EQ(Exit(o).reason(), v1::TERMINATION_REASON_EXITED);
}

TEST_F(SpawnTest, ClientSignalReachesTheProcessGroup) {
  // The helper, not a shell: a shell between fork and exec may swallow the
  // signal, and the test would hang.
  client::SpawnSession session(server_->stub(), Start({HelperPath(), "wait"}),
                               absl::Now() + absl::Seconds(20));
  SpawnResponse r;
  ASSERT_TRUE(session.Read(&r));  // started
  ASSERT_TRUE(session.Read(&r));  // "ready": it waits with default dispositions
  EXPECT_EQ(r.stdout(), "ready");
  ASSERT_TRUE(session.SendSignal("INT"));
  Outcome o = Collect(session);
  ASSERT_TRUE(o.exit.has_value());
  EXPECT_EQ(Exit(o).signal(), "SIGINT");
  EXPECT_EQ(Exit(o).reason(), v1::TERMINATION_REASON_SIGNALED);
}

// Stdin the child never reads does not hold back a signal sent after it:
// the server reads past what waits for the pipe (within its bound), so the
// signal reaches the child at once. (It waited behind the first chunk.)
TEST_F(SpawnTest, ASignalIsNotStuckBehindStdinTheChildDoesNotRead) {
  client::SpawnSession session(server_->stub(), Start({"sleep", "1000"}),
                               absl::Now() + absl::Seconds(20));
  SpawnResponse r;
  ASSERT_TRUE(session.Read(&r));  // started
  const std::string chunk(64 << 10, 'x');
  for (int i = 0; i < 160; ++i) {  // 10 MiB
    ASSERT_TRUE(session.WriteStdin(chunk)) << "write " << i;
  }
  ASSERT_TRUE(session.SendSignal("TERM"));
  Outcome o = Collect(session);
  ASSERT_TRUE(o.exit.has_value()) << o.status.error_message();
  EXPECT_EQ(Exit(o).signal(), "SIGTERM");
  EXPECT_EQ(Exit(o).reason(), v1::TERMINATION_REASON_SIGNALED);
}

// Held stdin still reaches the child in order, and a half-close after it
// closes stdin only once all of it was written.
TEST_F(SpawnTest, HeldStdinIsWrittenInOrderBeforeTheClose) {
  client::SpawnSession session(
      server_->stub(), Start({"sh", "-c", "sleep 0.3; wc -c; echo end"}),
      absl::Now() + absl::Seconds(20));
  std::string chunk(1 << 20, 'x');
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(session.WriteStdin(chunk));
  ASSERT_TRUE(session.WritesDone());
  Outcome o = Collect(session);
  ASSERT_TRUE(o.exit.has_value()) << o.status.error_message();
  EXPECT_EQ(Exit(o).code(), 0);
  EXPECT_EQ(absl::StripAsciiWhitespace(o.out), "3145728\nend");
}

// A group of three: a shell (the leader) with a background child that has
// a grandchild. Each says on stderr when SIGTERM reaches it; the leader
// goes on waiting until its child is gone, so it ends on its own (code 0)
// only if the signal reached the whole group, not the leader alone.
constexpr char kGroupOfThree[] = R"(
member() {
  trap "echo $1-term >&2; exit 0" TERM
  if [ -n "$2" ]; then member "$2" & fi
  sleep 7107 & wait
}
trap 'echo leader-term >&2' TERM
member child grandchild &
child=$!
echo up
while kill -0 $child 2>/dev/null; do wait $child; done
exit 0
)";

void ExpectEveryMemberGotTerm(const Outcome& o) {
  std::vector<std::string> lines =
      absl::StrSplit(o.err, '\n', absl::SkipEmpty());
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, (std::vector<std::string>{"child-term", "grandchild-term",
                                             "leader-term"}));
  EXPECT_EQ(Exit(o).code(), 0) << "the leader did not end on its own";
}

TEST_F(SpawnTest, AStopSignalsEveryMemberOfTheGroup) {
  v1::SpawnStart start = Start({"sh", "-c", kGroupOfThree});
  // Time for the members to set their traps first.
  start.mutable_options()->mutable_timeout()->set_seconds(2);
  // Long enough that the test fails (not passes) if SIGKILL ends it.
  start.mutable_options()->mutable_kill_grace()->set_seconds(5);
  Outcome o = RunSpawn(*server_, start);
  EXPECT_EQ(o.out, "up\n");
  ExpectEveryMemberGotTerm(o);
  EXPECT_EQ(Exit(o).reason(), v1::TERMINATION_REASON_TIMED_OUT);
}

TEST_F(SpawnTest, AClientsSignalReachesEveryMemberOfTheGroup) {
  client::SpawnSession session(server_->stub(),
                               Start({"sh", "-c", kGroupOfThree}),
                               absl::Now() + absl::Seconds(20));
  SpawnResponse r;
  ASSERT_TRUE(session.Read(&r) && r.has_started());
  ASSERT_TRUE(session.Read(&r));
  ASSERT_EQ(r.stdout(), "up\n");
  // Both members are running before the signal goes.
  ASSERT_TRUE(Eventually([] { return ProcessesWithArg("7107").size() >= 2; }));
  ASSERT_TRUE(session.SendSignal("TERM"));
  ExpectEveryMemberGotTerm(Collect(session));
}

TEST(SpawnLimits, ChildrenGetTheOpenFileLimitRexecdStartedWith) {
  // rexecd raises its own soft limit to the hard one (it holds fds for
  // every call); its children are made by a launcher forked before that.
  rlimit own;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &own), 0);
  ASSERT_GT(own.rlim_max, 1000u);
  auto server = RexecdProcess::Start(
      {}, {}, {"sh", "-c", "ulimit -Sn 1000 && exec \"$0\" \"$@\""});
  ASSERT_NE(server, nullptr);
  Outcome o = RunSpawn(*server, Start({"sh", "-c", "ulimit -Sn"}));
  EXPECT_EQ(o.out, "1000\n");
}

TEST_F(SpawnTest, TheLauncherHoldsOnlyAHandfulOfFds) {
  // Hold a few calls open so that rexecd itself holds many fds.
  std::vector<std::unique_ptr<client::SpawnSession>> open;
  for (int i = 0; i < 5; ++i) {
    open.push_back(std::make_unique<client::SpawnSession>(
        server_->stub(), Start({"cat"}), absl::Now() + absl::Seconds(20)));
    SpawnResponse r;
    ASSERT_TRUE(open.back()->Read(&r) && r.has_started());
  }
  // The launcher is a copy of rexecd: the same command line, its own name.
  pid_t launcher = 0;
  for (pid_t pid : ProcessesWithArg(RexecdPath())) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), {});
    if (text.find("(rexecd-launch)") == std::string::npos) continue;
    std::istringstream rest(text.substr(text.rfind(')') + 2));
    char state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == server_->server_pid()) launcher = pid;
  }
  ASSERT_NE(launcher, 0) << "no launcher under rexecd";
  // The launcher closes its copy of the last child's pidfd only after the
  // reply that carries it has gone out, so the last Started can overtake
  // that close: look again a few times before calling a fifth fd a leak.
  int fds = 0;
  for (int attempt = 0; attempt < 20; ++attempt) {
    if (attempt > 0) absl::SleepFor(absl::Milliseconds(50));
    fds = 0;
    DIR* dir = opendir(("/proc/" + std::to_string(launcher) + "/fd").c_str());
    ASSERT_NE(dir, nullptr);
    while (dirent* e = readdir(dir)) fds += e->d_name[0] != '.';
    closedir(dir);
    if (fds <= 4) break;
  }
  EXPECT_LE(fds, 4) << "stdio and its socket; rexecd holds "
                    << server_->FdCount();
  EXPECT_GT(server_->FdCount(), 20);
  for (auto& session : open) session->Cancel();
}

TEST_F(SpawnTest, SaysAtStartThatThereIsNoCgroupRoot) {
  EXPECT_THAT(server_->WaitForLogLine("no --cgroup-root"),
              HasSubstr("a descendant that calls setsid escapes it"));
}

TEST_F(SpawnTest, HalfCloseIsStdinEof) {
  client::SpawnSession session(server_->stub(), Start({"wc", "-c"}),
                               absl::Now() + absl::Seconds(20));
  session.WriteStdin("12345");
  session.WritesDone();
  Outcome o = Collect(session);
  EXPECT_EQ(o.out, "5\n");
}

TEST_F(SpawnTest, StdinAfterTheChildStoppedReadingIsDropped) {
  client::SpawnSession session(server_->stub(), Start({"head", "-c", "3"}),
                               absl::Now() + absl::Seconds(20));
  for (int i = 0; i < 64; ++i) session.WriteStdin(std::string(65536, 'a'));
  session.CloseStdin();
  Outcome o = Collect(session);
  EXPECT_EQ(o.out, "aaa");
  EXPECT_EQ(Exit(o).code(), 0);
}

TEST_F(SpawnTest, TimeoutStopsTheChild) {
  v1::SpawnStart start = Start({"sleep", "100"});
  start.mutable_options()->mutable_timeout()->set_nanos(200'000'000);
  Outcome o = RunSpawn(*server_, start);
  ASSERT_TRUE(o.exit.has_value());
  EXPECT_EQ(Exit(o).signal(), "SIGTERM");
  EXPECT_EQ(Exit(o).reason(), v1::TERMINATION_REASON_TIMED_OUT);
}

TEST_F(SpawnTest, ChildIgnoringKillSignalGetsSigkillAfterGrace) {
  v1::SpawnStart start = Start({HelperPath(), "ignore-term"});
  // Time for the helper (built with the sanitizers, in that tree) to ignore
  // SIGTERM first.
  start.mutable_options()->mutable_timeout()->set_seconds(1);
  start.mutable_options()->mutable_kill_grace()->set_nanos(300'000'000);
  Outcome o = RunSpawn(*server_, start);
  ASSERT_TRUE(o.exit.has_value());
  EXPECT_EQ(o.out, "ready");
  EXPECT_EQ(Exit(o).signal(), "SIGKILL");
  EXPECT_EQ(Exit(o).reason(), v1::TERMINATION_REASON_TIMED_OUT);
}

TEST_F(SpawnTest, CustomKillSignalIsUsed) {
  v1::SpawnStart start = Start({"sleep", "100"});
  start.mutable_options()->mutable_timeout()->set_nanos(100'000'000);
  start.mutable_options()->set_kill_signal("SIGUSR1");
  EXPECT_EQ(Exit(RunSpawn(*server_, start)).signal(), "SIGUSR1");
}

TEST_F(SpawnTest, EnvCwdAndClearEnvApply) {
  v1::SpawnStart start = Start({"sh", "-c", "echo $REXEC_X; pwd"});
  (*start.mutable_options()->mutable_env())["REXEC_X"] = "hello";
  start.mutable_options()->set_cwd("/tmp");
  EXPECT_EQ(RunSpawn(*server_, start).out, "hello\n/tmp\n");

  v1::SpawnStart cleared = Start({"/usr/bin/env"});
  cleared.mutable_options()->set_clear_env(true);
  (*cleared.mutable_options()->mutable_env())["ONLY"] = "1";
  EXPECT_EQ(RunSpawn(*server_, cleared).out, "ONLY=1\n");
}

TEST_F(SpawnTest, BytesCallerEnvUmaskAndNewSessionReachTheChild) {
  // The environment is bytes: a value that is not UTF-8 arrives as sent;
  // the caller's environment goes under env.
  v1::SpawnStart start = Start(
      {"sh", "-c",
       "env | grep -a '^REXEC_' | sort; umask; ps -o sid= -p $$ | tr -d ' '"});
  v1::ProcessOptions& options = *start.mutable_options();
  options.set_clear_env(true);
  (*options.mutable_env())["PATH"] = "/usr/bin:/bin";
  v1::EnvVar* raw = options.add_env_bytes();
  raw->set_name("REXEC_C");
  raw->set_value("\xfe\x80");
  for (const char* name : {"REXEC_A", "REXEC_B"}) {
    v1::EnvVar* caller = options.add_caller_env();
    caller->set_name(name);
    caller->set_value("caller");
  }
  (*options.mutable_env())["REXEC_B"] = "env";
  options.set_umask(0027);
  options.set_new_session(true);
  Outcome o = RunSpawn(*server_, start);
  ASSERT_GT(o.started_pid, 0) << o.status.error_message();
  // The shell leads its own session.
  EXPECT_EQ(o.out, absl::StrCat("REXEC_A=caller\nREXEC_B=env\n"
                                "REXEC_C=\xfe\x80\n0027\n",
                                o.started_pid, "\n"));

  // A name a shell would not pass on, to a program that shows it.
  v1::SpawnStart env = Start({"/usr/bin/env"});
  env.mutable_options()->set_clear_env(true);
  raw = env.mutable_options()->add_env_bytes();
  raw->set_name("N\xff");
  raw->set_value("v");
  EXPECT_EQ(RunSpawn(*server_, env).out, "N\xff=v\n");
}

TEST_F(SpawnTest, LookPathFindsWhatASpawnWouldRun) {
  v1::LookPathRequest request;
  request.set_file("sh");
  (*request.mutable_options()->mutable_env())["PATH"] = "/nonexistent:/bin";
  v1::LookPathResponse response;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  grpc::Status status = server_->stub().LookPath(&ctx, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.path(), "/bin/sh");

  request.set_file("no-such-program-here");
  grpc::ClientContext missing;
  status = server_->stub().LookPath(&missing, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(),
            "LookPath no-such-program-here: not found in PATH (ENOENT)");
}

TEST_F(SpawnTest, CancelLeavesNoProcessBehind) {
  client::SpawnSession session(server_->stub(),
                               Start({"sh", "-c", "sleep 301 & sleep 301"}),
                               absl::Now() + absl::Seconds(20));
  SpawnResponse r;
  ASSERT_TRUE(session.Read(&r));
  ASSERT_TRUE(Eventually([] { return ProcessesWithArg("301").size() == 2; }));
  session.Cancel();
  EXPECT_TRUE(Eventually([] { return ProcessesWithArg("301").empty(); }))
      << ProcessesWithArg("301").size() << " left";
  EXPECT_TRUE(Eventually([&] { return ChildrenOf(server_->server_pid()).empty(); }))
      << "zombies or orphans left under rexecd";
}

TEST_F(SpawnTest, DeadlineStopsTheChildLikeCancel) {
  client::SpawnSession session(server_->stub(), Start({"sleep", "304"}),
                               absl::Now() + absl::Milliseconds(500));
  Outcome o = Collect(session);
  EXPECT_EQ(o.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_TRUE(Eventually([] { return ProcessesWithArg("304").empty(); }));
}

TEST_F(SpawnTest, GrandchildHoldingThePipesDoesNotHoldTheExit) {
  // The shell exits at once; its background child keeps stdout open.
  Outcome o = RunSpawn(*server_, Start({"sh", "-c", "sleep 302 & echo hi"}));
  ASSERT_TRUE(o.exit.has_value());
  EXPECT_EQ(Exit(o).code(), 0);
  EXPECT_EQ(o.out, "hi\n");
  // What was left in the group is stopped, and reaped by the subreaper.
  EXPECT_TRUE(Eventually([] { return ProcessesWithArg("302").empty(); }));
  EXPECT_TRUE(Eventually([&] { return ChildrenOf(server_->server_pid()).empty(); }));
}

TEST_F(SpawnTest, WallTimeIsTheChildsOwnNotTheDrainAfterIt) {
  // The shell ends at once; the call waits --drain-timeout (300 ms) for
  // the pipes its background child holds.
  const absl::Time began = absl::Now();
  Outcome o = RunSpawn(*server_, Start({"sh", "-c", "sleep 303 & exit 0"}));
  const absl::Duration call = absl::Now() - began;
  ASSERT_TRUE(o.exit.has_value());
  EXPECT_GE(call, absl::Milliseconds(300))
      << "no drain: the test tests nothing";
  const absl::Duration wall = absl::Seconds(Exit(o).wall_time().seconds()) +
                              absl::Nanoseconds(Exit(o).wall_time().nanos());
  // The drain came after the exit: it is in the call's time, not the
  // child's.
  EXPECT_LE(wall + absl::Milliseconds(250), call);
  EXPECT_GT(wall, absl::ZeroDuration());
  EXPECT_TRUE(Eventually([] { return ProcessesWithArg("303").empty(); }));
}

TEST_F(SpawnTest, OrphansAreReparentedToTheServerAndReaped) {
  // A double fork into a new session: the orphan leaves the call's process
  // group, so only the subreaper can catch it.
  Outcome o = RunSpawn(*server_,
                       Start({"sh", "-c", "(setsid sleep 310 &) ; echo done"}));
  EXPECT_EQ(o.out, "done\n");
  std::vector<pid_t> orphans;
  ASSERT_TRUE(Eventually([&] {
    orphans = ProcessesWithArg("310");
    return orphans.size() == 1;
  }));
  std::vector<pid_t> children = ChildrenOf(server_->server_pid());
  ASSERT_THAT(children, ::testing::Contains(orphans[0]))
      << "not re-parented to rexecd";
  kill(orphans[0], SIGKILL);
  EXPECT_TRUE(Eventually([&] { return ChildrenOf(server_->server_pid()).empty(); }))
      << "the orphan's zombie was not reaped";
}

// Orphans that die at once: their SIGCHLDs merge into fewer signals than
// exits, and the reaper's sweep reaps the ones no signal named.
TEST_F(SpawnTest, OrphansThatDieAtOnceAreAllReaped) {
  Outcome o = RunSpawn(
      *server_,
      Start({"sh", "-c",
             "for i in $(seq 60); do (setsid sleep 311 &); done; echo done"}));
  EXPECT_EQ(o.out, "done\n");
  std::vector<pid_t> orphans;
  ASSERT_TRUE(Eventually([&] {
    orphans = ProcessesWithArg("311");
    return orphans.size() == 60;
  })) << orphans.size() << " orphans";
  for (pid_t pid : orphans) kill(pid, SIGKILL);
  EXPECT_TRUE(
      Eventually([&] { return ChildrenOf(server_->server_pid()).empty(); }))
      << ChildrenOf(server_->server_pid()).size() << " zombies left";
}

TEST_F(SpawnTest, TwoHundredConcurrentCalls) {
  constexpr int kCalls = 200;
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] {
      Outcome o = RunSpawn(
          *server_, Start({"sh", "-c", "read x; echo $x-" + std::to_string(i)}),
          "call\n");
      if (o.status.ok() && o.out == "call-" + std::to_string(i) + "\n" &&
          o.exit && Exit(o).code() == 0) {
        ++good;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), kCalls);
}

TEST_F(SpawnTest, ClientThatStopsReadingDoesNotGrowTheServer) {
  client::SpawnSession session(server_->stub(), Start({HelperPath(), "spray"}),
                               absl::Now() + absl::Seconds(20));
  SpawnResponse r;
  ASSERT_TRUE(session.Read(&r));
  int64_t rss_before = server_->RssBytes();
  pid_t child = server_->HostPid(r.started().pid());
  // Blocked: the child sits in write(2) on its full pipe, and its count of
  // bytes written stops moving (gRPC's flow-control windows fill first).
  std::string syscall_path = "/proc/" + std::to_string(child) + "/syscall";
  std::string io_path = "/proc/" + std::to_string(child) + "/io";
  auto written = [&] {
    std::ifstream in(io_path);
    std::string key;
    long long value = 0;
    while (in >> key >> value) {
      if (key == "wchar:") return value;
    }
    return -1LL;
  };
  long long last = -1;
  auto blocked = [&] {
    std::ifstream in(syscall_path);
    std::string nr;
    in >> nr;
    long long now = written();
    bool stalled = nr == "1" && now == last;
    last = now;
    if (!stalled) absl::SleepFor(absl::Milliseconds(200));
    return stalled;
  };
  ASSERT_TRUE(Eventually(blocked, absl::Seconds(30)))
      << "the child never blocked";
  EXPECT_LT(last, 64 << 20) << "bytes accepted from a child nobody reads";
  int64_t growth = server_->RssBytes() - rss_before;
  EXPECT_LT(growth, 32 << 20) << "server RSS grew by " << growth;
  session.Cancel();
}

}  // namespace
}  // namespace rexec::testing
