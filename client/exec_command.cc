#include "client/exec_command.h"

#include "absl/strings/str_cat.h"
#include "client/child_session.h"
#include "client/command_support.h"
#include "common/exec_defaults.h"

namespace rexec::client {

int RunExecCommand(v1::ChildProcess::StubInterface& stub,
                   const v1::ExecStart& start, int in_fd, int out_fd,
                   int err_fd, const sigset_t& signals,
                   const SessionOptions& options) {
  ExecSession* session =
      OpenSession<ExecSession>(stub, start, options, in_fd, signals, err_fd);

  v1::ExecResponse response;
  while (session->Read(&response)) {
    if (!response.has_result()) continue;  // started
    const v1::ExecResult& result = response.result();
    // A server that ignored max_buffer is not believed about the rest
    // either: none of it is written.
    const uint64_t max_buffer =
        start.max_buffer() != 0 ? start.max_buffer() : kDefaultExecMaxBuffer;
    for (const std::string* stream : {&result.stdout(), &result.stderr()}) {
      if (stream->size() > max_buffer) {
        WriteAll(err_fd,
                 absl::StrCat("rexec: the server sent ", stream->size(),
                              " bytes of ",
                              stream == &result.stdout() ? "stdout" : "stderr",
                              ", more than max_buffer (", max_buffer,
                              "): nothing of the result was written\n"));
        return kRpcErrorExitCode;
      }
    }
    if (!WriteAll(out_fd, result.stdout())) return 128 + SIGPIPE;
    WriteAll(err_fd, result.stderr());
    switch (result.exit().reason()) {
      case v1::TERMINATION_REASON_MAX_BUFFER_EXCEEDED:
        WriteAll(err_fd,
                 absl::StrCat("rexec: output passed max_buffer (",
                              start.max_buffer() != 0 ? start.max_buffer()
                                                      : kDefaultExecMaxBuffer,
                              " bytes per stream); the command was stopped and "
                              "its output cut there\n"));
        // However the child ended (it may have finished before the stop
        // reached it), a cut result is a failure, as in Node.
        return kOutputCutExitCode;
      case v1::TERMINATION_REASON_TIMED_OUT:
        WriteAll(err_fd, TimeoutNote(start.options().timeout()));
        break;
      case v1::TERMINATION_REASON_SERVER_SHUTDOWN:
        WriteAll(err_fd, kServerShutdownNote);
        break;
      default:
        break;
    }
    return ExitCode(result.exit(), err_fd);
  }
  return ReportCallEnd(session->Finish(), err_fd, options.tls);
}

}  // namespace rexec::client
