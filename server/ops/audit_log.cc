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

// Characters that JSON leaves raw but some log tools take for line ends.
constexpr std::pair<absl::string_view, absl::string_view> kLineBreaks[] = {
    {"\xC2\x85", "\\u0085"},
    {"\xE2\x80\xA8", "\\u2028"},
    {"\xE2\x80\xA9", "\\u2029"}};

// The length of the UTF-8 sequence at the start of `text`, or 0 if it is
// not one.
size_t Utf8Length(absl::string_view text) {
  const auto byte = [&](size_t i) {
    return static_cast<unsigned char>(text[i]);
  };
  const unsigned char lead = byte(0);
  size_t n = lead < 0x80         ? 1
             : (lead >> 5) == 6  ? 2
             : (lead >> 4) == 14 ? 3
             : (lead >> 3) == 30 ? 4
                                 : 0;
  if (n == 0 || n > text.size()) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
  }
  return n;
}

// What one character of `text` costs once written as part of a JSON
// string, and how many bytes of `text` it is.
std::pair<size_t, size_t> EscapedCost(absl::string_view text) {
  const unsigned char c = static_cast<unsigned char>(text[0]);
  if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' ||
      c == '\r' || c == '\t') {
    return {2, 1};
  }
  if (c < 0x20) return {6, 1};  // \u00XX
  const size_t n = Utf8Length(text);
  if (n == 0) return {3, 1};  // replaced by U+FFFD
  for (const auto& [raw, escaped] : kLineBreaks) {
    if (text.substr(0, n) == raw) return {escaped.size(), n};
  }
  return {n, n};
}

// `text` cut so that, escaped as a JSON string, it is at most `max` bytes
// (plus "..." where it was cut): a bound on what lands in the log, where
// a control character is six bytes. Never splits a character.
std::string Cut(absl::string_view text, size_t max) {
  size_t cost = 0;
  for (size_t at = 0; at < text.size();) {
    auto [bytes_out, bytes_in] = EscapedCost(text.substr(at));
    if (cost + bytes_out > max) {
      return absl::StrCat(text.substr(0, at), "...");
    }
    cost += bytes_out;
    at += bytes_in;
  }
  return std::string(text);
}

std::string DumpJson(const Json& json) {
  std::string text = json.dump(-1, ' ', false, Json::error_handler_t::replace);
  for (const auto& [raw, escaped] : kLineBreaks) {
    for (size_t at = 0;
         (at = text.find(raw.data(), at, raw.size())) != std::string::npos;) {
      text.replace(at, raw.size(), escaped.data(), escaped.size());
      at += escaped.size();
    }
  }
  return text;
}

// What is left of the record's bound once `used` is spent, never below 0.
size_t Room(size_t used) {
  return used + kTailRoom >= kMaxRecordBytes
             ? 0
             : kMaxRecordBytes - kTailRoom - used;
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
  if (!r.session.empty()) json["session"] = Cut(r.session, kMaxFieldBytes);
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

  size_t budget = Room(DumpJson(json).size());
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
  std::string head =
      absl::StrCat("call identity=", Quote(r.identity, kMaxFieldBytes),
                   " peer=", Quote(r.peer, kMaxFieldBytes), " rpc=", r.rpc);
  if (!r.rule.empty()) {
    absl::StrAppend(&head, " rule=", Quote(r.rule, kMaxFieldBytes));
  }
  std::string tail;
  if (!r.cwd.empty()) {
    absl::StrAppend(&tail, " cwd=", Quote(r.cwd, kMaxFieldBytes));
  }
  if (!r.session.empty()) {
    absl::StrAppend(&tail, " session=", Quote(r.session, kMaxFieldBytes));
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
  size_t budget = Room(head.size() + tail.size());
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
