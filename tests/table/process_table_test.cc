// ProcessTable with no server: admission and its caps, sessions (ids and
// names per identity, caps, lookups that never cross identities, the
// expiry of ended ones), the drain's reach and the adopted processes a
// shutdown waits for.
#include "server/table/process_table.h"

#include <atomic>
#include <deque>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rexec::table {
namespace {

using ::testing::HasSubstr;

class FakeMember : public ProcessTable::Member {
 public:
  void OnDrainBegun() override { ++drains; }
  std::atomic<int> drains{0};
};

FakeMember member;

ProcessTable Table(TableConfig config = {}) {
  return ProcessTable(config, nullptr, nullptr);
}
ProcessTable Table(SessionLimits limits) {
  TableConfig config;
  config.sessions = limits;
  return Table(config);
}

// A running session's id.
std::string Add(ProcessTable& table, const std::string& who,
                const std::string& name = "") {
  absl::StatusOr<Session> session = table.Reserve(who, name, {"sleep"}, false);
  EXPECT_TRUE(session.ok()) << session.status();
  if (!session.ok()) return "";
  table.Add(&member, who, 100, absl::Now(), session->process);
  return session->id;
}

ProcessId IdOf(ProcessTable& table, const std::string& who,
               const std::string& session) {
  return table.Find(who, session)->process;
}

TEST(ProcessTable, SessionsAreFoundByIdOrNameByTheirIdentityOnly) {
  ProcessTable table = Table();
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
  ProcessTable table = Table();
  absl::StatusOr<Session> reserved = table.Reserve("alice", "", {"x"}, false);
  ASSERT_TRUE(reserved.ok());
  EXPECT_TRUE(table.List("alice").empty());
  EXPECT_FALSE(table.Find("alice", reserved->id).ok());
  table.Remove(reserved->process);
  EXPECT_EQ(table.sessions(), 0);
}

TEST(ProcessTable, NamesAreCheckedAndCannotLookLikeIds) {
  ProcessTable table = Table();
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
  ProcessTable table = Table(limits);
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

TEST(ProcessTable, ASessionsRingsAreHeldFromTheMemoryBudgetUntilItGoes) {
  TableConfig config;
  config.memory_budget = 5 << 20;
  config.sessions.replay_buffer = 1 << 20;
  ProcessTable table = Table(config);
  const std::string first = Add(table, "alice");
  Add(table, "bob");
  EXPECT_EQ(table.memory_budget().used(), 4u << 20);
  absl::StatusOr<Session> third = table.Reserve("carol", "", {}, false);
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(third.status().message(),
              HasSubstr("rexecd's memory budget is spent: calls hold 4 MiB of "
                        "5 MiB (--memory-budget), and "
                        "a session's replay rings (2 x --replay-buffer) would "
                        "need 2 MiB more"));
  EXPECT_EQ(table.sessions(), 2) << "a refused session holds a place";
  table.Remove(IdOf(table, "alice", first));
  EXPECT_EQ(table.memory_budget().used(), 2u << 20);
  EXPECT_TRUE(table.Reserve("carol", "", {}, false).ok());
}

// A few identities cannot take every session: past its first four, an
// identity takes only from the first three quarters of the total.
TEST(ProcessTable, TheLastQuarterIsKeptForIdentitiesWithFewSessions) {
  SessionLimits limits;
  limits.max_per_identity = 32;
  limits.max_total = 16;
  ProcessTable table = Table(limits);
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
  ProcessTable table = Table(limits);
  const std::string ended = Add(table, "alice");
  const std::string running = Add(table, "alice");
  table.Reported(IdOf(table, "alice", ended), /*collected=*/false);
  EXPECT_EQ(table.List("alice").size(), 2u);
  absl::SleepFor(absl::Milliseconds(600));
  std::vector<Session> left = table.List("alice");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].id, running);
  EXPECT_FALSE(table.Find("alice", ended).ok());
}

TEST(ProcessTable, StopAllReachesRunningSessionsOnly) {
  ProcessTable table = Table();
  const std::string a = Add(table, "alice");
  const std::string b = Add(table, "bob");
  int rung = 0;
  table.Find("alice", a)->control->Open([&] { ++rung; });
  table.Find("bob", b)->control->Open([&] { ++rung; });
  table.Reported(IdOf(table, "bob", b), /*collected=*/false);
  table.StopAll(TerminationReason::kServerShutdown);
  EXPECT_EQ(rung, 1);
  std::deque<SessionMail> mail = table.Find("alice", a)->control->Take();
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(mail[0].kind, SessionMail::Kind::kStop);
  EXPECT_EQ(mail[0].reason, TerminationReason::kServerShutdown);
}

TEST(ProcessTable, AdmissionCapsTheServerAndEachIdentity) {
  TableConfig config;
  config.max_processes = 3;
  ProcessTable table = Table(config);
  EXPECT_TRUE(table.Admit("sleep", "alice", 2, "ci", 4).ok());
  EXPECT_TRUE(table.Admit("sleep", "alice", 2, "ci", 4).ok());
  absl::Status mine = table.Admit("sleep", "alice", 2, "ci", 4);
  EXPECT_EQ(mine.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(mine.message(),
              HasSubstr("identity \"alice\" runs its limit of 2 processes "
                        "(rule \"ci\": max_processes)"));
  // Another identity, and one with no cap of its own, still get a slot...
  EXPECT_TRUE(table.Admit("sleep", "bob", 0, "", 4).ok());
  // ...until the server's.
  absl::Status all = table.Admit("sleep", "carol", 0, "", 4);
  EXPECT_EQ(all.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(all.message(), HasSubstr("limit of 3 processes (--max-processes)"));
  EXPECT_EQ(table.running_children(), 3);
  // A slot given back is alice's again.
  table.Leave("alice", 4);
  EXPECT_TRUE(table.Admit("sleep", "alice", 2, "ci", 4).ok());
  table.Leave("bob", 4);
  EXPECT_EQ(table.running_children(), 2);
}

TEST(ProcessTable, AdmissionKeepsTheChildrensFdsInTheirRoom) {
  TableConfig config;
  config.max_child_fds = 13;
  ProcessTable table = Table(config);
  EXPECT_TRUE(table.Admit("node", "alice", 0, "", 5).ok());
  EXPECT_TRUE(table.Admit("node", "alice", 0, "", 5).ok());
  absl::Status full = table.Admit("node", "bob", 0, "", 5);
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(full.message(),
              HasSubstr("spawn node: the server's children hold 10 of the 13 "
                        "file descriptors its open-file limit (RLIMIT_NOFILE) "
                        "leaves them, and this one needs 5"));
  // A child that holds fewer still fits, and what leaves is given back.
  EXPECT_TRUE(table.Admit("sh", "bob", 0, "", 3).ok());
  table.Leave("alice", 5);
  EXPECT_TRUE(table.Admit("node", "bob", 0, "", 5).ok());
  EXPECT_EQ(table.running_children(), 3);
}

TEST(ProcessTable, AProcessOfACallIsNoSessionAndGoesWithItsReport) {
  ProcessTable table = Table();
  const ProcessId id = table.Add(&member, "alice", 100, absl::Now());
  EXPECT_NE(id, 0u);
  EXPECT_TRUE(table.List("alice").empty());
  EXPECT_EQ(table.sessions(), 0);
  EXPECT_TRUE(table.Running().empty());
  // Reported: the drain no longer reaches it.
  table.Reported(id, /*collected=*/true);
  const int before = member.drains;
  table.BeginDrain(absl::Now() + absl::Seconds(1));
  EXPECT_EQ(member.drains, before);
}

TEST(ProcessTable, ADrainReachesEveryRunningProcessAndLaterOnesAtOnce) {
  ProcessTable table = Table();
  FakeMember a, b, late;
  table.Add(&a, "alice", 100, absl::Now());
  absl::StatusOr<Session> session = table.Reserve("bob", "", {"x"}, false);
  ASSERT_TRUE(session.ok());
  table.Add(&b, "bob", 101, absl::Now(), session->process);
  EXPECT_EQ(table.drain_deadline(), absl::InfiniteFuture());
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  table.BeginDrain(deadline);
  EXPECT_EQ(table.phase(), ProcessTable::Phase::kDraining);
  EXPECT_EQ(table.drain_deadline(), deadline);
  EXPECT_EQ(a.drains, 1);
  EXPECT_EQ(b.drains, 1);
  // A second drain moves nothing: the first deadline holds.
  table.BeginDrain(deadline + absl::Hours(1));
  EXPECT_EQ(table.drain_deadline(), deadline);
  EXPECT_EQ(a.drains, 1);
  table.Add(&late, "carol", 102, absl::Now());
  EXPECT_EQ(late.drains, 1);
  table.BeginStop();
  EXPECT_EQ(table.phase(), ProcessTable::Phase::kStopping);
}

TEST(ProcessTable, TheWaitForAdoptedProcessesEndsAtNoneTheDeadlineOrTheStop) {
  ProcessTable table = Table();
  EXPECT_TRUE(table.WaitForNoAdopted(absl::Now(), false));
  table.Adopt();
  const absl::Time began = absl::Now();
  EXPECT_FALSE(table.WaitForNoAdopted(began + absl::Milliseconds(100), false));
  EXPECT_GE(absl::Now() - began, absl::Milliseconds(100));
  // Another thread lets go: the wait ends then, not at its deadline.
  std::thread done([&] {
    absl::SleepFor(absl::Milliseconds(50));
    table.AdoptedDone();
  });
  EXPECT_TRUE(table.WaitForNoAdopted(absl::Now() + absl::Seconds(20), false));
  done.join();
  // A stop ends a drain's wait (until_stop), not a shutdown's.
  table.Adopt();
  std::thread stop([&] {
    absl::SleepFor(absl::Milliseconds(50));
    table.BeginStop();
  });
  EXPECT_FALSE(table.WaitForNoAdopted(absl::Now() + absl::Seconds(20), true));
  stop.join();
  EXPECT_FALSE(table.WaitForNoAdopted(absl::Now() + absl::Milliseconds(50),
                                      false));
  table.AdoptedDone();
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
}  // namespace rexec::table
