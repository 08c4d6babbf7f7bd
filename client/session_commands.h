// The CLI's commands for sessions (processes started detached): `spawn
// --detach`, `ps`, `attach`, `logs` and `kill`, as library functions that
// write to the fds they are given and return the exit code (255 with
// "rexec: STATUS: message" when the call fails).
//
// SessionCommands are ps, attach, logs and kill for main: their flags and
// the run of the one chosen. Used on main's thread only.
#ifndef REXEC_CLIENT_SESSION_COMMANDS_H_
#define REXEC_CLIENT_SESSION_COMMANDS_H_

#include <signal.h>

#include <optional>
#include <string>

#include "client/child_session.h"
#include "client/cli_command.h"
#include "client/local_terminal.h"
#include "rexec/v1/child_process.grpc.pb.h"

namespace rexec::client {

// Starts `start` (options.detach set) and prints its session's id, as
// `docker run -d` does; the process runs on when rexec exits.
int RunDetachedSpawn(v1::ChildProcess::StubInterface& stub,
                     const v1::SpawnStart& start, int out_fd, int err_fd,
                     const SessionOptions& options);

// The caller's sessions, one line each under a header.
int RunPs(v1::ChildProcess::StubInterface& stub, int out_fd, int err_fd,
          const SessionOptions& options);

// Attaches to a session: its output from `from` (else the oldest byte
// kept), then live; stdin, signals and window changes go to it. With a
// terminal (`choice`, by default the session's own when stdin and stdout
// are terminals) the local one is raw, and Ctrl-P Ctrl-Q leaves the
// session running. Exits with the session's exit code when it ends.
int RunAttach(v1::ChildProcess::StubInterface& stub, const std::string& session,
              std::optional<uint64_t> from, TerminalChoice choice, int in_fd,
              int out_fd, int err_fd, const sigset_t& signals,
              const SessionOptions& options);

// What the session's log keeps (from `from`), without stdin; with
// `follow`, then live until it ends.
int RunLogs(v1::ChildProcess::StubInterface& stub, const std::string& session,
            std::optional<uint64_t> from, bool follow, int out_fd, int err_fd,
            const SessionOptions& options);

// A signal (default SIGTERM) to a session.
int RunKill(v1::ChildProcess::StubInterface& stub, const std::string& session,
            const std::string& signal, int err_fd,
            const SessionOptions& options);

class SessionCommands : public CliCommand {
 public:
  void AddTo(CLI::App& app) override;
  const CLI::App* Chosen() const override;
  int Run(const Target& target) override;

 private:
  CLI::App* ps_ = nullptr;
  CLI::App* attach_ = nullptr;
  CLI::App* logs_ = nullptr;
  CLI::App* kill_ = nullptr;
  std::string session_, signal_ = "SIGTERM";
  std::optional<uint64_t> from_;
  bool force_tty_ = false, no_tty_ = false, follow_ = false;
};

}  // namespace rexec::client

#endif  // REXEC_CLIENT_SESSION_COMMANDS_H_
