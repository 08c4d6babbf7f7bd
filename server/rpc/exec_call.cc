#include "server/rpc/exec_call.h"

#include "absl/strings/str_cat.h"

namespace rexec::rpc {

absl::Status ExecCall::StartChild(const v1::ExecRequest& request) {
  const v1::ExecStart& start = request.start();
  if (start.command().empty()) {
    return absl::InvalidArgumentError(
        "start.command is empty: Exec runs SHELL -c COMMAND");
  }
  const uint64_t cap = state()->config().max_exec_buffer;
  if (start.max_buffer() > cap) {
    return absl::InvalidArgumentError(
        absl::StrCat("start.max_buffer is ", start.max_buffer(),
                     " bytes, over this server's limit of ", cap,
                     " bytes per stream (--max-exec-buffer)"));
  }
  if (start.max_buffer() != 0) max_buffer_ = start.max_buffer();

  absl::StatusOr<plan::LaunchPlan> plan =
      Plan({start.shell().empty() ? "/bin/sh" : start.shell(), "-c",
            start.command()},
           start.options());
  if (!plan.ok()) return plan.status();
  // Both buffers may fill: what they may hold is held back, from what all
  // Execs may hold (--max-exec-memory) and from the memory budget.
  const char* const buffers = "an Exec's output buffers (2 x max_buffer)";
  absl::StatusOr<table::MemoryBudget::Hold> reserved =
      state()->exec_memory().Reserve(2 * max_buffer_, buffers);
  if (!reserved.ok()) return reserved.status();
  absl::StatusOr<table::MemoryBudget::Hold> held =
      state()->memory_budget().Reserve(2 * max_buffer_, buffers);
  if (!held.ok()) return held.status();
  exec_memory_held_ = *std::move(reserved);
  budget_held_ = *std::move(held);
  return StartSupervisor(*std::move(plan));
}

void ExecCall::OnOutput(ChildHandle::Stream stream, table::OutputChunk data) {
  if (ending()) return;
  std::string& buffer = buffers_[static_cast<int>(stream)];
  const uint64_t room = max_buffer_ - buffer.size();
  if (data.size() <= room) {
    buffer.append(data.view().data(), data.size());
    return;
  }
  // Keep exactly max_buffer bytes, as Node does, and stop the child; what
  // it writes while it stops is read and dropped so it never blocks.
  buffer.append(data.view().data(), room);
  child().Stop(table::TerminationReason::kMaxBufferExceeded);
}

void ExecCall::OnExitStatus(v1::ExitStatus exit) {
  v1::ExecResponse response;
  v1::ExecResult* result = response.mutable_result();
  *result->mutable_stdout() = std::move(buffers_[0]);
  *result->mutable_stderr() = std::move(buffers_[1]);
  *result->mutable_exit() = std::move(exit);
  EndWith(std::move(response));
}

}  // namespace rexec::rpc
