#include "server/front/haproxy_config.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"

namespace rexec::front {
namespace {

// HAProxy's timers count milliseconds in 31 bits: about 24.8 days.
constexpr int64_t kLongestMs = (int64_t{1} << 31) - 1;

std::string Ms(absl::Duration d) {
  return absl::StrCat(
      std::clamp<int64_t>(absl::ToInt64Milliseconds(d), 1, kLongestMs), "ms");
}

std::string Seconds(absl::Duration d) {
  return absl::StrCat(std::max<int64_t>(absl::ToInt64Seconds(d), 1), "s");
}

}  // namespace

std::string RenderHaproxyConfig(const HaproxySettings& s) {
  std::string out = absl::StrCat(
      "# Written by rexecd (--front) at each start: not to be edited.\n"
      "global\n"
      "  maxconn ", s.max_connections, "\n",
      // The bound on a header block (and on any HTTP/2 frame HAProxy
      // keeps whole): 16 KiB, HAProxy's default, said here for the reader.
      "  tune.bufsize 16384\n"
      "  tune.h2.max-concurrent-streams ", s.max_streams_per_connection, "\n",
      "  ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets\n",
      s.run_as.has_value()
          ? absl::StrCat("  uid ", s.run_as->first, "\n  gid ",
                         s.run_as->second, "\n")
          : "",
      "\n"
      "defaults\n"
      "  mode http\n"
      "  timeout connect 5s\n",
      // On an HTTP/2 connection HAProxy counts `timeout client` while the
      // connection has no stream: a connection that says nothing goes after
      // the handshake timeout, as with gRPC's own listener. A call may be
      // silent for as long as its process runs (a `sleep`, an attachment to
      // an idle shell): the server side waits the longest HAProxy can
      // count, and dead clients are found by TCP keepalive below. A
      // client's own keepalive (HTTP/2 pings) is answered by HAProxy, at
      // any rate: it finds a front that froze or vanished, not a frozen
      // rexecd behind it (front_test).
      "  timeout client ", Ms(s.handshake_timeout), "\n",
      "  timeout server ", Ms(absl::Milliseconds(kLongestMs)), "\n",
      "  timeout http-request ", Ms(s.handshake_timeout), "\n",
      "  timeout http-keep-alive ", Ms(s.idle_timeout), "\n",
      "  timeout client-fin 10s\n"
      "  timeout server-fin 10s\n"
      "  option clitcpka\n"
      "  clitcpka-idle ", Seconds(s.keepalive_time), "\n",
      "  clitcpka-intvl ", Seconds(s.keepalive_timeout), "\n",
      "  clitcpka-cnt 3\n",
      // One client connection, one connection to rexecd: its per-connection
      // limits, and a disconnect, mean what they do without a front.
      "  http-reuse never\n");
  int api_index = 0;
  for (size_t i = 0; i < s.binds.size(); ++i) {
    const HaproxySettings::Bind& b = s.binds[i];
    absl::StrAppend(&out, "\nfrontend ", b.health ? "health-" : "api-", i,
                    "\n  maxconn ",
                    b.health ? s.max_health_connections
                             : s.max_connections - s.max_health_connections,
                    "\n  bind fd@", b.fd, " proto h2");
    if (!b.health && !b.unix_socket && !s.tls_pem.empty()) {
      absl::StrAppend(&out, " ssl crt ", s.tls_pem, " alpn h2");
      if (!s.client_ca.empty()) {
        absl::StrAppend(&out, " ca-file ", s.client_ca, " verify ",
                        s.client_certificate_optional ? "optional" : "required");
      }
    }
    out += "\n";
    if (!b.unix_socket) {
      absl::StrAppend(
          &out,
          "  stick-table type ipv6 size 64k expire 60s store conn_cur\n"
          "  tcp-request connection track-sc0 src,ipmask(32,64)\n"
          "  tcp-request connection reject if { sc0_conn_cur gt ",
          s.max_connections_per_address, " }\n");
    }
    if (b.health) {
      out += "  default_backend health\n";
      continue;
    }
    absl::StrAppend(
        &out, "  http-request del-header ", kFrontHeaderPrefix, " -m beg\n",
        "  http-request set-header ", kFrontListenerHeader, " ", api_index++, "\n");
    if (!b.unix_socket) {
      absl::StrAppend(&out, "  http-request set-header ", kFrontSourceHeader,
                      " %[src]\n", "  http-request set-header ", kFrontPortHeader,
                      " %[src_port]\n", "  http-request set-header ",
                      kFrontTlsHeader, " %[ssl_fc]\n");
      if (!s.client_ca.empty()) {
        absl::StrAppend(&out, "  http-request set-header ", kFrontCertificateHeader,
                        " %[ssl_c_der,base64] if { ssl_c_used }\n");
      }
    }
    out += "  default_backend api\n";
  }
  absl::StrAppend(&out, "\nbackend api\n  server rexecd ", s.api_socket,
                  " proto h2\n");
  if (!s.health_socket.empty()) {
    absl::StrAppend(&out, "\nbackend health\n  server rexecd ",
                    s.health_socket, " proto h2\n");
  }
  return out;
}

}  // namespace rexec::front
