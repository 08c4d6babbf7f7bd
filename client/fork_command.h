// RunForkCommand is what `rexec fork` does: stdio as RunSpawnCommand, plus
// the child's IPC channel. When `channel_fd` is a local Node IPC channel
// (rexec was started by a Node program with an 'ipc' stdio entry), it is
// bridged to the remote child's both ways, so that the local program's
// send() and on('message') reach the remote child; a disconnect on either
// side closes the other. Otherwise (channel_fd < 0) the child's messages are
// written to `err_fd` as JSON lines prefixed "rexec: message: ". `sends` go
// to the child right after the start.
//
// ForkCommand is `rexec fork` for main: its flags and their checks (the
// --send messages, the local channel from NODE_CHANNEL_FD), and the run.
// Used on main's thread only.
#ifndef REXEC_CLIENT_FORK_COMMAND_H_
#define REXEC_CLIENT_FORK_COMMAND_H_

#include <signal.h>

#include <string>
#include <vector>

#include "client/child_session.h"
#include "client/cli_command.h"
#include "client/process_flags.h"
#include "google/protobuf/struct.pb.h"
#include "rexec/v1/child_process.grpc.pb.h"

namespace rexec::client {

struct ForkCommandIo {
  int in_fd = 0;
  int out_fd = 1;
  int err_fd = 2;
  int channel_fd = -1;
};

int RunForkCommand(v1::ChildProcess::StubInterface& stub,
                   const v1::ForkStart& start,
                   const std::vector<google::protobuf::Value>& sends,
                   const ForkCommandIo& io, const sigset_t& signals,
                   const SessionOptions& session = {});

class ForkCommand : public CliCommand {
 public:
  void AddTo(CLI::App& app) override;
  const CLI::App* Chosen() const override;
  bool TakesCommandLine() const override { return true; }
  void Validate(Target& target) override;
  int Run(const Target& target) override;

 private:
  CLI::App* command_ = nullptr;
  ProcessFlags process_flags_;
  std::string exec_path_;
  std::vector<std::string> exec_args_, send_texts_, words_;
  v1::ForkStart start_;
  std::vector<google::protobuf::Value> sends_;
  ForkCommandIo io_;
};

}  // namespace rexec::client

#endif  // REXEC_CLIENT_FORK_COMMAND_H_
