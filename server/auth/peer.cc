#include "server/auth/peer.h"

#include "absl/strings/strip.h"
#include "common/address.h"

namespace rexec::auth {

PeerKind ClassifyPeer(absl::string_view peer) {
  if (IsUnixAddress(peer)) return PeerKind::kUnix;
  if (absl::ConsumePrefix(&peer, "ipv4:") ||
      absl::ConsumePrefix(&peer, "ipv6:")) {
    return IsLoopbackIp(HostOf(peer)) ? PeerKind::kLoopback
                                      : PeerKind::kNetwork;
  }
  return PeerKind::kNetwork;
}

}  // namespace rexec::auth
