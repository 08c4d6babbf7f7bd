// Attachment with no server and no process: a session reserved in the
// table, its log written by the test as a supervisor would, its mail taken
// by the test. Replay from offsets, lost bytes, following and catching up,
// the exit and who collects the session, input as mail, and refusals.
#include "server/table/attachment.h"

#include <memory>
#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/table/recording_owner.h"
#include "tests/table/test_executor.h"

namespace rexec::table {
namespace {

using ::testing::HasSubstr;

class AttachmentTest : public ::testing::Test {
 protected:
  AttachmentTest() {
    TableConfig config;
    config.sessions.replay_buffer = 16;  // bytes kept per stream
    table_ = std::make_unique<ProcessTable>(config, nullptr, &events_);
    absl::StatusOr<Session> session =
        table_->Reserve("alice", "job", {"sh"}, false);
    EXPECT_TRUE(session.ok());
    table_->Add(&member_, "alice", 4242, absl::Now(), session->process);
    session_ = *table_->Find("alice", "job");
    session_.control->Open([this] { ++mail_rung_; });
  }

  std::unique_ptr<Attachment> Attach(Attachment::Options options = {}) {
    auto attachment = std::make_unique<Attachment>(
        table_.get(), &executor_, &owner_, session_, options);
    absl::Status begun = attachment->Begin();
    EXPECT_TRUE(begun.ok()) << begun;
    return attachment;
  }
  void End(int code) {
    session_.log->SetExit(ExitReport{process::ExitStatus::Exited(code),
                                     TerminationReason::kExited,
                                     absl::Seconds(1)});
  }

  class NoDrain : public ProcessTable::Member {
    void OnDrainBegun() override {}
  } member_;
  TestExecutor executor_;
  CountingEvents events_;
  std::unique_ptr<ProcessTable> table_;
  Session session_;
  int mail_rung_ = 0;
  RecordingOwner owner_;
};

TEST_F(AttachmentTest, ReplaysWhatIsKeptThenFollowsToTheExit) {
  session_.log->Append(SessionLog::kStdout, "hello ");
  session_.log->Append(SessionLog::kStderr, "warn");
  auto attachment = Attach();
  EXPECT_EQ(owner_.out, "") << "output comes from a turn, not from Begin()";
  ASSERT_TRUE(executor_.RunUntil([&] { return owner_.out == "hello "; }));
  EXPECT_EQ(owner_.err, "warn");
  // Live output follows.
  session_.log->Append(SessionLog::kStdout, "world");
  ASSERT_TRUE(executor_.RunUntil([&] { return owner_.out == "hello world"; }));
  EXPECT_EQ(attachment->offset(ChildHandle::Stream::kStdout), 11u);
  End(7);
  ASSERT_TRUE(executor_.RunUntil([&] { return owner_.done; }));
  ASSERT_TRUE(owner_.exit.has_value());
  EXPECT_EQ(owner_.exit->status.code(), 7);
  EXPECT_EQ(attachment->bytes_out(), 15u);
  // Whoever sees the exit and may type collects the session.
  EXPECT_FALSE(table_->Find("alice", "job").ok());
}

TEST_F(AttachmentTest, AnOffsetNoLongerKeptIsReportedLost) {
  // 40 bytes into a ring of 16: the first 24 are gone.
  session_.log->Append(SessionLog::kStdout,
                       "0123456789abcdefghijklmnopqrstuvwxyzABCD");
  Attachment::Options options;
  options.from[0] = 4;
  auto attachment = Attach(options);
  ASSERT_TRUE(executor_.RunUntil([&] { return !owner_.out.empty(); }));
  EXPECT_EQ(owner_.lost, 20u);
  EXPECT_EQ(owner_.resumed_at, 24u);
  EXPECT_EQ(owner_.out, "opqrstuvwxyzABCD");
}

TEST_F(AttachmentTest, AnOffsetPastTheEndIsLiveOutputOnly) {
  session_.log->Append(SessionLog::kStdout, "old");
  Attachment::Options options;
  options.from[0] = 1000;
  auto attachment = Attach(options);
  EXPECT_EQ(attachment->offset(ChildHandle::Stream::kStdout), 3u);
  session_.log->Append(SessionLog::kStdout, "new");
  ASSERT_TRUE(executor_.RunUntil([&] { return owner_.out == "new"; }));
  EXPECT_EQ(owner_.lost, 0u);
}

TEST_F(AttachmentTest, NoRoomHoldsTheReadUntilResumed) {
  owner_.room = false;
  session_.log->Append(SessionLog::kStdout, "wait");
  auto attachment = Attach();
  executor_.RunFor(absl::Milliseconds(50));
  EXPECT_EQ(owner_.out, "");
  owner_.room = true;
  attachment->ResumeOutput();
  ASSERT_TRUE(executor_.RunUntil([&] { return owner_.out == "wait"; }));
}

TEST_F(AttachmentTest, AnOutputOnlyReaderThatDoesNotFollowCatchesUp) {
  session_.log->Append(SessionLog::kStdout, "so far");
  Attachment::Options options;
  options.output_only = true;
  options.follow = false;
  auto attachment = Attach(options);
  ASSERT_TRUE(executor_.RunUntil([&] { return owner_.done; }));
  EXPECT_TRUE(owner_.caught_up);
  EXPECT_EQ(owner_.out, "so far");
  EXPECT_FALSE(owner_.exit.has_value());
  // An output-only reader does not collect an ended session either.
  End(0);
  RecordingOwner second;
  Attachment reader(table_.get(), &executor_, &second, session_, options);
  ASSERT_TRUE(reader.Begin().ok());
  ASSERT_TRUE(executor_.RunUntil([&] { return second.done; }));
  EXPECT_TRUE(second.exit.has_value());
  EXPECT_TRUE(table_->Find("alice", "job").ok());
}

TEST_F(AttachmentTest, LettingGoLeavesTheSessionAndDetachAndReattachWork) {
  session_.log->Append(SessionLog::kStdout, "first ");
  auto attachment = Attach();
  ASSERT_TRUE(executor_.RunUntil([&] { return owner_.out == "first "; }));
  const uint64_t at = attachment->offset(ChildHandle::Stream::kStdout);
  attachment->Stop(TerminationReason::kClientGone);
  ASSERT_TRUE(executor_.RunUntil([&] { return owner_.done; }));
  attachment.reset();
  EXPECT_EQ(session_.log->watchers(), 0);
  EXPECT_TRUE(table_->Find("alice", "job").ok());
  EXPECT_EQ(mail_rung_, 0) << "letting go sends the session nothing";
  // Written while detached; a new attachment from where the last stopped.
  session_.log->Append(SessionLog::kStdout, "second");
  owner_ = RecordingOwner();
  Attachment::Options options;
  options.from[0] = at;
  auto again = Attach(options);
  ASSERT_TRUE(executor_.RunUntil([&] { return owner_.out == "second"; }));
}

TEST_F(AttachmentTest, InputIsMailAndEachChunkWaitsForItsWrite) {
  auto attachment = Attach();
  attachment->WriteInput(ChildHandle::Input::kStdin, "typed");
  EXPECT_EQ(mail_rung_, 1);
  std::deque<SessionMail> mail = session_.control->Take();
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(mail[0].kind, SessionMail::Kind::kStdin);
  EXPECT_EQ(mail[0].data, "typed");
  executor_.RunFor(absl::Milliseconds(30));
  EXPECT_EQ(owner_.written, 0) << "not before the supervisor wrote it";
  mail[0].done(absl::OkStatus());
  ASSERT_TRUE(executor_.RunUntil([&] { return owner_.written == 1; }));
  EXPECT_EQ(attachment->bytes_in(), 5u);
  // Signals and resizes are mail too; a bad one is refused here.
  EXPECT_EQ(attachment->Signal("SIGNOPE").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(attachment->Signal("SIGINT").ok());
  EXPECT_EQ(attachment->Resize({10, 10}).code(),
            absl::StatusCode::kFailedPrecondition)
      << "no terminal";
  mail = session_.control->Take();
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(mail[0].kind, SessionMail::Kind::kSignal);
}

TEST_F(AttachmentTest, ARefusedChunkEndsTheCallWithTheRefusal) {
  auto attachment = Attach();
  attachment->WriteInput(ChildHandle::Input::kStdin, "too much");
  std::deque<SessionMail> mail = session_.control->Take();
  ASSERT_EQ(mail.size(), 1u);
  mail[0].done(absl::ResourceExhaustedError("the session's stdin is full"));
  ASSERT_TRUE(executor_.RunUntil([&] { return !owner_.refused.ok(); }));
  EXPECT_EQ(owner_.refused.code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(AttachmentTest, ARevokedSessionEndsItsAttachments) {
  auto attachment = Attach();
  executor_.RunFor(absl::Milliseconds(20));
  session_.log->Revoke(absl::PermissionDeniedError("not any more"));
  session_.log->Append(SessionLog::kStdout, "x");  // rings the watchers
  ASSERT_TRUE(executor_.RunUntil([&] { return owner_.done; }));
  EXPECT_EQ(owner_.refused.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(owner_.out, "");
}

TEST_F(AttachmentTest, ASessionHasAtMostSoManyAttachments) {
  std::vector<std::unique_ptr<Attachment>> many;
  std::vector<std::unique_ptr<RecordingOwner>> owners;
  for (int i = 0; i < SessionLog::kMaxWatchers; ++i) {
    owners.push_back(std::make_unique<RecordingOwner>());
    many.push_back(std::make_unique<Attachment>(
        table_.get(), &executor_, owners.back().get(), session_,
        Attachment::Options()));
    ASSERT_TRUE(many.back()->Begin().ok());
  }
  Attachment one_more(table_.get(), &executor_, &owner_, session_,
                      Attachment::Options());
  absl::Status refused = one_more.Begin();
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.message(), HasSubstr("attachments, as many as it may"));
}

TEST_F(AttachmentTest, ItMayGoWithATurnOnItsWay) {
  auto attachment = Attach();
  session_.log->Append(SessionLog::kStdout, "x");
  attachment.reset();  // its bell's turn is posted: it finds nobody
  executor_.RunFor(absl::Milliseconds(30));
  EXPECT_EQ(owner_.out, "");
  EXPECT_FALSE(owner_.done);
}

}  // namespace
}  // namespace rexec::table
