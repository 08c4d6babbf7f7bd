// RunSpawnCommand is what `rexec spawn` does, as a library function so that
// it can be tested and reused: it streams `in_fd` to the child's stdin (EOF
// closes it), writes the child's stdout and stderr to `out_fd` and `err_fd`
// byte for byte, forwards the signals that `signals` delivers, and returns
// the shell-style exit code (255 with "rexec: <status>" on `err_fd` when the
// RPC fails). With start.options.pty, `in_fd` (when a terminal) is in raw
// mode for the session and restored after it, and its window changes are
// sent (SIGWINCH must be in `signals` then).
//
// SpawnCommand is `rexec spawn` for main: its flags and their checks, and
// the run on one server (RunSpawnCommand, or with --detach
// RunDetachedSpawn) or on each of a fan-out's. Used on main's thread only.
#ifndef REXEC_CLIENT_SPAWN_COMMAND_H_
#define REXEC_CLIENT_SPAWN_COMMAND_H_

#include <signal.h>

#include <string>
#include <vector>

#include "client/child_session.h"
#include "client/cli_command.h"
#include "client/process_flags.h"
#include "rexec/v1/child_process.grpc.pb.h"

namespace rexec::client {

// `signals` must be blocked in every thread of the process (block them before
// the first gRPC channel starts its threads); they are taken with sigwait()
// by a thread of RunSpawnCommand's own and forwarded to the child.
int RunSpawnCommand(v1::ChildProcess::StubInterface& stub,
                    const v1::SpawnStart& start, int in_fd, int out_fd,
                    int err_fd, const sigset_t& signals,
                    const SessionOptions& session = {});

class SpawnCommand : public CliCommand {
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
  std::vector<std::string> argv_;
  bool force_tty_ = false, no_tty_ = false, detach_ = false;
  std::string session_name_;
  v1::SpawnStart start_;
};

}  // namespace rexec::client

#endif  // REXEC_CLIENT_SPAWN_COMMAND_H_
