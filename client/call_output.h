// WriteCallOutput is the loop that the streaming commands (spawn, fork,
// attach, logs) share: it reads a call's responses and writes the child's
// stdout and stderr to the CLI's fds byte for byte, handing every other
// event to the command. It runs on the one thread that reads the session.
#ifndef REXEC_CLIENT_CALL_OUTPUT_H_
#define REXEC_CLIENT_CALL_OUTPUT_H_

#include <signal.h>

#include <optional>

#include "client/command_support.h"

namespace rexec::client {

// Reads `session` until `on_event` (given each response that is neither
// stdout nor stderr) returns an exit code, and returns it; std::nullopt when
// the stream ended first (Finish() says how). When `out_fd`'s reader has
// gone (EPIPE) the call is cancelled and the code is 128 + SIGPIPE, as a
// local process that wrote to a closed pipe ends: the server stops a child,
// and a session's process runs on.
template <typename Session, typename OnEvent>
std::optional<int> WriteCallOutput(Session& session, int out_fd, int err_fd,
                                   OnEvent&& on_event) {
  typename Session::Response response;
  while (session.Read(&response)) {
    if (response.has_stdout()) {
      if (!WriteAll(out_fd, response.stdout())) {
        session.Cancel();
        return 128 + SIGPIPE;
      }
    } else if (response.has_stderr()) {
      WriteAll(err_fd, response.stderr());
    } else if (std::optional<int> code = on_event(response)) {
      return code;
    }
  }
  return std::nullopt;
}

}  // namespace rexec::client

#endif  // REXEC_CLIENT_CALL_OUTPUT_H_
