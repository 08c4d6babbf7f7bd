#include "client/spawn_command.h"

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

  v1::SpawnResponse response;
  while (session->Read(&response)) {
    switch (response.event_case()) {
      case v1::SpawnResponse::kStdout:
        if (!WriteAll(out_fd, response.stdout())) {
          // Our reader went away, as with a local pipe: stop the child and
          // end the way a local process would, of SIGPIPE.
          session->Cancel();
          return 128 + SIGPIPE;
        }
        break;
      case v1::SpawnResponse::kStderr:
        WriteAll(err_fd, response.stderr());
        break;
      case v1::SpawnResponse::kExit:
        if (response.exit().reason() == v1::TERMINATION_REASON_TIMED_OUT) {
          WriteAll(err_fd, TimeoutNote(start.options().timeout()));
        } else if (response.exit().reason() ==
                   v1::TERMINATION_REASON_SERVER_SHUTDOWN) {
          WriteAll(err_fd, kServerShutdownNote);
        }
        return ExitCode(response.exit(), err_fd);
      default:
        break;
    }
  }
  return ReportCallEnd(session->Finish(), err_fd, options.tls);
}

}  // namespace rexec::client
