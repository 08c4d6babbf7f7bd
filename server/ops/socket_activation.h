// The listening sockets the service manager passed to rexecd (systemd's
// socket activation, sd_listen_fds(3)): $LISTEN_PID names this process,
// $LISTEN_FDS counts the sockets from fd 3 on. rexecd.socket listens on
// the unix socket, so the socket exists (with the unit's mode and group)
// before rexecd starts, and the first connection starts it.
//
// Only unix stream sockets are taken: a TCP one would be served without
// the TLS that --listen gives it. Call once, before any thread: the
// variables go out of the environment, so no child inherits them, and the
// fds are closed on exec.
#ifndef REXEC_SERVER_OPS_SOCKET_ACTIVATION_H_
#define REXEC_SERVER_OPS_SOCKET_ACTIVATION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace rexec::ops {

struct ActivatedSocket {
  int fd = -1;
  std::string address;  // "unix:/run/rexec/rexecd.sock"
};

// None when no service manager passed any (or passed them to another
// process: $LISTEN_PID is not ours). INVALID_ARGUMENT naming the fd for one
// that is not a listening unix stream socket.
absl::StatusOr<std::vector<ActivatedSocket>> TakeActivatedSockets();

}  // namespace rexec::ops

#endif  // REXEC_SERVER_OPS_SOCKET_ACTIVATION_H_
