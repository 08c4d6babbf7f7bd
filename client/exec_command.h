// RunExecCommand is what `rexec exec` does: it streams `in_fd` to the
// command's stdin, and when the command has ended writes the buffered stdout
// and stderr to `out_fd` and `err_fd`, with a one-line note on `err_fd` when
// the output passed max_buffer or the command timed out. Returns the
// shell-style exit code, or 255 with "rexec: <status>" when the RPC fails.
// `signals` as for RunSpawnCommand.
//
// ExecCommand is `rexec exec` for main: its flags, and the run on one server
// or on each of a fan-out's. Used on main's thread only.
#ifndef REXEC_CLIENT_EXEC_COMMAND_H_
#define REXEC_CLIENT_EXEC_COMMAND_H_

#include <signal.h>

#include <cstdint>
#include <string>
#include <vector>

#include "client/child_session.h"
#include "client/cli_command.h"
#include "client/process_flags.h"
#include "rexec/v1/child_process.grpc.pb.h"

namespace rexec::client {

int RunExecCommand(v1::ChildProcess::StubInterface& stub,
                   const v1::ExecStart& start, int in_fd, int out_fd,
                   int err_fd, const sigset_t& signals,
                   const SessionOptions& session = {});

class ExecCommand : public CliCommand {
 public:
  void AddTo(CLI::App& app) override;
  const CLI::App* Chosen() const override;
  bool TakesCommandLine() const override { return true; }
  bool FansOut() const override { return true; }
  void Validate(Target& target) override;
  int Run(const Target& target) override;

 private:
  CLI::App* command_ = nullptr;
  ProcessFlags process_flags_;
  uint64_t max_buffer_ = 0;
  std::string shell_;
  std::vector<std::string> words_;
  v1::ExecStart start_;
};

}  // namespace rexec::client

#endif  // REXEC_CLIENT_EXEC_COMMAND_H_
