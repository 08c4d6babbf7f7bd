// RunHealthCommand is what `rexec health` does: one grpc.health.v1 Check of
// `service` ("" for the server as a whole), printing the status it gets.
// Returns 0 for SERVING, 1 for any other status, 255 (kRpcErrorExitCode)
// with "rexec: <status>" on `err_fd` when the call fails.
//
// HealthCommand is `rexec health` for main: its flag and the run. Used on
// main's thread only.
#ifndef REXEC_CLIENT_HEALTH_COMMAND_H_
#define REXEC_CLIENT_HEALTH_COMMAND_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "client/child_session.h"
#include "client/cli_command.h"

namespace rexec::client {

int RunHealthCommand(const std::shared_ptr<grpc::Channel>& channel,
                     const std::string& service, int out_fd, int err_fd,
                     const SessionOptions& options);

class HealthCommand : public CliCommand {
 public:
  void AddTo(CLI::App& app) override;
  const CLI::App* Chosen() const override;
  int Run(const Target& target) override;

 private:
  CLI::App* command_ = nullptr;
  std::string service_;
};

}  // namespace rexec::client

#endif  // REXEC_CLIENT_HEALTH_COMMAND_H_
