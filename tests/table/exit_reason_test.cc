// ExitReason: each rule that says why a process ended, alone.
#include "server/table/exit_reason.h"

#include "gtest/gtest.h"

namespace rexec::table {
namespace {

ExitObservation Seen(bool killed) {
  ExitObservation seen;
  seen.killed = killed;
  return seen;
}

TEST(ExitReason, OnItsOwnItExited) {
  EXPECT_EQ(ExitReason(Seen(false)), TerminationReason::kExited);
  // A signal nobody here sent: its own doing, or another process's.
  EXPECT_EQ(ExitReason(Seen(true)), TerminationReason::kExited);
}

TEST(ExitReason, TheFirstStopSentIsTheReasonWhateverItDiedOf) {
  ExitObservation seen = Seen(false);
  seen.stop = TerminationReason::kTimedOut;
  EXPECT_EQ(ExitReason(seen), TerminationReason::kTimedOut);
  seen.killed = seen.client_signaled = seen.oom_killed = true;
  seen.server_stopping = true;
  EXPECT_EQ(ExitReason(seen), TerminationReason::kTimedOut);
}

TEST(ExitReason, AClientsSignalMakesADeathBySignalSignaled) {
  ExitObservation seen = Seen(true);
  seen.client_signaled = true;
  EXPECT_EQ(ExitReason(seen), TerminationReason::kSignaled);
  // ...but not an exit after the signal was handled.
  seen.killed = false;
  EXPECT_EQ(ExitReason(seen), TerminationReason::kExited);
}

TEST(ExitReason, TheOomKillerIsNamed) {
  ExitObservation seen = Seen(true);
  seen.oom_killed = true;
  seen.client_signaled = true;
  EXPECT_EQ(ExitReason(seen), TerminationReason::kOomKilled);
}

TEST(ExitReason, AKillWhileTheServerStopsIsTheShutdowns) {
  ExitObservation seen = Seen(true);
  seen.server_stopping = true;
  seen.oom_killed = true;
  EXPECT_EQ(ExitReason(seen), TerminationReason::kServerShutdown);
  // An exit with a code while stopping is still its own.
  seen.killed = false;
  seen.oom_killed = false;
  EXPECT_EQ(ExitReason(seen), TerminationReason::kExited);
}

TEST(ExitReason, EveryReasonHasTheApisName) {
  EXPECT_STREQ(ReasonName(TerminationReason::kMaxBufferExceeded),
               "MAX_BUFFER_EXCEEDED");
  EXPECT_STREQ(ReasonName(TerminationReason::kPolicyRevoked),
               "POLICY_REVOKED");
  EXPECT_STREQ(ReasonName(TerminationReason::kClientGone), "CLIENT_GONE");
}

}  // namespace
}  // namespace rexec::table
