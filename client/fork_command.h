// RunForkCommand is what `rexec fork` does: stdio as RunSpawnCommand, plus
// the child's IPC channel. When `channel_fd` is a local Node IPC channel
// (rexec was started by a Node program with an 'ipc' stdio entry), it is
// bridged to the remote child's both ways, so that the local program's
// send() and on('message') reach the remote child; a disconnect on either
// side closes the other. Otherwise (channel_fd < 0) the child's messages are
// written to `err_fd` as JSON lines prefixed "rexec: message: ". `sends` go
// to the child right after the start.
#ifndef REXEC_CLIENT_FORK_COMMAND_H_
#define REXEC_CLIENT_FORK_COMMAND_H_

#include <signal.h>

#include <vector>

#include "client/child_session.h"
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

}  // namespace rexec::client

#endif  // REXEC_CLIENT_FORK_COMMAND_H_
