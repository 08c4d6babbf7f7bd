#include "common/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace rexec {

bool IsUnixAddress(absl::string_view address) {
  return absl::StartsWith(address, "unix:") ||
         absl::StartsWith(address, "unix-abstract:");
}

std::string UnixSocketPath(absl::string_view address) {
  absl::ConsumePrefix(&address, "unix:");
  if (absl::StartsWith(address, "//")) address.remove_prefix(2);
  return std::string(address);
}

std::string WithDefaultPort(absl::string_view address, int port) {
  absl::string_view host = address;
  absl::string_view scheme;
  for (absl::string_view prefix : {"dns:///", "dns:"}) {
    if (absl::ConsumePrefix(&host, prefix)) {
      scheme = prefix;
      break;
    }
  }
  const bool other_scheme =
      scheme.empty() &&
      (IsUnixAddress(address) || absl::StartsWith(address, "ipv4:") ||
       absl::StartsWith(address, "ipv6:") || absl::StrContains(address, "://"));
  // dns://RESOLVER/host: left to gRPC.
  if (host.empty() || other_scheme || absl::StartsWith(host, "/")) {
    return std::string(address);
  }
  if (absl::StartsWith(host, "[")) {
    if (absl::StrContains(host, "]:")) return std::string(address);
    return absl::StrCat(scheme, host, ":", port);
  }
  const size_t colons = std::count(host.begin(), host.end(), ':');
  if (colons == 1) return std::string(address);
  if (colons > 1) return absl::StrCat(scheme, "[", host, "]:", port);  // IPv6
  return absl::StrCat(scheme, host, ":", port);
}

absl::string_view HostOf(absl::string_view host_port) {
  if (absl::ConsumePrefix(&host_port, "[")) {
    size_t close = host_port.find(']');
    return close == absl::string_view::npos ? "" : host_port.substr(0, close);
  }
  size_t colon = host_port.rfind(':');
  return colon == absl::string_view::npos ? host_port
                                          : host_port.substr(0, colon);
}

bool IsLoopbackIp(absl::string_view ip) {
  const std::string text(ip);
  in_addr v4;
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    // ::ffff:127.x.x.x, as a dual-stack listener sees an IPv4 loopback peer.
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

bool IsLoopbackAddress(absl::string_view address) {
  // gRPC percent-decodes a target: what is encoded was not read here.
  if (address.empty() || absl::StrContains(address, '%')) return false;
  // ipv4: and ipv6: take a list of addresses, each a connect target: every
  // one must be loopback (not only the first).
  const bool list = absl::ConsumePrefix(&address, "ipv4:") ||
                    absl::ConsumePrefix(&address, "ipv6:");
  if (!list && !absl::ConsumePrefix(&address, "dns:///")) {
    absl::ConsumePrefix(&address, "dns:");
  }
  for (absl::string_view entry : absl::StrSplit(address, ',')) {
    const absl::string_view host = HostOf(entry);
    if (!(host == "localhost" && !list) && !IsLoopbackIp(host)) return false;
  }
  return true;
}

}  // namespace rexec
