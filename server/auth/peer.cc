#include "server/auth/peer.h"

#include <string>

#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "common/address.h"

namespace rexec::auth {

PeerKind ClassifyPeer(absl::string_view peer) {
  if (IsUnixAddress(peer)) return PeerKind::kUnix;
  if (absl::ConsumePrefix(&peer, "ipv4:") ||
      absl::ConsumePrefix(&peer, "ipv6:")) {
    // gRPC 1.51 writes an IPv6 peer as a URI, its brackets percent-encoded:
    // "ipv6:%5B::1%5D:5000". Only the brackets are decoded; any other
    // escape leaves an address that is not an IP, so not loopback.
    const std::string host_port =
        absl::StrReplaceAll(peer, {{"%5B", "["}, {"%5D", "]"},
                                   {"%5b", "["}, {"%5d", "]"}});
    return IsLoopbackIp(HostOf(host_port)) ? PeerKind::kLoopback
                                           : PeerKind::kNetwork;
  }
  return PeerKind::kNetwork;
}

}  // namespace rexec::auth
