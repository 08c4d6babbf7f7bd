// The audit log of a real server: one record per call, refusals included,
// in text and JSON, bounded, and saying why a child was stopped.
#include <signal.h>

#include <sstream>

#include "client/child_session.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/raw_call.h"
#include "tests/e2e/rexecd_process.h"
#include "tests/test_paths.h"

namespace rexec::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

v1::SpawnRequest StartOf(std::vector<std::string> argv) {
  v1::SpawnRequest r;
  for (auto& a : argv) r.mutable_start()->add_argv(a);
  return r;
}

class AuditTest : public RexecdTest {};

TEST_F(AuditTest, OneRecordPerCallWithWhoWhatAndHow) {
  RawOutcome<v1::SpawnRequest> o =
      RawCall<v1::SpawnRequest>(server_->stub(), {StartOf({"echo", "hi"})});
  ASSERT_TRUE(o.status.ok());
  const int pid = o.responses[0].started().pid();
  std::string line = server_->WaitForLogLine(" pid=" + std::to_string(pid));
  EXPECT_THAT(
      line,
      MatchesRegex(".* info rexecd: call identity=\"anonymous\" "
                   "peer=\"ipv4:127.0.0.1:[0-9]+\" rpc=Spawn "
                   "argv=\\[\"echo\" \"hi\"\\] pid=[0-9]+ exit=0 "
                   "reason=EXITED wall=[0-9.]+[mun]?s in=0 out=3 status=OK"));
  EXPECT_EQ(server_->Log().find("argv=[\"echo\" \"hi\"]"),
            server_->Log().rfind("argv=[\"echo\" \"hi\"]"))
      << "one record per call";
}

TEST_F(AuditTest, RefusalsLeaveARecordToo) {
  v1::SpawnRequest bad_signal;
  bad_signal.mutable_signal()->set_name("SIGBOGUS");
  RawCall<v1::SpawnRequest>(server_->stub(),
                            {StartOf({"sleep", "331"}), bad_signal}, false);
  EXPECT_THAT(server_->WaitForLogLine("\"331\""),
              HasSubstr("reason=CALL_FAILED wall="));
  EXPECT_THAT(server_->WaitForLogLine("\"331\""),
              HasSubstr("status=INVALID_ARGUMENT message=\"signal: unknown "
                        "signal name \\\"SIGBOGUS\\\"\""));
  RawCall<v1::SpawnRequest>(server_->stub(), {StartOf({"no-such-prog-332"})});
  EXPECT_THAT(server_->WaitForLogLine("no-such-prog-332"),
              HasSubstr("status=NOT_FOUND message=\"spawn no-such-prog-332: "
                        "not found in PATH (ENOENT)\""));
}

TEST(AuditMaxProcesses, TheRefusalIsRecorded) {
  auto server = RexecdProcess::Start({"--max-processes", "1"});
  ASSERT_NE(server, nullptr);
  v1::SpawnStart start;
  start.add_argv("sleep");
  start.add_argv("333");
  client::SpawnSession first(server->stub(), start,
                             absl::Now() + absl::Seconds(60));
  v1::SpawnResponse response;
  ASSERT_TRUE(first.Read(&response));
  RawCall<v1::SpawnRequest>(server->stub(), {StartOf({"echo", "334"})});
  EXPECT_THAT(server->WaitForLogLine("\"334\""),
              HasSubstr("status=RESOURCE_EXHAUSTED message=\"spawn echo: the "
                        "server runs its limit of 1 processes "
                        "(--max-processes)\""));
  first.Cancel();
  EXPECT_THAT(server->WaitForLogLine("\"333\""),
              HasSubstr("reason=CLIENT_GONE"));
}

TEST_F(AuditTest, AHugeArgvMakesABoundedRecord) {
  // 4,000 arguments of 1,000 bytes: once a 16 MB log line.
  v1::SpawnRequest start = StartOf({"true"});
  for (int i = 0; i < 4000; ++i) {
    start.mutable_start()->add_argv(std::string(999, 'x') + "y");
  }
  RawCall<v1::SpawnRequest>(server_->stub(), {start});
  std::string line = server_->WaitForLogLine("argv_omitted=");
  EXPECT_LE(line.size(), 4096u + 64) << "the record and its prefix";
  EXPECT_THAT(line, HasSubstr(std::string(256, 'x') + "...\""));
  EXPECT_THAT(line, ::testing::Not(HasSubstr("xy")));
}

TEST(AuditShutdown, AChildStoppedByTheShutdownSaysSo) {
  auto server = RexecdProcess::Start();
  ASSERT_NE(server, nullptr);
  v1::SpawnStart start;
  start.add_argv("sleep");
  start.add_argv("335");
  client::SpawnSession call(server->stub(), start,
                            absl::Now() + absl::Seconds(60));
  v1::SpawnResponse response;
  ASSERT_TRUE(call.Read(&response));
  kill(server->pid(), SIGTERM);
  EXPECT_THAT(server->WaitForLogLine("\"335\""),
              HasSubstr("reason=SERVER_SHUTDOWN"));
}

TEST(AuditJson, EveryLineIsOneJsonObject) {
  auto server = RexecdProcess::Start({"--log-format", "json"});
  ASSERT_NE(server, nullptr);
  RawCall<v1::SpawnRequest>(server->stub(), {StartOf({"echo", "336"})});
  RawCall<v1::SpawnRequest>(server->stub(), {StartOf({"no-such-337"})});
  // A record is written just after its client has the status: the two may
  // come in either order.
  server->WaitForLogLine("no-such-337");
  server->WaitForLogLine("\"336\"");
  std::istringstream log(server->Log());
  std::string line;
  int calls = 0;
  while (std::getline(log, line)) {
    nlohmann::json json = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(json.is_discarded()) << line;
    EXPECT_TRUE(json.contains("time") && json.contains("level")) << line;
    if (json.value("event", "") != "call") continue;
    ++calls;
    if (json["argv"][0] == "echo") {
      EXPECT_EQ(json["argv"], nlohmann::json({"echo", "336"}));
      EXPECT_EQ(json["exit_code"], 0);
      EXPECT_EQ(json["bytes_out"], 4);
      EXPECT_EQ(json["status"], "OK");
      EXPECT_EQ(json["identity"], "anonymous");
    } else {
      EXPECT_EQ(json["status"], "NOT_FOUND");
      EXPECT_FALSE(json.contains("pid"));
    }
  }
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace rexec::testing
