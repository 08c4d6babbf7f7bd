// Audit records: every field, both formats, and bounds whatever a call sent.
#include "server/ops/audit_log.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace rexec::ops {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

AuditRecord Finished() {
  AuditRecord r;
  r.identity = "alice";
  r.peer = "ipv4:127.0.0.1:4000";
  r.rpc = "Spawn";
  r.argv = {"echo", "two words", "quote\"d"};
  r.cwd = "/tmp";
  r.rule = "echo-only";
  r.pid = 42;
  r.exit_code = 3;
  r.reason = "EXITED";
  r.wall_time = absl::Milliseconds(1500);
  r.bytes_in = 5;
  r.bytes_out = 7;
  r.status = "OK";
  return r;
}

TEST(AuditLog, TextHasEveryField) {
  EXPECT_EQ(FormatAuditRecord(Finished(), LogFormat::kText),
            "call identity=\"alice\" peer=\"ipv4:127.0.0.1:4000\" rpc=Spawn "
            "rule=\"echo-only\" argv=[\"echo\" \"two words\" \"quote\\\"d\"] "
            "cwd=\"/tmp\" pid=42 exit=3 reason=EXITED wall=1.5s in=5 out=7 "
            "status=OK");
}

TEST(AuditLog, JsonIsOneObjectWithEveryField) {
  AuditRecord r = Finished();
  r.exit_code.reset();
  r.exit_signal = "SIGTERM";
  r.reason = "CLIENT_GONE";
  r.status = "CANCELLED";
  r.message = "the client went away";
  nlohmann::json json =
      nlohmann::json::parse(FormatAuditRecord(r, LogFormat::kJson));
  EXPECT_EQ(json["event"], "call");
  EXPECT_EQ(json["identity"], "alice");
  EXPECT_EQ(json["argv"], nlohmann::json({"echo", "two words", "quote\"d"}));
  EXPECT_EQ(json["exit_signal"], "SIGTERM");
  EXPECT_FALSE(json.contains("exit_code"));
  EXPECT_EQ(json["reason"], "CLIENT_GONE");
  EXPECT_EQ(json["wall_seconds"], 1.5);
  EXPECT_EQ(json["status"], "CANCELLED");
  EXPECT_EQ(json["message"], "the client went away");
  EXPECT_TRUE(json.contains("time"));
}

TEST(AuditLog, ARefusalHasNoProcessFields) {
  AuditRecord r;
  r.identity = "bob";
  r.rpc = "Exec";
  r.argv = {"/bin/sh", "-c", "id"};
  r.status = "PERMISSION_DENIED";
  r.message = "identity \"bob\": no rule of the policy is for it";
  const std::string text = FormatAuditRecord(r, LogFormat::kText);
  EXPECT_THAT(text, ::testing::Not(HasSubstr("pid=")));
  EXPECT_THAT(text, HasSubstr("status=PERMISSION_DENIED message=\"identity "
                              "\\\"bob\\\": no rule"));
}

TEST(AuditLog, ArgumentsAndTheRecordAreBounded) {
  AuditRecord r = Finished();
  // A 4 MB argv: 4,000 arguments of 1,000 bytes.
  r.argv.assign(4000, std::string(1000, 'x'));
  r.argv[0] = std::string(300, 'a');
  for (LogFormat format : {LogFormat::kText, LogFormat::kJson}) {
    const std::string line = FormatAuditRecord(r, format);
    EXPECT_LE(line.size(), kMaxRecordBytes);
    EXPECT_THAT(line, HasSubstr(std::string(256, 'a') + "..."));
    EXPECT_THAT(line, ::testing::Not(HasSubstr(std::string(257, 'a'))));
    EXPECT_THAT(line, HasSubstr("argv_omitted"));
    EXPECT_THAT(line, HasSubstr("status"));  // the tail survives the cut
  }
  nlohmann::json json =
      nlohmann::json::parse(FormatAuditRecord(r, LogFormat::kJson));
  EXPECT_EQ(json["argv"].size() + json["argv_omitted"].get<size_t>(), 4000u);
}

TEST(AuditLog, EscapingCannotPushARecordPastItsBound) {
  // Control characters are six bytes once escaped: a probe once made a
  // 1 KiB message of them overflow the budget for arguments, and every
  // argument of a 3.8 MB request was logged.
  AuditRecord r = Finished();
  r.identity = std::string(300, '\x01');
  r.peer = std::string(300, '\x01');
  r.rule = std::string(300, '\x01');
  r.cwd = std::string(300, '\x01');
  r.message = std::string(2000, '\x01');
  r.argv.assign(15000, std::string(256, '\x02'));
  for (LogFormat format : {LogFormat::kText, LogFormat::kJson}) {
    const std::string line = FormatAuditRecord(r, format);
    EXPECT_LE(line.size(), kMaxRecordBytes);
    EXPECT_THAT(line, HasSubstr("argv_omitted"));
  }
}

TEST(AuditLog, LineBreaksJsonLeavesRawAreEscaped) {
  AuditRecord r = Finished();
  r.argv = {"a\u2028b\u2029c\u0085d\ne"};
  for (LogFormat format : {LogFormat::kText, LogFormat::kJson}) {
    const std::string line = FormatAuditRecord(r, format);
    EXPECT_THAT(line, HasSubstr("a\\u2028b\\u2029c\\u0085d\\ne"));
  }
  nlohmann::json json =
      nlohmann::json::parse(FormatAuditRecord(r, LogFormat::kJson));
  EXPECT_EQ(json["argv"][0], "a\u2028b\u2029c\u0085d\ne");
}

TEST(AuditLog, CutsNeverSplitACharacterAndBadBytesStayValidJson) {
  AuditRecord r = Finished();
  std::string long_utf8;
  while (long_utf8.size() < 300) long_utf8 += "é";  // two bytes each
  r.argv = {long_utf8, std::string("\xff\xfe bad", 6)};
  nlohmann::json json =
      nlohmann::json::parse(FormatAuditRecord(r, LogFormat::kJson));
  std::string first = json["argv"][0];
  EXPECT_EQ(first.size(), 256u + 3);  // 128 characters, then "..."
  EXPECT_THAT(FormatAuditRecord(r, LogFormat::kText),
              HasSubstr("\"\xEF\xBF\xBD\xEF\xBF\xBD bad\""));
}

}  // namespace
}  // namespace rexec::ops
