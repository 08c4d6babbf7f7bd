// ExecCall is one Exec RPC, Node's child_process.exec over the wire: it runs
// `SHELL -c COMMAND`, streams stdin to it, gathers stdout and stderr up to
// max_buffer bytes each, and answers with one result (both buffers and the
// exit status) when the child has ended. Output beyond max_buffer stops the
// child with its kill policy, reason MAX_BUFFER_EXCEEDED, and is discarded;
// so the server holds at most max_buffer per stream per call.
//
// Owns itself; touched only on its completion queue's thread.
#ifndef REXEC_SERVER_RPC_EXEC_CALL_H_
#define REXEC_SERVER_RPC_EXEC_CALL_H_

#include <string>

#include "common/exec_defaults.h"
#include "server/rpc/child_call.h"

namespace rexec::rpc {

class ExecCall final
    : public ListeningCall<ExecCall, v1::ExecRequest, v1::ExecResponse,
                           &ChildProcessService::RequestExec,
                           auth::Rpc::kExec> {
 private:
  friend ListeningCall;
  using ListeningCall::ListeningCall;

  absl::Status StartChild(const v1::ExecRequest& request) override;
  v1::ExecResponse StartedResponse() override {
    return StartedOf<v1::ExecResponse>(child());
  }
  // resize
  void HandleOther(v1::ExecRequest& request) override {
    Resize(request.resize());
  }
  // Output is always read: it is bounded by max_buffer, not by the client,
  // and its buffers were reserved from the memory budget at the start.
  size_t OutputRoom() override { return SIZE_MAX; }
  void OnOutput(ChildHandle::Stream stream, table::OutputChunk data) override;
  void OnExitStatus(v1::ExitStatus exit) override;

  uint64_t max_buffer_ = kDefaultExecMaxBuffer;
  // The buffers' share of --max-exec-memory and of --memory-budget.
  table::MemoryBudget::Hold exec_memory_held_;
  table::MemoryBudget::Hold budget_held_;
  std::string buffers_[2];
};

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_EXEC_CALL_H_
