// The supervisor's state machine driven without a gRPC server: a
// completion queue of the test's own, pumped on the test's thread (so the
// supervisor is touched by one thread, as on a server), a real poller and
// real children, and an Owner that records what it hears.
#include "server/rpc/supervisor.h"

#include <signal.h>

#include <functional>
#include <memory>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/rpc/tag.h"

namespace rexec::rpc {
namespace {

using ::testing::HasSubstr;

class RecordingOwner : public ChildHandle::Owner {
 public:
  bool HasOutputRoom() override { return room; }
  void OnOutput(ChildHandle::Stream stream, std::string data) override {
    (stream == ChildHandle::Stream::kStdout ? out : err) += data;
  }
  void OnInputWritten(ChildHandle::Input input) override { ++written; }
  void OnExit(v1::ExitStatus status) override {
    EXPECT_FALSE(exit.has_value()) << "two exits";
    EXPECT_FALSE(done) << "exit after done";
    exit = status;
  }
  void OnSupervisorDone() override { done = true; }

  bool room = true;
  std::string out, err;
  int written = 0;
  std::optional<v1::ExitStatus> exit;
  bool done = false;
};

class SupervisorTest : public ::testing::Test {
 protected:
  SupervisorTest() {
    poller_ = *process::Poller::Create();
    ServerConfig config;
    config.sessions.replay_buffer = 1 << 16;
    state_ = std::make_unique<ServerState>(config, poller_.get(), nullptr,
                                           nullptr);
  }
  ~SupervisorTest() override {
    supervisor_.reset();
    cq_.Shutdown();
    void* tag;
    bool ok;
    while (cq_.Next(&tag, &ok)) static_cast<Tag*>(tag)->Run(ok);
  }

  static LaunchPlan Plan(std::vector<std::string> argv) {
    LaunchPlan plan;
    plan.spawn.argv = std::move(argv);
    plan.stop.kill_grace = absl::Milliseconds(300);
    return plan;
  }

  void Start(const LaunchPlan& plan) {
    supervisor_ = std::make_unique<Supervisor>(state_.get(), &cq_, &owner_);
    absl::Status status = supervisor_->Start(plan, "tester");
    ASSERT_TRUE(status.ok()) << status;
  }

  // Runs the queue's tags on this thread until `until` holds (or `limit`).
  bool Pump(const std::function<bool()>& until,
            absl::Duration limit = absl::Seconds(20)) {
    const absl::Time deadline = absl::Now() + limit;
    while (!until()) {
      if (absl::Now() > deadline) return false;
      void* tag = nullptr;
      bool ok = false;
      if (cq_.AsyncNext(&tag, &ok,
                        std::chrono::system_clock::now() +
                            std::chrono::milliseconds(50)) ==
          grpc::CompletionQueue::GOT_EVENT) {
        static_cast<Tag*>(tag)->Run(ok);
      }
    }
    return true;
  }

  grpc::CompletionQueue cq_;
  std::unique_ptr<process::Poller> poller_;
  std::unique_ptr<ServerState> state_;
  RecordingOwner owner_;
  std::unique_ptr<Supervisor> supervisor_;
};

TEST_F(SupervisorTest, RunsAChildToItsExitAndIsDoneAfter) {
  Start(Plan({"sh", "-c", "echo out; echo err >&2; exit 3"}));
  EXPECT_EQ(state_->running_children(), 1);
  ASSERT_TRUE(Pump([&] { return owner_.done; }));
  EXPECT_EQ(owner_.out, "out\n");
  EXPECT_EQ(owner_.err, "err\n");
  ASSERT_TRUE(owner_.exit.has_value());
  EXPECT_EQ(owner_.exit->code(), 3);
  EXPECT_EQ(owner_.exit->reason(), v1::TERMINATION_REASON_EXITED);
  EXPECT_EQ(state_->running_children(), 0);
  EXPECT_EQ(supervisor_->reported_exit()->code(), 3);
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

TEST_F(SupervisorTest, NoRoomMeansNoReadUntilResumed) {
  owner_.room = false;
  Start(Plan({"sh", "-c", "echo held"}));
  // The child exits, but its output waits for room: no exit before it.
  // Its turns for a while (under --drain-timeout, after which the output
  // would be given up): nothing can be reported.
  Pump([] { return false; }, absl::Milliseconds(500));
  EXPECT_EQ(owner_.out, "");
  EXPECT_FALSE(owner_.exit.has_value());
  owner_.room = true;
  supervisor_->ResumeOutput();
  ASSERT_TRUE(Pump([&] { return owner_.done; }));
  EXPECT_EQ(owner_.out, "held\n");
}

TEST_F(SupervisorTest, ATimeoutStopsTheChildWithItsPolicy) {
  LaunchPlan plan = Plan({"sleep", "30"});
  plan.stop.timeout = absl::Milliseconds(100);
  Start(plan);
  ASSERT_TRUE(Pump([&] { return owner_.done; }));
  EXPECT_EQ(owner_.exit->signal(), "SIGTERM");
  EXPECT_EQ(owner_.exit->reason(), v1::TERMINATION_REASON_TIMED_OUT);
}

TEST_F(SupervisorTest, AChildIgnoringTheKillSignalGetsSigkillAfterTheGrace) {
  Start(Plan({"sh", "-c", "trap '' TERM; echo ready; while :; do :; done"}));
  ASSERT_TRUE(Pump([&] { return owner_.out == "ready\n"; }));
  const absl::Time stopped = absl::Now();
  supervisor_->Stop(v1::TERMINATION_REASON_CLIENT_GONE);
  supervisor_->Stop(v1::TERMINATION_REASON_TIMED_OUT);  // the first stays
  ASSERT_TRUE(Pump([&] { return owner_.done; }));
  EXPECT_GE(absl::Now() - stopped, absl::Milliseconds(250));
  EXPECT_EQ(owner_.exit->signal(), "SIGKILL");
  EXPECT_EQ(owner_.exit->reason(), v1::TERMINATION_REASON_CLIENT_GONE);
}

TEST_F(SupervisorTest, AStragglerHoldingThePipesGetsThePolicyAfterTheExit) {
  // The leader exits at once; its background child keeps stdout open.
  Start(Plan({"sh", "-c", "sleep 30 & echo leader"}));
  ASSERT_TRUE(Pump([&] { return owner_.done; }));
  EXPECT_EQ(owner_.exit->code(), 0);
  EXPECT_EQ(owner_.out, "leader\n");
}

TEST_F(SupervisorTest, ASessionOutlivesItsOwnerAndLogsWhatItWrites) {
  LaunchPlan plan = Plan({"sh", "-c", "echo early; read x; echo late-$x"});
  plan.detach = true;
  plan.session_name = "job";
  Start(plan);
  const std::string id = supervisor_->session_id();
  ASSERT_FALSE(id.empty());
  absl::StatusOr<Session> session = state_->sessions().Find("tester", "job");
  ASSERT_TRUE(session.ok()) << session.status();
  ASSERT_TRUE(Pump([&] { return owner_.out == "early\n"; }));

  // The owner goes; the supervisor owns itself from here.
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
  EXPECT_EQ(session->log->exit()->code(), 0);
  // Ended, not collected (its call was gone); and the control is closed.
  absl::StatusOr<Session> ended = state_->sessions().Find("tester", id);
  ASSERT_TRUE(ended.ok());
  EXPECT_TRUE(ended->ended.has_value());
  EXPECT_FALSE(session->control->Post(SessionMail()).ok());
  // It deleted itself: its call count went back to none.
  std::atomic<bool> none{false};
  std::thread waiter([&] {
    state_->WaitForNoCalls();
    none = true;
  });
  Pump([&] { return none.load(); });
  waiter.join();
}

TEST_F(SupervisorTest, AStopMailUsesThePolicyAndCollectsNothing) {
  LaunchPlan plan = Plan({"sleep", "30"});
  plan.detach = true;
  Start(plan);
  absl::StatusOr<Session> session =
      state_->sessions().Find("tester", supervisor_->session_id());
  ASSERT_TRUE(session.ok());
  SessionMail stop;
  stop.kind = SessionMail::Kind::kStop;
  stop.reason = v1::TERMINATION_REASON_SERVER_SHUTDOWN;
  ASSERT_TRUE(session->control->Post(stop).ok());
  ASSERT_TRUE(Pump([&] { return owner_.done; }));
  EXPECT_EQ(owner_.exit->reason(), v1::TERMINATION_REASON_SERVER_SHUTDOWN);
  // Its own call heard the exit: that collects it.
  EXPECT_FALSE(state_->sessions().Find("tester", session->id).ok());
}

TEST_F(SupervisorTest, AFailedStartGivesItsSessionPlaceBack) {
  LaunchPlan plan = Plan({"/no/such/program"});
  plan.detach = true;
  plan.session_name = "ghost";
  supervisor_ = std::make_unique<Supervisor>(state_.get(), &cq_, &owner_);
  absl::Status status = supervisor_->Start(plan, "tester");
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(state_->sessions().size(), 0);
  EXPECT_EQ(state_->running_children(), 0);
}

}  // namespace
}  // namespace rexec::rpc
