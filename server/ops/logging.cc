#include "server/ops/logging.h"

#include <grpc/support/log.h>

#include <atomic>
#include <memory>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "spdlog/pattern_formatter.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace rexec::ops {
namespace {

constexpr char kTextPattern[] = "%Y-%m-%dT%H:%M:%S.%e %l rexecd: %v";

std::atomic<LogFormat> current_format{LogFormat::kText};

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

}  // namespace rexec::ops
