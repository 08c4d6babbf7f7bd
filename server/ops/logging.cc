#include "server/ops/logging.h"

#include <grpc/support/log.h>

#include <atomic>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "spdlog/pattern_formatter.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace rexec::ops {
namespace {

constexpr char kTextPattern[] = "%Y-%m-%dT%H:%M:%S.%e %l rexecd: %v";

std::atomic<LogFormat> current_format{LogFormat::kText};

absl::Mutex capture_mu;
GrpcLogCapture* capture ABSL_GUARDED_BY(capture_mu) = nullptr;

// {"time":...,"level":...,"msg":...}: the message escaped as JSON, whatever
// bytes it holds.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg,
              spdlog::memory_buf_t& dest) override {
    nlohmann::ordered_json line = {
        {"time",
         absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromChrono(msg.time),
                          absl::UTCTimeZone())},
        {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                              spdlog::level::to_string_view(msg.level).size())},
        {"msg", std::string(msg.payload.data(), msg.payload.size())},
    };
    const std::string text = line.dump(
        -1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

// gRPC's own log lines (a failed TLS handshake, say) go through ours, so
// that every line has one format.
void FromGrpc(gpr_log_func_args* args) {
  {
    absl::MutexLock lock(&capture_mu);
    if (capture != nullptr) {
      capture->Add(args->message);
      return;
    }
  }
  const spdlog::level::level_enum level =
      args->severity == GPR_LOG_SEVERITY_ERROR  ? spdlog::level::warn
      : args->severity == GPR_LOG_SEVERITY_INFO ? spdlog::level::info
                                                : spdlog::level::debug;
  spdlog::log(level, "grpc: {}", args->message);
}

}  // namespace

void SetUpLogging(LogFormat format) {
  current_format = format;
  auto main = spdlog::stderr_logger_mt("rexecd");
  auto audit = spdlog::stderr_logger_mt("audit");
  if (format == LogFormat::kJson) {
    main->set_formatter(std::make_unique<JsonFormatter>());
    // Audit records are whole JSON objects already.
    audit->set_pattern("%v");
  } else {
    main->set_pattern(kTextPattern);
    audit->set_pattern(kTextPattern);
  }
  spdlog::set_default_logger(main);
  gpr_set_log_function(FromGrpc);
}

LogFormat CurrentLogFormat() { return current_format; }

GrpcLogCapture::GrpcLogCapture() {
  absl::MutexLock lock(&capture_mu);
  capture = this;
}

GrpcLogCapture::~GrpcLogCapture() {
  absl::MutexLock lock(&capture_mu);
  capture = nullptr;
}

void GrpcLogCapture::Add(const char* line) {
  absl::MutexLock lock(&mu_);
  // Bounded: a step logs a few lines.
  if (text_.size() < (64 << 10)) absl::StrAppend(&text_, line, "\n");
}

std::string GrpcLogCapture::OsError() const {
  absl::MutexLock lock(&mu_);
  static constexpr char kKey[] = "os_error:\"";
  const size_t begin = text_.find(kKey);
  if (begin == std::string::npos) return "";
  const size_t from = begin + sizeof kKey - 1;
  const size_t end = text_.find('"', from);
  return end == std::string::npos ? "" : text_.substr(from, end - from);
}

}  // namespace rexec::ops
