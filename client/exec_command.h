// RunExecCommand is what `rexec exec` does: it streams `in_fd` to the
// command's stdin, and when the command has ended writes the buffered stdout
// and stderr to `out_fd` and `err_fd`, with a one-line note on `err_fd` when
// the output passed max_buffer or the command timed out. Returns the
// shell-style exit code, or 255 with "rexec: <status>" when the RPC fails.
// `signals` as for RunSpawnCommand.
#ifndef REXEC_CLIENT_EXEC_COMMAND_H_
#define REXEC_CLIENT_EXEC_COMMAND_H_

#include <signal.h>

#include "client/child_session.h"
#include "rexec/v1/child_process.grpc.pb.h"

namespace rexec::client {

int RunExecCommand(v1::ChildProcess::StubInterface& stub,
                   const v1::ExecStart& start, int in_fd, int out_fd,
                   int err_fd, const sigset_t& signals,
                   const SessionOptions& session = {});

}  // namespace rexec::client

#endif  // REXEC_CLIENT_EXEC_COMMAND_H_
