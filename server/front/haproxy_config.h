// The configuration of the HAProxy that fronts rexecd (--front): rexecd's
// listening sockets are bound by rexecd and handed to HAProxy (`fd@N`),
// which speaks HTTP/2 to clients, ends their TLS, and forwards each call to
// rexecd's private unix socket, saying who sent it in headers that it sets
// itself (a client's own are deleted first).
//
// Why: gRPC 1.51 (Debian 12's) grows without bound on a header block that
// never ends (CVE-2023-33953), before any authentication. HAProxy keeps a
// header block within one buffer (tune.bufsize) and refuses the stream
// past it, so no unbounded header block reaches rexecd.
//
// A pure function of its settings: no files, no processes.
#ifndef REXEC_SERVER_FRONT_HAPROXY_CONFIG_H_
#define REXEC_SERVER_FRONT_HAPROXY_CONFIG_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "common/front_headers.h"

namespace rexec::front {

struct HaproxySettings {
  struct Bind {
    int fd = -1;  // in HAProxy's process
    bool unix_socket = false;
    // The health service alone, in plaintext (--health-listen).
    bool health = false;
  };
  std::vector<Bind> binds;
  // rexecd's private sockets (HAProxy addresses, "abns@NAME"): the API,
  // and the health service alone ("": none).
  std::string api_socket, health_socket;
  // Who HAProxy becomes once it has read its files (uid, gid); unset: it
  // stays who it was started as.
  std::optional<std::pair<uid_t, gid_t>> run_as;
  // TLS on the API's TCP binds: the certificate chain with its key in one
  // PEM file; empty: plaintext. With client_ca, client certificates are
  // verified (required unless client_certificate_optional).
  std::string tls_pem, client_ca;
  bool client_certificate_optional = false;
  int max_connections = 4096;
  // Of those, what the health frontends may hold: probes are few, and a
  // flood of them must not take the API's room, nor the API's theirs.
  int max_health_connections = 64;
  // Per client address: an IPv4 address, or an IPv6 /64 (what one host
  // is usually given).
  int max_connections_per_address = 256;
  int max_streams_per_connection = 100;
  absl::Duration handshake_timeout = absl::Seconds(10);
  absl::Duration idle_timeout = absl::Minutes(5);
  absl::Duration keepalive_time = absl::Minutes(1);
  absl::Duration keepalive_timeout = absl::Seconds(20);
};

std::string RenderHaproxyConfig(const HaproxySettings& settings);

}  // namespace rexec::front

#endif  // REXEC_SERVER_FRONT_HAPROXY_CONFIG_H_
