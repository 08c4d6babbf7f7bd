// What kind of connection a call came over, read from gRPC's peer string
// ("ipv4:127.0.0.1:5000", "ipv6:[::1]:5000", "unix:/run/rexec.sock"...).
// Bearer tokens are accepted only where they cannot be read off a network:
// TLS, a unix socket, or loopback.
#ifndef REXEC_SERVER_AUTH_PEER_H_
#define REXEC_SERVER_AUTH_PEER_H_

#include "absl/strings/string_view.h"

namespace rexec::auth {

enum class PeerKind { kLoopback, kUnix, kNetwork };

// Anything not recognised is kNetwork: the cautious answer.
PeerKind ClassifyPeer(absl::string_view peer);

}  // namespace rexec::auth

#endif  // REXEC_SERVER_AUTH_PEER_H_
