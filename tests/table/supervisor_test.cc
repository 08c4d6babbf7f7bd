// The supervisor's state machine with no gRPC at all: a test executor the
// test turns on its own thread (so the supervisor is touched by one
// thread, as on a server), a real poller and real children, and an Owner
// that records what it hears.
#include "server/table/supervisor.h"

#include <signal.h>

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/table/recording_owner.h"
#include "tests/table/test_executor.h"

namespace rexec::table {
namespace {

using ::testing::HasSubstr;

class SupervisorTest : public ::testing::Test {
 protected:
  SupervisorTest() {
    // As rexecd: a write to a child that is gone is EPIPE, not a signal.
    signal(SIGPIPE, SIG_IGN);
    poller_ = *process::Poller::Create();
    TableConfig config;
    config.sessions.replay_buffer = 1 << 16;
    table_ = std::make_unique<ProcessTable>(config, poller_.get(), &events_);
  }
  ~SupervisorTest() override {
    supervisor_.reset();
    executor_.RunFor(absl::Milliseconds(50));
  }

  static Launch Plan(std::vector<std::string> argv) {
    Launch launch;
    launch.spawn.argv = std::move(argv);
    launch.stop.kill_grace = absl::Milliseconds(300);
    launch.identity = "tester";
    return launch;
  }

  void Start(Launch launch) {
    supervisor_ = std::make_unique<Supervisor>(table_.get(), &executor_,
                                               &owner_);
    absl::Status status = supervisor_->Start(std::move(launch));
    ASSERT_TRUE(status.ok()) << status;
  }

  bool Pump(const std::function<bool()>& until,
            absl::Duration limit = absl::Seconds(20)) {
    return executor_.RunUntil(until, limit);
  }

  TestExecutor executor_;
  CountingEvents events_;
  std::unique_ptr<process::Poller> poller_;
  std::unique_ptr<ProcessTable> table_;
  RecordingOwner owner_;
  std::unique_ptr<Supervisor> supervisor_;
};

TEST_F(SupervisorTest, RunsAChildToItsExitAndIsDoneAfter) {
  Start(Plan({"sh", "-c", "echo out; echo err >&2; exit 3"}));
  EXPECT_EQ(table_->running_children(), 1);
  ASSERT_TRUE(Pump([&] { return owner_.done; }));
  EXPECT_EQ(owner_.out, "out\n");
  EXPECT_EQ(owner_.err, "err\n");
  ASSERT_TRUE(owner_.exit.has_value());
  EXPECT_EQ(owner_.exit->status.code(), 3);
  EXPECT_EQ(owner_.exit->reason, TerminationReason::kExited);
  EXPECT_EQ(table_->running_children(), 0);
  EXPECT_EQ(supervisor_->reported_exit()->status.code(), 3);
  EXPECT_EQ(supervisor_->phase(), Supervisor::Phase::kDone);
  EXPECT_EQ(events_.spawned, 1);
  EXPECT_EQ(events_.exited, 1);
  EXPECT_EQ(events_.bytes[static_cast<int>(ProcessEvents::Bytes::kStdout)],
            4u);
  // Done means nothing of it is left on the executor.
  EXPECT_EQ(executor_.timers(), 0);
}

TEST_F(SupervisorTest, InputIsWrittenOneChunkAtATimeThenClosed) {
  Start(Plan({"cat"}));
  supervisor_->WriteInput(ChildHandle::Input::kStdin, "hello ");
  ASSERT_TRUE(Pump([&] { return owner_.written == 1; }));
  supervisor_->WriteInput(ChildHandle::Input::kStdin, "world");
  ASSERT_TRUE(Pump([&] { return owner_.written == 2; }));
  supervisor_->CloseInput(ChildHandle::Input::kStdin);
  ASSERT_TRUE(Pump([&] { return owner_.done; }));
  EXPECT_EQ(owner_.out, "hello world");
  EXPECT_EQ(supervisor_->bytes_in(), 11u);
}

// A child's pipes as the child sees them: `size(fd)` is F_GETPIPE_SZ, and
// `queued(fd)` the bytes waiting in it.
constexpr char kPipeProbe[] = R"(
import array, fcntl, os, sys, termios, time
def size(fd): return fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ)
def queued(fd):
    n = array.array('i', [0]); fcntl.ioctl(fd, termios.FIONREAD, n); return n[0]
)";

TEST_F(SupervisorTest, AQuietChildsPipesKeepTheDefaultSize) {
  // Looked at once the server is done with stdin, long after it connected
  // the pipes: a pipe grown at the start would show by then.
  Start(Plan({"/usr/bin/python3", "-c", std::string(kPipeProbe) + R"(
sys.stdin.buffer.read()
sys.stderr.write(f"{size(0)} {size(1)} {size(2)}")
)"}));
  supervisor_->WriteInput(ChildHandle::Input::kStdin, "a line\n");
  supervisor_->CloseInput(ChildHandle::Input::kStdin);
  ASSERT_TRUE(Pump([&] { return owner_.done; }));
  EXPECT_EQ(owner_.err, "65536 65536 65536");
}

TEST_F(SupervisorTest, APipeIsGrownOnceFoundFull) {
  // stdout: the child's write of a MiB ends only after many reads, the
  // first of which found the pipe full. stdin: the child reads nothing, so
  // more than a default pipe-full can wait in it only once it was grown.
  Start(Plan({"/usr/bin/python3", "-c", std::string(kPipeProbe) + R"(
os.write(1, b"x" * (1 << 20))
deadline = time.monotonic() + 10
while queued(0) <= 65536 and time.monotonic() < deadline:
    time.sleep(0.001)
sys.stderr.write(f"{size(1)} {size(0)} {size(2)}")
)"}));
  supervisor_->WriteInput(ChildHandle::Input::kStdin,
                          std::string(2 << 20, 'y'));
  ASSERT_TRUE(Pump([&] { return owner_.done; }));
  EXPECT_EQ(owner_.out.size(), 1u << 20);
  EXPECT_EQ(owner_.err, "1048576 1048576 65536");
}

TEST_F(SupervisorTest, NoRoomMeansNoReadUntilResumed) {
  owner_.room = false;
  Start(Plan({"sh", "-c", "echo held"}));
  // The child exits, but its output waits for room: no exit before it.
  // Its turns for a while (under the drain timeout, after which the output
  // would be given up): nothing can be reported.
  executor_.RunFor(absl::Milliseconds(500));
  EXPECT_EQ(owner_.out, "");
  EXPECT_FALSE(owner_.exit.has_value());
  owner_.room = true;
  supervisor_->ResumeOutput();
  ASSERT_TRUE(Pump([&] { return owner_.done; }));
  EXPECT_EQ(owner_.out, "held\n");
}

TEST_F(SupervisorTest, ATimeoutStopsTheChildWithItsPolicy) {
  Launch launch = Plan({"sleep", "30"});
  launch.stop.timeout = absl::Milliseconds(100);
  Start(std::move(launch));
  ASSERT_TRUE(Pump([&] { return owner_.done; }));
  EXPECT_EQ(owner_.exit->status.signal_number(), SIGTERM);
  EXPECT_EQ(owner_.exit->reason, TerminationReason::kTimedOut);
}

TEST_F(SupervisorTest, AChildIgnoringTheKillSignalGetsSigkillAfterTheGrace) {
  Start(Plan({"sh", "-c", "trap '' TERM; echo ready; while :; do :; done"}));
  ASSERT_TRUE(Pump([&] { return owner_.out == "ready\n"; }));
  const absl::Time stopped = absl::Now();
  supervisor_->Stop(TerminationReason::kClientGone);
  supervisor_->Stop(TerminationReason::kTimedOut);  // the first stays
  ASSERT_TRUE(Pump([&] { return owner_.done; }));
  EXPECT_GE(absl::Now() - stopped, absl::Milliseconds(250));
  EXPECT_EQ(owner_.exit->status.signal_number(), SIGKILL);
  EXPECT_EQ(owner_.exit->reason, TerminationReason::kClientGone);
}

TEST_F(SupervisorTest, AClientsSignalMakesTheDeathSignaled) {
  Start(Plan({"sleep", "30"}));
  EXPECT_EQ(supervisor_->Signal("SIGNOPE").code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(supervisor_->Signal("SIGINT").ok());
  ASSERT_TRUE(Pump([&] { return owner_.done; }));
  EXPECT_EQ(owner_.exit->status.signal_number(), SIGINT);
  EXPECT_EQ(owner_.exit->reason, TerminationReason::kSignaled);
}

TEST_F(SupervisorTest, AStragglerHoldingThePipesGetsThePolicyAfterTheExit) {
  // The leader exits at once; its background child keeps stdout open.
  Start(Plan({"sh", "-c", "sleep 30 & echo leader"}));
  ASSERT_TRUE(Pump([&] { return owner_.done; }));
  EXPECT_EQ(owner_.exit->status.code(), 0);
  EXPECT_EQ(owner_.out, "leader\n");
}

TEST_F(SupervisorTest, ADrainStopsTheChildItsKillGraceBeforeTheDeadline) {
  Start(Plan({"sleep", "30"}));
  // The grace is 300 ms: the stop comes 200 ms from now, not at once and
  // not at the deadline.
  const absl::Time began = absl::Now();
  table_->BeginDrain(began + absl::Milliseconds(500));
  ASSERT_TRUE(Pump([&] { return owner_.done; }));
  const absl::Duration took = absl::Now() - began;
  EXPECT_GE(took, absl::Milliseconds(150));
  EXPECT_LT(took, absl::Milliseconds(500) + absl::Seconds(1));
  EXPECT_EQ(owner_.exit->reason, TerminationReason::kServerShutdown);
  EXPECT_EQ(owner_.exit->status.signal_number(), SIGTERM);
}

TEST_F(SupervisorTest, AProcessStartedDuringADrainIsToldAtOnce) {
  table_->BeginDrain(absl::Now() + absl::Milliseconds(100));
  // Less than its grace is left: stopped at once, its grace cut to what
  // is left of the drain.
  const absl::Time began = absl::Now();
  Start(Plan({"sleep", "30"}));
  ASSERT_TRUE(Pump([&] { return owner_.done; }));
  EXPECT_LT(absl::Now() - began, absl::Seconds(2));
  EXPECT_EQ(owner_.exit->reason, TerminationReason::kServerShutdown);
  EXPECT_TRUE(owner_.exit->status.killed());
}

TEST_F(SupervisorTest, ASessionOutlivesItsOwnerAndLogsWhatItWrites) {
  Launch launch = Plan({"sh", "-c", "echo early; read x; echo late-$x"});
  launch.detach = true;
  launch.session_name = "job";
  Start(std::move(launch));
  const std::string id = supervisor_->session_id();
  ASSERT_FALSE(id.empty());
  absl::StatusOr<Session> session = table_->Find("tester", "job");
  ASSERT_TRUE(session.ok()) << session.status();
  ASSERT_TRUE(Pump([&] { return owner_.out == "early\n"; }));

  // The owner goes; the table owns the supervisor from here.
  supervisor_.release()->Release();
  // Mail from another thread, as an attachment's: taken in order.
  std::atomic<int> done{0};
  std::thread mailer([&] {
    SessionMail mail;
    mail.kind = SessionMail::Kind::kStdin;
    mail.data = "x";
    mail.done = [&](absl::Status) { ++done; };
    EXPECT_TRUE(session->control->Post(mail).ok());
    mail.data = "y\n";
    EXPECT_TRUE(session->control->Post(mail).ok());
  });
  mailer.join();
  ASSERT_TRUE(Pump([&] { return session->log->exit().has_value(); }));
  EXPECT_EQ(done, 2);
  EXPECT_EQ(owner_.out, "early\n") << "the owner heard after it let go";
  EXPECT_FALSE(owner_.exit.has_value());
  SessionLog::Chunk all = session->log->Read(SessionLog::kStdout, 0, 100);
  EXPECT_EQ(all.data, "early\nlate-xy\n");
  EXPECT_EQ(session->log->exit()->status.code(), 0);
  // Ended, not collected (its call was gone); and the control is closed.
  absl::StatusOr<Session> ended = table_->Find("tester", id);
  ASSERT_TRUE(ended.ok());
  EXPECT_TRUE(ended->ended.has_value());
  EXPECT_FALSE(session->control->Post(SessionMail()).ok());
  // It deleted itself: the table owns nothing any more.
  ASSERT_TRUE(Pump([&] {
    return table_->WaitForNoAdopted(absl::Now(), /*until_stop=*/false);
  }));
}

TEST_F(SupervisorTest, AStopMailUsesThePolicyAndItsCallCollectsTheSession) {
  Launch launch = Plan({"sleep", "30"});
  launch.detach = true;
  Start(std::move(launch));
  absl::StatusOr<Session> session =
      table_->Find("tester", supervisor_->session_id());
  ASSERT_TRUE(session.ok());
  table_->StopAll(TerminationReason::kServerShutdown);
  ASSERT_TRUE(Pump([&] { return owner_.done; }));
  EXPECT_EQ(owner_.exit->reason, TerminationReason::kServerShutdown);
  // Its own call heard the exit: that collects it.
  EXPECT_FALSE(table_->Find("tester", session->id).ok());
  EXPECT_EQ(table_->sessions(), 0);
}

TEST_F(SupervisorTest, ASessionsStdinQueueIsBounded) {
  // A child that never reads: the pipe fills, then the queue, then the
  // next chunk is refused (not buffered without end).
  Launch launch = Plan({"sleep", "30"});
  launch.detach = true;
  Start(std::move(launch));
  absl::StatusOr<Session> session =
      table_->Find("tester", supervisor_->session_id());
  ASSERT_TRUE(session.ok());
  int posted = 0;
  int accepted = 0;
  int refused = 0;
  std::string refusal;
  const std::string chunk(1 << 20, 'x');
  for (int i = 0; i < 40 && refused == 0; ++i) {
    SessionMail mail;
    mail.kind = SessionMail::Kind::kStdin;
    mail.data = chunk;
    mail.done = [&](absl::Status status) {
      if (status.ok()) {
        ++accepted;
      } else {
        ++refused;
        refusal = std::string(status.message());
      }
    };
    ASSERT_TRUE(session->control->Post(std::move(mail)).ok());
    ++posted;
    executor_.RunOnce(absl::Milliseconds(5));
  }
  EXPECT_EQ(refused, 1);
  EXPECT_THAT(refusal, HasSubstr("waiting for the child to read them"));
  // What the pipe took (1 MiB pipe), and no more than the queue's bound.
  EXPECT_LE(accepted, 2);
  supervisor_->Stop(TerminationReason::kClientGone);
  ASSERT_TRUE(Pump([&] { return owner_.done; }));
  // At most the queue's bound waited; and at the exit every sender heard,
  // none is left waiting.
  EXPECT_LE(posted, 2 + static_cast<int>(StdioPump::kMaxQueuedBytes >> 20));
  EXPECT_EQ(accepted + refused, posted);
}

TEST_F(SupervisorTest, AFailedStartGivesItsSessionPlaceBack) {
  Launch launch = Plan({"/no/such/program"});
  launch.detach = true;
  launch.session_name = "ghost";
  supervisor_ =
      std::make_unique<Supervisor>(table_.get(), &executor_, &owner_);
  absl::Status status = supervisor_->Start(std::move(launch));
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(table_->sessions(), 0);
  EXPECT_EQ(table_->running_children(), 0);
}

TEST_F(SupervisorTest, TheIdentitysCapRefusesTheNextChild) {
  Launch first = Plan({"sleep", "30"});
  first.identity_cap = 1;
  first.rule = "ci";
  Start(std::move(first));
  Launch second = Plan({"sleep", "30"});
  second.identity_cap = 1;
  second.rule = "ci";
  RecordingOwner other;
  Supervisor refused(table_.get(), &executor_, &other);
  absl::Status status = refused.Start(std::move(second));
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(status.message(), HasSubstr("rule \"ci\": max_processes"));
  EXPECT_EQ(table_->running_children(), 1);
}

}  // namespace
}  // namespace rexec::table
