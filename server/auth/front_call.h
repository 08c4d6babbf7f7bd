// What rexecd's front (--front) says of a call it forwarded, read from the
// headers it set (common/front_headers.h): the client's peer as gRPC would
// have named it ("ipv4:10.0.0.7:5000", "ipv6:[::1]:5000", "unix:/path"),
// whether its connection was TLS, and the names in its verified client
// certificate, taken as gRPC takes them from a TLS handshake (URI SANs, DNS
// SANs, the CN).
//
// Stateless; thread-safe.
#ifndef REXEC_SERVER_AUTH_FRONT_CALL_H_
#define REXEC_SERVER_AUTH_FRONT_CALL_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/auth/authenticator.h"

namespace rexec::auth {

using Headers = std::multimap<std::string, std::string>;

// The facts of a call, but its authorization. `listener_peers` is
// Front::ListenerPeers(). UNAUTHENTICATED when the headers are not what
// the front sets (which only a process that reached rexecd's private
// socket could send).
absl::StatusOr<Authenticator::CallFacts> FrontCallFacts(
    const Headers& headers, const std::vector<std::string>& listener_peers);

// The certificate's names from its DER, base64-encoded.
absl::Status ReadCertificateNames(absl::string_view base64,
                                  Authenticator::CallFacts* facts);

}  // namespace rexec::auth

#endif  // REXEC_SERVER_AUTH_FRONT_CALL_H_
