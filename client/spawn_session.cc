#include "client/spawn_session.h"

#include "absl/status/statusor.h"
#include "server/process/signal_name.h"

namespace rexec::client {

std::shared_ptr<grpc::Channel> Connect(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                   args);
}

SpawnSession::SpawnSession(v1::ChildProcess::StubInterface& stub,
                           const v1::SpawnStart& start,
                           std::optional<absl::Time> deadline) {
  if (deadline) ctx_.set_deadline(absl::ToChronoTime(*deadline));
  stream_ = stub.Spawn(&ctx_);
  v1::SpawnRequest request;
  *request.mutable_start() = start;
  Write(request);
}

bool SpawnSession::Write(const v1::SpawnRequest& request) {
  std::lock_guard lock(write_mu_);
  if (writes_done_) return false;
  return stream_->Write(request);
}

bool SpawnSession::WriteStdin(std::string data) {
  v1::SpawnRequest request;
  *request.mutable_stdin() = std::move(data);
  return Write(request);
}

bool SpawnSession::CloseStdin() {
  v1::SpawnRequest request;
  request.mutable_close_stdin();
  return Write(request);
}

bool SpawnSession::SendSignal(const std::string& name) {
  v1::SpawnRequest request;
  request.mutable_signal()->set_name(name);
  return Write(request);
}

bool SpawnSession::WritesDone() {
  std::lock_guard lock(write_mu_);
  if (writes_done_) return false;
  writes_done_ = true;
  return stream_->WritesDone();
}

bool SpawnSession::Read(v1::SpawnResponse* response) {
  return stream_->Read(response);
}

grpc::Status SpawnSession::Finish() { return stream_->Finish(); }

void SpawnSession::Cancel() { ctx_.TryCancel(); }

int ShellExitCode(const v1::ExitStatus& exit) {
  if (exit.has_code()) return exit.code();
  absl::StatusOr<int> sig = process::ParseSignal(exit.signal());
  return 128 + (sig.ok() ? *sig : 0);
}

}  // namespace rexec::client
