#include "client/child_session.h"

#include "absl/status/statusor.h"
#include "server/process/signal_name.h"

namespace rexec::client {

std::shared_ptr<grpc::Channel> Connect(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                   args);
}

int ShellExitCode(const v1::ExitStatus& exit) {
  if (exit.has_code()) return exit.code();
  absl::StatusOr<int> sig = process::ParseSignal(exit.signal());
  return 128 + (sig.ok() ? *sig : 0);
}

}  // namespace rexec::client
