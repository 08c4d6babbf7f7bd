// ProcessTable: ids and names per identity, caps, lookups that never cross
// identities, and the expiry of ended sessions.
#include "server/rpc/process_table.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rexec::rpc {
namespace {

using ::testing::HasSubstr;

std::string Add(ProcessTable& table, const std::string& who,
                const std::string& name = "") {
  absl::StatusOr<Session> session = table.Reserve(who, name, {"sleep"}, false);
  EXPECT_TRUE(session.ok()) << session.status();
  if (!session.ok()) return "";
  table.Started(session->id, 100, absl::Now());
  return session->id;
}

TEST(ProcessTable, SessionsAreFoundByIdOrNameByTheirIdentityOnly) {
  ProcessTable table({});
  const std::string id = Add(table, "alice", "build");
  EXPECT_THAT(id, ::testing::StartsWith("s"));
  EXPECT_EQ(table.Find("alice", id)->name, "build");
  EXPECT_EQ(table.Find("alice", "build")->id, id);
  for (const std::string& key : {id, std::string("build")}) {
    absl::StatusOr<Session> other = table.Find("bob", key);
    EXPECT_EQ(other.status().code(), absl::StatusCode::kNotFound);
  }
  EXPECT_EQ(table.List("alice").size(), 1u);
  EXPECT_TRUE(table.List("bob").empty());
  // bob may use the same name.
  EXPECT_NE(Add(table, "bob", "build"), "");
  EXPECT_EQ(table.Reserve("alice", "build", {}, false).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(ProcessTable, AReservedSessionIsInvisibleUntilStarted) {
  ProcessTable table({});
  absl::StatusOr<Session> reserved = table.Reserve("alice", "", {"x"}, false);
  ASSERT_TRUE(reserved.ok());
  EXPECT_TRUE(table.List("alice").empty());
  EXPECT_FALSE(table.Find("alice", reserved->id).ok());
  table.Remove(reserved->id);
  EXPECT_EQ(table.size(), 0);
}

TEST(ProcessTable, NamesAreCheckedAndCannotLookLikeIds) {
  ProcessTable table({});
  for (const std::string& bad :
       {std::string("1abc"), std::string("s42"), std::string("a b"),
        std::string("a/b"), std::string(65, 'a'), std::string("-x")}) {
    absl::StatusOr<Session> session = table.Reserve("alice", bad, {}, false);
    EXPECT_EQ(session.status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
    EXPECT_THAT(session.status().message(), HasSubstr("options.name"));
  }
  EXPECT_TRUE(table.Reserve("alice", "s", {}, false).ok());
  EXPECT_TRUE(table.Reserve("alice", "web-1.prod_x", {}, false).ok());
}

TEST(ProcessTable, CapsPerIdentityAndInAll) {
  SessionLimits limits;
  limits.max_per_identity = 2;
  limits.max_total = 3;
  ProcessTable table(limits);
  Add(table, "alice");
  Add(table, "alice");
  absl::StatusOr<Session> third = table.Reserve("alice", "", {}, false);
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(third.status().message(), HasSubstr("--max-detached"));
  Add(table, "bob");
  absl::StatusOr<Session> fourth = table.Reserve("carol", "", {}, false);
  EXPECT_EQ(fourth.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(fourth.status().message(), HasSubstr("--max-detached-total"));
}

// A few identities cannot take every session: past its first four, an
// identity takes only from the first three quarters of the total.
TEST(ProcessTable, TheLastQuarterIsKeptForIdentitiesWithFewSessions) {
  SessionLimits limits;
  limits.max_per_identity = 32;
  limits.max_total = 16;
  ProcessTable table(limits);
  for (int i = 0; i < 12; ++i) Add(table, "alice");
  absl::StatusOr<Session> greedy = table.Reserve("alice", "", {}, false);
  EXPECT_EQ(greedy.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(greedy.status().message(),
              HasSubstr("alice has 12 sessions, and the server 12: the last 4 "
                        "of the 16 (--max-detached-total) are kept for "
                        "identities with fewer than 4"));
  for (int i = 0; i < 4; ++i) Add(table, "bob");
  absl::StatusOr<Session> full = table.Reserve("carol", "", {}, false);
  EXPECT_EQ(full.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(full.status().message(), HasSubstr("--max-detached-total"));
}

TEST(ProcessTable, EndedSessionsExpireAfterKeepEnded) {
  SessionLimits limits;
  limits.keep_ended = absl::Milliseconds(500);
  ProcessTable table(limits);
  const std::string ended = Add(table, "alice");
  const std::string running = Add(table, "alice");
  table.Ended(ended);
  EXPECT_EQ(table.List("alice").size(), 2u);
  absl::SleepFor(absl::Milliseconds(600));
  std::vector<Session> left = table.List("alice");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].id, running);
  EXPECT_FALSE(table.Find("alice", ended).ok());
}

TEST(ProcessTable, PostToAllReachesRunningSessionsOnly) {
  ProcessTable table({});
  const std::string a = Add(table, "alice");
  const std::string b = Add(table, "bob");
  int rung = 0;
  table.Find("alice", a)->control->Open([&] { ++rung; });
  table.Find("bob", b)->control->Open([&] { ++rung; });
  table.Ended(b);
  SessionMail stop;
  stop.kind = SessionMail::Kind::kStop;
  table.PostToAll(stop);
  EXPECT_EQ(rung, 1);
  EXPECT_EQ(table.Find("alice", a)->control->Take().size(), 1u);
}

TEST(SessionControl, MailIsBoundedAndRefusedOnceClosed) {
  SessionControl control;
  EXPECT_EQ(control.Post(SessionMail()).code(), absl::StatusCode::kUnavailable);
  control.Open([] {});
  for (size_t i = 0; i < SessionControl::kMaxMail; ++i) {
    ASSERT_TRUE(control.Post(SessionMail()).ok());
  }
  EXPECT_EQ(control.Post(SessionMail()).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(control.Take().size(), SessionControl::kMaxMail);
  EXPECT_TRUE(control.Post(SessionMail()).ok());
  EXPECT_EQ(control.Close().size(), 1u);
  EXPECT_EQ(control.Post(SessionMail()).code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace rexec::rpc
