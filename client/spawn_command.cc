#include "client/spawn_command.h"

#include "client/call_output.h"
#include "client/child_session.h"
#include "client/command_support.h"
#include "client/local_terminal.h"

namespace rexec::client {

int RunSpawnCommand(v1::ChildProcess::StubInterface& stub,
                    const v1::SpawnStart& start, int in_fd, int out_fd,
                    int err_fd, const sigset_t& signals,
                    const SessionOptions& options) {
  // Raw before the first byte can come back: a terminal's output already
  // has its \r\n, and what is typed goes out as typed (Ctrl-C included,
  // which the remote terminal turns into SIGINT).
  if (start.options().has_pty()) EnterRawMode(in_fd);
  struct Restore {
    ~Restore() { RestoreLocalTerminal(); }
  } restore;
  SpawnSession* session =
      OpenSession<SpawnSession>(stub, start, options, in_fd, signals, err_fd);

  std::optional<int> code = WriteCallOutput(
      *session, out_fd, err_fd,
      [&](const v1::SpawnResponse& response) -> std::optional<int> {
        if (!response.has_exit()) return std::nullopt;
        if (response.exit().reason() == v1::TERMINATION_REASON_TIMED_OUT) {
          WriteAll(err_fd, TimeoutNote(start.options().timeout()));
        } else if (response.exit().reason() ==
                   v1::TERMINATION_REASON_SERVER_SHUTDOWN) {
          WriteAll(err_fd, kServerShutdownNote);
        }
        return ExitCode(response.exit(), err_fd);
      });
  if (code) return *code;
  return ReportCallEnd(session->Finish(), err_fd, options.tls);
}

}  // namespace rexec::client
