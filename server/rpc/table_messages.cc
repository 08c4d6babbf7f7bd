#include "server/rpc/table_messages.h"

#include "common/signal_name.h"

namespace rexec::rpc {

v1::TerminationReason ToProto(table::TerminationReason reason) {
  using R = table::TerminationReason;
  switch (reason) {
    case R::kUnspecified: return v1::TERMINATION_REASON_UNSPECIFIED;
    case R::kExited: return v1::TERMINATION_REASON_EXITED;
    case R::kSignaled: return v1::TERMINATION_REASON_SIGNALED;
    case R::kTimedOut: return v1::TERMINATION_REASON_TIMED_OUT;
    case R::kMaxBufferExceeded:
      return v1::TERMINATION_REASON_MAX_BUFFER_EXCEEDED;
    case R::kClientGone: return v1::TERMINATION_REASON_CLIENT_GONE;
    case R::kServerShutdown: return v1::TERMINATION_REASON_SERVER_SHUTDOWN;
    case R::kCallFailed: return v1::TERMINATION_REASON_CALL_FAILED;
    case R::kOomKilled: return v1::TERMINATION_REASON_OOM_KILLED;
    case R::kPolicyRevoked: return v1::TERMINATION_REASON_POLICY_REVOKED;
  }
  return v1::TERMINATION_REASON_UNSPECIFIED;
}

void ToProto(absl::Duration d, google::protobuf::Duration* proto) {
  int64_t nanos = absl::ToInt64Nanoseconds(d);
  proto->set_seconds(nanos / 1'000'000'000);
  proto->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
}

void ToProto(const table::ExitReport& exit, v1::ExitStatus* proto) {
  const process::ExitStatus& status = exit.status;
  if (status.exited()) {
    proto->set_code(status.code());
  } else {
    proto->set_signal(SignalName(status.signal_number()));
  }
  proto->set_core_dumped(status.core_dumped());
  proto->set_reason(ToProto(exit.reason));
  ToProto(exit.wall_time, proto->mutable_wall_time());
  ToProto(status.usage.user_cpu, proto->mutable_usage()->mutable_user_cpu());
  ToProto(status.usage.system_cpu,
          proto->mutable_usage()->mutable_system_cpu());
  proto->mutable_usage()->set_max_rss_bytes(status.usage.max_rss_bytes);
}

table::WindowRequest FromProto(const v1::Resize& resize) {
  table::WindowRequest request;
  request.rows = resize.rows();
  request.cols = resize.cols();
  return request;
}

void ToProto(const table::Session& session, v1::SessionInfo* info) {
  info->set_id(session.id);
  info->set_name(session.name);
  for (const std::string& arg : session.argv) info->add_argv(arg);
  info->set_pid(session.pid);
  const int64_t nanos = absl::ToUnixNanos(session.started);
  info->mutable_start_time()->set_seconds(nanos / 1'000'000'000);
  info->mutable_start_time()->set_nanos(
      static_cast<int32_t>(nanos % 1'000'000'000));
  info->set_terminal(session.terminal);
  const table::SessionLog& log = *session.log;
  info->set_stdout_end(log.end(table::SessionLog::kStdout));
  info->set_stderr_end(log.end(table::SessionLog::kStderr));
  info->set_stdout_oldest(log.oldest(table::SessionLog::kStdout));
  info->set_stderr_oldest(log.oldest(table::SessionLog::kStderr));
  info->set_attached(log.watchers());
  if (std::optional<table::ExitReport> exit = log.exit()) {
    info->set_state(v1::SESSION_STATE_ENDED);
    ToProto(*exit, info->mutable_exit());
  } else {
    info->set_state(v1::SESSION_STATE_RUNNING);
  }
}

const plan::LaunchRequest* LaunchOf(const table::Session& session) {
  const auto* launch =
      std::any_cast<std::shared_ptr<const plan::LaunchRequest>>(
          &session.launch);
  return launch == nullptr ? nullptr : launch->get();
}

}  // namespace rexec::rpc
