// AttachCall is one Attach RPC: it finds the caller's session by id or
// name, answers `attached` (the session and where its output starts),
// then streams the session's output from its log (Lost for bytes no longer
// kept), and its exit when it ends; meanwhile stdin, close_stdin, signals
// and resizes go to the session, as in Spawn. The stream mechanics are
// ChildCall's; the session's side is an Attachment.
//
// Owns itself; touched only on its completion queue's thread.
#ifndef REXEC_SERVER_RPC_ATTACH_CALL_H_
#define REXEC_SERVER_RPC_ATTACH_CALL_H_

#include <string>

#include "server/rpc/child_call.h"
#include "server/table/attachment.h"

namespace rexec::rpc {

class AttachCall final
    : public ListeningCall<AttachCall, v1::AttachRequest, v1::AttachResponse,
                           &ChildProcessService::RequestAttach,
                           auth::Rpc::kAttach> {
 private:
  friend ListeningCall;
  using ListeningCall::ListeningCall;

  absl::Status StartChild(const v1::AttachRequest& request) override;
  v1::AttachResponse StartedResponse() override;
  absl::Status CheckRequest(const v1::AttachRequest& request) override;
  // resize
  void HandleOther(v1::AttachRequest& request) override {
    Resize(request.resize());
  }
  bool HalfCloseIsEof() const override { return false; }
  void OnOutput(ChildHandle::Stream stream, table::OutputChunk data) override;
  void OnLost(ChildHandle::Stream stream, uint64_t bytes,
              uint64_t resume_offset) override;
  void OnExitStatus(v1::ExitStatus exit) override;
  void OnCaughtUp() override;

  table::Attachment* attachment_ = nullptr;  // child(), once attached
  bool output_only_ = false;
};

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_ATTACH_CALL_H_
