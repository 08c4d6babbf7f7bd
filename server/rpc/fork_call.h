// ForkCall is one Fork RPC, Node's child_process.fork over the wire: it runs
// `EXEC_PATH EXEC_ARGV... MODULE ARGS...` with stdio streamed as in Spawn and
// an IPC channel on fd 3 that speaks Node's own protocol (NODE_CHANNEL_FD=3,
// NODE_CHANNEL_SERIALIZATION_MODE=json: one JSON value per line, both ways),
// so an unmodified Node script's process.send() and process.on('message')
// talk to the client's message requests and responses.
//
// One read of the channel can hold a hundred thousand messages: lines are
// decoded only while the outbox has room, the rest wait in the decoder
// (whose bytes are bounded) and the channel is not read meanwhile, so the
// memory a call holds stays that of a few messages, as for stdout.
//
// Node's internal messages (a "cmd" starting with NODE_) are never
// forwarded; a handle the child tries to send is refused at once with
// NODE_HANDLE_NACK, which lets its send queue go on. A line that is not JSON
// ends the call with DATA_LOSS naming its byte offset in the channel.
//
// Owns itself; touched only on its completion queue's thread.
#ifndef REXEC_SERVER_RPC_FORK_CALL_H_
#define REXEC_SERVER_RPC_FORK_CALL_H_

#include <string>

#include "common/node_channel.h"
#include "server/rpc/child_call.h"

namespace rexec::rpc {

class ForkCall final
    : public ListeningCall<ForkCall, v1::ForkRequest, v1::ForkResponse,
                           &ChildProcessService::RequestFork,
                           auth::Rpc::kFork> {
 private:
  friend ListeningCall;
  using ListeningCall::ListeningCall;

  absl::Status StartChild(const v1::ForkRequest& request) override;
  v1::ForkResponse StartedResponse() override {
    return StartedOf<v1::ForkResponse>(child());
  }
  std::optional<ChildHandle::Input> InputOfOther(
      const v1::ForkRequest& request) override;
  void HandleOther(v1::ForkRequest& request) override;

  size_t OutputRoom() override;
  void OnOutputRoom() override;
  void OnOutput(ChildHandle::Stream stream, table::OutputChunk data) override;
  void OnInputWritten(ChildHandle::Input input) override;
  void OnChannelClosed() override;
  void OnExitStatus(v1::ExitStatus exit) override;

  // Decodes `data` after what the decoder holds, while the outbox has room
  // (all of it when `all`); an error ends the call.
  void Decode(absl::string_view data, bool all = false);
  // One message from the child; false when the call has ended.
  bool HandleMessage(google::protobuf::Value message);
  void SendDisconnected();

  node_channel::Decoder decoder_;
  // What the decoder held when last counted (see ChildCall::HoldOutput).
  size_t decoder_held_ = 0;
  // Decoding stopped for room: the decoder may hold whole lines.
  bool backlog_ = false;
  // NODE_HANDLE_NACKs owed to the child while the channel was busy.
  int nacks_owed_ = 0;
  bool channel_closed_ = false;
  bool client_disconnected_ = false;
};

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_FORK_CALL_H_
