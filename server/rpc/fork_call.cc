#include "server/rpc/fork_call.h"

#include "absl/strings/str_cat.h"
#include "common/node_channel.h"
#include "server/rpc/grpc_status.h"

namespace rexec::rpc {
namespace {

// NODE_HANDLE_NACKs owed while the channel is busy, before decoding waits:
// a child that sends handles and never reads its channel must not make the
// server hold an answer for each.
constexpr int kMaxNacksOwed = 64;

}  // namespace

absl::Status ForkCall::StartChild(const v1::ForkRequest& request) {
  const v1::ForkStart& start = request.start();
  if (start.module().empty()) {
    return absl::InvalidArgumentError(
        "start.module is empty: Fork runs EXEC_PATH MODULE ARGS");
  }
  if (start.options().has_pty()) {
    // fd 3 is the channel, and a module's output is lines, not a screen.
    return absl::InvalidArgumentError(
        "options.pty is for Spawn and Exec: Fork has no terminal");
  }
  std::vector<std::string> argv;
  argv.push_back(start.exec_path().empty() ? state()->config().node
                                           : start.exec_path());
  argv.insert(argv.end(), start.exec_argv().begin(), start.exec_argv().end());
  argv.push_back(start.module());
  argv.insert(argv.end(), start.args().begin(), start.args().end());
  absl::StatusOr<plan::LaunchPlan> plan = Plan(std::move(argv), start.options());
  if (!plan.ok()) return plan.status();
  process::SpawnOptions& options = plan->spawn;
  // Last, so that they win over the client's env.
  options.env.emplace_back("NODE_CHANNEL_FD",
                           std::to_string(node_channel::kFd));
  options.env.emplace_back("NODE_CHANNEL_SERIALIZATION_MODE", "json");

  options.stdio.push_back({node_channel::kFd, process::StdioKind::kSocket});
  return StartSupervisor(*std::move(plan));
}

std::optional<ChildHandle::Input> ForkCall::InputOfOther(
    const v1::ForkRequest& request) {
  return ChildHandle::Input::kChannel;  // message and disconnect
}

void ForkCall::HandleOther(v1::ForkRequest& request) {
  if (request.has_disconnect()) {
    // A second disconnect, or one after the child's, changes nothing.
    if (client_disconnected_ || channel_closed_) {
      client_disconnected_ = true;
      return;
    }
    client_disconnected_ = true;
    child().CloseChannel();
    SendDisconnected();
    return;
  }
  if (client_disconnected_) {
    EndCall(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                         "message after disconnect: the IPC channel is "
                         "closed"));
    return;
  }
  absl::StatusOr<std::string> line = node_channel::Encode(request.message());
  if (!line.ok()) {
    EndCall(ToGrpcStatus(line.status()));
    return;
  }
  // A message racing the child's own disconnect is dropped, as Node drops
  // one sent into a channel that just closed; the client learns of it from
  // `disconnected`.
  if (channel_closed_) return;
  state()->metrics().Message(ServerMetrics::Direction::kToChild);
  WriteToChild(ChildHandle::Input::kChannel, *std::move(line));
}

size_t ForkCall::OutputRoom() {
  // An ending call reads (and drops) everything, backlog or not.
  if (ending()) return SIZE_MAX;
  return backlog_ ? 0 : ChildCall::OutputRoom();
}

void ForkCall::OnOutputRoom() {
  if (backlog_ && ChildCall::OutputRoom() > 0) Decode("");
}

void ForkCall::Decode(absl::string_view data, bool all) {
  backlog_ = false;
  absl::Status status =
      decoder_.Feed(data, [this, all](google::protobuf::Value message) {
        if (!HandleMessage(std::move(message))) return false;
        if (all ||
            (ChildCall::OutputRoom() > 0 && nacks_owed_ < kMaxNacksOwed)) {
          return true;
        }
        backlog_ = true;
        return false;
      });
  HoldOutput(static_cast<int64_t>(decoder_.held()) -
             static_cast<int64_t>(decoder_held_));
  decoder_held_ = decoder_.held();
  if (!status.ok()) {
    backlog_ = false;
    EndCall(ToGrpcStatus(absl::Status(
        status.code(), absl::StrCat("the child sent ", status.message()))));
  }
}

void ForkCall::OnOutput(ChildHandle::Stream stream, table::OutputChunk data) {
  if (ending()) return;
  if (stream == ChildHandle::Stream::kChannel) {
    Decode(data.view());
    return;
  }
  EnqueueOutput(stream, std::move(data));
}

bool ForkCall::HandleMessage(google::protobuf::Value message) {
  if (ending()) return false;
  if (std::optional<std::string> cmd = node_channel::InternalCommand(message)) {
    // Node's own traffic. A handle (a socket, a server) cannot cross the
    // network: refuse it so that the child's queue goes on. Its fd was
    // closed by the kernel on read (see StdioPump::ReadChunk).
    if (*cmd == "NODE_HANDLE") {
      if (input_busy(ChildHandle::Input::kChannel)) {
        ++nacks_owed_;
      } else {
        WriteToChild(ChildHandle::Input::kChannel,
                     std::string(node_channel::kHandleNack));
      }
    }
    return true;
  }
  state()->metrics().Message(ServerMetrics::Direction::kFromChild);
  v1::ForkResponse response;
  *response.mutable_message() = std::move(message);
  Enqueue(response);
  return true;
}

void ForkCall::OnInputWritten(ChildHandle::Input input) {
  if (input == ChildHandle::Input::kChannel && nacks_owed_ > 0 && !ending()) {
    std::string nacks;
    for (; nacks_owed_ > 0; --nacks_owed_)
      absl::StrAppend(&nacks, node_channel::kHandleNack);
    WriteToChild(input, std::move(nacks));
    // Decoding may have waited for the answers owed to go out; once it is
    // done with what it held, the channel may be read again.
    const bool waited = backlog_;
    OnOutputRoom();
    if (waited && !backlog_) child().ResumeOutput();
    return;
  }
  ChildCall::OnInputWritten(input);
}

void ForkCall::OnChannelClosed() {
  channel_closed_ = true;
  if (ending()) return;
  // Only the drain timeout closes a channel under a backlog (the channel is
  // not read meanwhile): what the child sent still goes out, before
  // `disconnected`, within the decoder's bound.
  if (backlog_) Decode("", /*all=*/true);
  if (ending()) return;
  if (absl::Status status = decoder_.Finish(); !status.ok()) {
    EndCall(ToGrpcStatus(absl::Status(
        status.code(), absl::StrCat("the child's ", status.message()))));
    return;
  }
  SendDisconnected();
}

void ForkCall::SendDisconnected() {
  channel_closed_ = true;
  v1::ForkResponse response;
  response.mutable_disconnected();
  Enqueue(response);
}

void ForkCall::OnExitStatus(v1::ExitStatus exit) {
  v1::ForkResponse response;
  *response.mutable_exit() = std::move(exit);
  EndWith(std::move(response));
}

}  // namespace rexec::rpc
