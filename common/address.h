// What a gRPC address names, for the rules that depend on it: a bearer
// token is only sent where it cannot be read off a network, and a server
// only serves plaintext off loopback when told to.
#ifndef REXEC_COMMON_ADDRESS_H_
#define REXEC_COMMON_ADDRESS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace rexec {

// "unix:/path", "unix:///path", "unix-abstract:name".
bool IsUnixAddress(absl::string_view address);

// "unix:/run/x.sock", "unix:///run/x.sock" or "unix:x.sock" -> the path.
std::string UnixSocketPath(absl::string_view address);

// A TCP address whose host is loopback: "127.0.0.1:N", "[::1]:N",
// "localhost:N" (also with a dns: scheme), or an ipv4:/ipv6: list whose
// every address is. Anything percent-encoded is not.
bool IsLoopbackAddress(absl::string_view address);

// A literal IP address (no port, no brackets) in 127.0.0.0/8, ::1 or
// ::ffff:127.0.0.0/104.
bool IsLoopbackIp(absl::string_view ip);

// An address without a port given one: "host" -> "host:PORT", "::1" ->
// "[::1]:PORT", "dns:///host" -> "dns:///host:PORT". One with a port, a
// unix one, or another scheme's (ipv4:, ipv6: lists) is returned as it is.
// (gRPC's own default is 443, the port of HTTPS.)
std::string WithDefaultPort(absl::string_view address, int port);

// "127.0.0.1:5000" or "[::1]:5000" -> the host, without brackets.
absl::string_view HostOf(absl::string_view host_port);

}  // namespace rexec

#endif  // REXEC_COMMON_ADDRESS_H_
