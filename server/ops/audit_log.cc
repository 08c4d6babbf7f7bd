#include "server/ops/audit_log.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "server/ops/logging.h"
#include "spdlog/spdlog.h"

namespace rexec::ops {
namespace {

using Json = nlohmann::ordered_json;

// The fields other than argv are short by nature, but come from outside
// (a certificate's SAN, a client's cwd, an error naming a path): cut too.
constexpr size_t kMaxFieldBytes = 256;
constexpr size_t kMaxMessageBytes = 1024;
// Kept free for the fields that close the record.
constexpr size_t kTailRoom = 64;

// At most `max` bytes of `text`, never splitting a UTF-8 sequence.
std::string Cut(absl::string_view text, size_t max) {
  if (text.size() <= max) return std::string(text);
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  return absl::StrCat(text.substr(0, end), "...");
}

std::string DumpJson(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Values of the text format are JSON strings: quoted, control characters
// escaped, bytes that are not UTF-8 replaced by U+FFFD.
std::string Quote(absl::string_view text, size_t max) {
  return DumpJson(Json(Cut(text, max)));
}

std::string FormatJson(const AuditRecord& r) {
  Json json = {
      {"time", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                absl::UTCTimeZone())},
      {"level", "info"},
      {"event", "call"},
      {"identity", Cut(r.identity, kMaxFieldBytes)},
      {"peer", Cut(r.peer, kMaxFieldBytes)},
      {"rpc", r.rpc},
  };
  if (!r.rule.empty()) json["rule"] = Cut(r.rule, kMaxFieldBytes);
  if (!r.cwd.empty()) json["cwd"] = Cut(r.cwd, kMaxFieldBytes);
  if (r.pid > 0) {
    json["pid"] = r.pid;
    if (r.exit_code.has_value()) json["exit_code"] = *r.exit_code;
    if (!r.exit_signal.empty()) json["exit_signal"] = r.exit_signal;
    if (!r.reason.empty()) json["reason"] = r.reason;
    json["wall_seconds"] = absl::ToDoubleSeconds(r.wall_time);
    json["bytes_in"] = r.bytes_in;
    json["bytes_out"] = r.bytes_out;
  }
  json["status"] = r.status;
  if (!r.message.empty()) json["message"] = Cut(r.message, kMaxMessageBytes);

  size_t budget = kMaxRecordBytes - kTailRoom - DumpJson(json).size();
  Json argv = Json::array();
  size_t omitted = 0;
  for (const std::string& arg : r.argv) {
    Json item = Cut(arg, kMaxArgBytes);
    const size_t cost = DumpJson(item).size() + 1;
    if (omitted > 0 || cost > budget) {
      ++omitted;
      continue;
    }
    budget -= cost;
    argv.push_back(std::move(item));
  }
  json["argv"] = std::move(argv);
  if (omitted > 0) json["argv_omitted"] = omitted;
  return DumpJson(json);
}

std::string FormatText(const AuditRecord& r) {
  std::string head = absl::StrCat(
      "call identity=", Quote(r.identity, kMaxFieldBytes),
      " peer=", Quote(r.peer, kMaxFieldBytes), " rpc=", r.rpc);
  if (!r.rule.empty()) {
    absl::StrAppend(&head, " rule=", Quote(r.rule, kMaxFieldBytes));
  }
  std::string tail;
  if (!r.cwd.empty()) {
    absl::StrAppend(&tail, " cwd=", Quote(r.cwd, kMaxFieldBytes));
  }
  if (r.pid > 0) {
    absl::StrAppend(&tail, " pid=", r.pid, " exit=");
    if (r.exit_code.has_value()) {
      absl::StrAppend(&tail, *r.exit_code);
    } else if (!r.exit_signal.empty()) {
      absl::StrAppend(&tail, r.exit_signal);
    } else {
      absl::StrAppend(&tail, "none");
    }
    absl::StrAppend(&tail, " reason=", r.reason.empty() ? "none" : r.reason,
                    " wall=", absl::FormatDuration(r.wall_time),
                    " in=", r.bytes_in, " out=", r.bytes_out);
  }
  absl::StrAppend(&tail, " status=", r.status);
  if (!r.message.empty()) {
    absl::StrAppend(&tail, " message=", Quote(r.message, kMaxMessageBytes));
  }

  std::string argv = " argv=[";
  size_t budget = kMaxRecordBytes - kTailRoom - head.size() - tail.size();
  size_t written = 0;
  for (const std::string& arg : r.argv) {
    std::string item = Quote(arg, kMaxArgBytes);
    if (item.size() + 1 > budget) break;
    if (written > 0) argv += ' ';
    argv += item;
    budget -= item.size() + 1;
    ++written;
  }
  argv += ']';
  if (written < r.argv.size()) {
    absl::StrAppend(&argv, " argv_omitted=", r.argv.size() - written);
  }
  return absl::StrCat(head, argv, tail);
}

}  // namespace

std::string FormatAuditRecord(const AuditRecord& record, LogFormat format) {
  return format == LogFormat::kJson ? FormatJson(record) : FormatText(record);
}

void WriteAuditRecord(const AuditRecord& record) {
  std::shared_ptr<spdlog::logger> audit = spdlog::get("audit");
  if (audit == nullptr) return;
  audit->info(FormatAuditRecord(record, CurrentLogFormat()));
}

}  // namespace rexec::ops
