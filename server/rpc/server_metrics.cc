#include "server/rpc/server_metrics.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/strip.h"
#include "common/version.h"
#include "server/ops/logging.h"
#include "server/ops/process_metrics.h"

namespace rexec::rpc {
namespace {

std::vector<std::string> RpcNames() {
  return {"Spawn", "Exec", "Fork", "List", "Attach", "Kill", "LookPath"};
}

// "OK", "CANCELLED", ... "UNAUTHENTICATED": gRPC's 17 codes, by number.
std::vector<std::string> CodeNames() {
  std::vector<std::string> names;
  for (int code = 0; code <= 16; ++code) {
    names.push_back(
        absl::StatusCodeToString(static_cast<absl::StatusCode>(code)));
  }
  return names;
}

// "exited", "signaled", ... as the enum spells them, without its prefix.
std::vector<std::string> ReasonNames() {
  std::vector<std::string> names;
  const google::protobuf::EnumDescriptor* e =
      v1::TerminationReason_descriptor();
  for (int i = 0; i < e->value_count(); ++i) {
    names.push_back(absl::AsciiStrToLower(
        absl::StripPrefix(e->value(i)->name(), "TERMINATION_REASON_")));
  }
  return names;
}

}  // namespace

ServerMetrics::ServerMetrics()
    : calls_started_("rexec_calls_started_total", "Calls that arrived, by RPC.",
                     {{"rpc", RpcNames()}}),
      calls_ended_("rexec_calls_ended_total",
                   "Calls that ended, by RPC and gRPC status code.",
                   {{"rpc", RpcNames()}, {"code", CodeNames()}}),
      refusals_("rexec_refusals_total",
                "Calls that ended with an error before a child started "
                "(unauthenticated, permission denied, limits, draining, bad "
                "requests), by status code.",
                {{"code", CodeNames()}}),
      spawn_latency_("rexec_spawn_duration_seconds",
                     "From the start message's plan to the child's exec.",
                     {0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                      0.1, 0.25, 1}),
      exits_("rexec_exits_total",
             "Children whose exit was reported, by termination reason.",
             {{"reason", ReasonNames()}}),
      bytes_(
          "rexec_bytes_total", "Bytes to and from children, by stream.",
          {{"stream",
            {"stdin", "stdout", "stderr", "ipc_to_child", "ipc_from_child"}}}),
      messages_("rexec_ipc_messages_total", "Fork IPC messages, by direction.",
                {{"direction", {"to_child", "from_child"}}}) {}

void ServerMetrics::CallEnded(auth::Rpc rpc, grpc::StatusCode code,
                              bool child_started) {
  const size_t code_index = static_cast<size_t>(code);
  calls_ended_.Add({Index(rpc), code_index});
  if (code != grpc::StatusCode::OK && !child_started) {
    refusals_.Add({code_index});
  }
}

void ServerMetrics::ChildExited(v1::TerminationReason reason) {
  const google::protobuf::EnumDescriptor* e =
      v1::TerminationReason_descriptor();
  const google::protobuf::EnumValueDescriptor* value =
      e->FindValueByNumber(reason);
  exits_.Add({static_cast<size_t>(value != nullptr ? value->index() : 0)});
}

std::string ServerMetrics::Render(table::ProcessTable& table,
                                  const table::MemoryBudget& budget,
                                  const GrpcMemory& grpc_memory) const {
  std::string out;
  ops::RenderSample(&out, "rexec_build_info",
                    "The version and commit of this rexecd (always 1).",
                    "gauge", {{"version", Version()}, {"commit", Commit()}}, 1);
  calls_started_.Render(&out);
  calls_ended_.Render(&out);
  refusals_.Render(&out);
  ops::RenderSample(&out, "rexec_processes_running", "Children running now.",
                    "gauge", {},
                    static_cast<double>(table.running_children()));
  const table::ProcessTable::SessionCounts sessions = table.CountSessions();
  ops::RenderByLabel(&out, "rexec_sessions",
                     "Sessions (spawn --detach) by state: running, or ended "
                     "and kept for a last attach or logs.",
                     "gauge", "state",
                     {{"running", sessions.running}, {"ended", sessions.ended}});
  ops::RenderSample(&out, "rexec_session_log_bytes",
                    "Memory the sessions' logs (their output rings) hold now.",
                    "gauge", {}, static_cast<double>(sessions.log_bytes));
  ops::RenderSample(&out, "rexec_memory_budget_bytes",
                    "What calls may hold in all (--memory-budget).", "gauge",
                    {}, static_cast<double>(budget.limit()));
  ops::RenderSample(&out, "rexec_memory_budget_held_bytes",
                    "What calls hold now, gRPC's quota included.", "gauge",
                    {}, static_cast<double>(budget.used()));
  ops::RenderSample(
      &out, "rexec_memory_budget_stalled_streams",
      "Calls whose requests wait unread in gRPC, each holding a stream "
      "window of the budget.",
      "gauge", {}, static_cast<double>(grpc_memory.windows()));
  spawn_latency_.Render(&out);
  exits_.Render(&out);
  bytes_.Render(&out);
  messages_.Render(&out);
  const ops::DroppedLines dropped = ops::Dropped();
  ops::RenderSample(&out, "rexec_audit_records_dropped_total",
                    "Audit records not written: the audit log's queue was "
                    "full, or its reader stalled or failed.",
                    "counter", {}, static_cast<double>(dropped.audit));
  ops::RenderSample(&out, "rexec_log_lines_dropped_total",
                    "Server log lines not written, for the same reasons.",
                    "counter", {}, static_cast<double>(dropped.server));
  ops::RenderProcessMetrics(&out);
  return out;
}

}  // namespace rexec::rpc
