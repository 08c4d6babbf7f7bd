#include "server/ops/logging.h"

#include <grpc/support/log.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "server/ops/log_sink.h"
#include "spdlog/async_logger.h"
#include "spdlog/details/thread_pool.h"
#include "spdlog/logger.h"
#include "spdlog/pattern_formatter.h"
#include "spdlog/spdlog.h"

namespace rexec::ops {
namespace {

constexpr char kTextPattern[] = "%Y-%m-%dT%H:%M:%S.%e %l rexecd: %v";

std::atomic<LogFormat> current_format{LogFormat::kText};

// Lines each log's queue holds before it drops its oldest: with records of
// at most 4 KiB, a few MiB.
constexpr size_t kQueuedLines = 1024;
// How often a log that stopped taking lines is tried while nothing is
// logged (a refusing rexecd logs nothing until it is writable again).
constexpr absl::Duration kProbeEvery = absl::Milliseconds(250);

// One log: its thread (the pool's one) and its end.
struct Log {
  std::shared_ptr<spdlog::details::thread_pool> pool;
  std::shared_ptr<FdSink> sink;
  std::shared_ptr<spdlog::async_logger> logger;
  uint64_t dropped() const { return pool->overrun_counter() + sink->dropped(); }
};

struct Logs {
  Log server, audit;
  absl::Mutex mu;
  std::function<void(bool)> on_audit_change ABSL_GUARDED_BY(mu);
  absl::Notification stop;
  std::thread prober;
};
Logs* logs = nullptr;  // set once by SetUpLogging

Log MakeLog(const std::string& name, std::function<void(bool)> on_change) {
  Log log;
  log.pool = std::make_shared<spdlog::details::thread_pool>(kQueuedLines, 1);
  log.sink = std::make_shared<FdSink>(STDERR_FILENO, std::move(on_change));
  log.logger = std::make_shared<spdlog::async_logger>(
      name, log.sink, log.pool, spdlog::async_overflow_policy::overrun_oldest);
  spdlog::register_logger(log.logger);
  return log;
}

void AuditChanged(bool writable) {
  if (writable) {
    spdlog::info(
        "the audit log takes records again; {} were dropped in all "
        "(rexec_audit_records_dropped_total)",
        logs->audit.dropped());
  } else {
    // Said once: the next drops are counted only.
    spdlog::warn(
        "the audit log does not take records (its reader stalled, or it "
        "failed): they are dropped and counted in "
        "rexec_audit_records_dropped_total until it does");
  }
  absl::MutexLock lock(&logs->mu);
  if (logs->on_audit_change) logs->on_audit_change(writable);
}

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
  logs = new Logs;
  logs->server = MakeLog("rexecd", nullptr);
  logs->audit = MakeLog("audit", AuditChanged);
  std::shared_ptr<spdlog::logger> main = logs->server.logger;
  std::shared_ptr<spdlog::logger> audit = logs->audit.logger;
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
  logs->prober = std::thread([] {
    while (!logs->stop.WaitForNotificationWithTimeout(kProbeEvery)) {
      for (Log* log : {&logs->server, &logs->audit}) {
        if (!log->sink->writable()) log->sink->Probe();
      }
    }
  });
}

void ShutdownLogging() {
  if (logs == nullptr) return;
  logs->stop.Notify();
  logs->prober.join();
  // What gRPC or a late line still logs goes straight to stderr.
  auto last = std::make_shared<spdlog::logger>(
      "rexecd-last", std::make_shared<FdSink>(STDERR_FILENO, nullptr));
  if (current_format == LogFormat::kJson) {
    last->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    last->set_pattern(kTextPattern);
  }
  spdlog::set_default_logger(last);
  spdlog::drop("rexecd");
  spdlog::drop("audit");
  // Each pool's thread writes what is queued, then ends.
  delete logs;
  logs = nullptr;
}

DroppedLines Dropped() {
  if (logs == nullptr) return {};
  return {logs->audit.dropped(), logs->server.dropped()};
}

bool AuditWritable() { return logs == nullptr || logs->audit.sink->writable(); }

void OnAuditWritableChange(std::function<void(bool writable)> on_change) {
  if (logs == nullptr) return;
  absl::MutexLock lock(&logs->mu);
  logs->on_audit_change = std::move(on_change);
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
