// Front runs the HAProxy that stands before rexecd's listening addresses
// (--front; see haproxy_config.h for why). rexecd binds every --listen and
// --health-listen address itself (so port 0 works, unix sockets get their
// mode and group, and a restarted HAProxy takes the same sockets), and
// keeps one HAProxy running with the sockets as fds.
//
// What HAProxy says of a call is believed, so nothing of the path from it
// to rexecd may be reachable by a child, which may run as rexecd's own
// user (root without capabilities still owns root's files):
//   - HAProxy reaches rexecd on two abstract unix sockets with random
//     names (no file to rename or replace), where Front accepts only
//     connections whose peer (SO_PEERCRED) is an HAProxy it started, and
//     hands each to gRPC (the API's or the health service's server);
//   - its configuration, certificate chain and key, and client CA are
//     sealed memfds (F_SEAL_WRITE...) it reads as /dev/fd/N: no file to
//     edit between restarts;
//   - under a root rexecd it runs as the `haproxy` user (else `nobody`),
//     set by HAProxy after it read them, which also makes it non-dumpable:
//     no child may ptrace it, read its memory or take its fds. A rexecd
//     that is not root cannot do that, and says so at Start() unless
//     HAProxy's binary is execute-only for it (which makes the kernel keep
//     the process non-dumpable; the image does so).
// HAProxy is started again (at most once a second) if it dies, replaced
// when the TLS files change (every --tls-reload-interval; the old one
// finishes its running calls after SIGUSR1), and killed with rexecd
// (PR_SET_PDEATHSIG).
//
// Thread-safe: the supervision runs on a thread of its own.
#ifndef REXEC_SERVER_FRONT_FRONT_H_
#define REXEC_SERVER_FRONT_FRONT_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/front/haproxy_config.h"

namespace rexec::front {

struct FrontOptions {
  // The HAProxy to run: a path, or a name looked up in PATH.
  std::string haproxy = "haproxy";
  std::vector<std::string> listen;
  std::string health_listen;  // "": none
  // TLS for the TCP addresses of `listen` (cert and key: both or neither).
  std::string tls_cert, tls_key, tls_client_ca;
  bool client_certificate_optional = false;
  absl::Duration tls_refresh = absl::Seconds(60);
  mode_t socket_mode = 0600;
  std::optional<gid_t> socket_group;
  // What HAProxy's limits and timeouts are made from.
  HaproxySettings limits;
};

class Front {
 public:
  // Binds the addresses and makes the private directory; nothing runs yet.
  // Errors name the address or file.
  static absl::StatusOr<std::unique_ptr<Front>> Bind(FrontOptions options);
  // Stops every HAProxy (SIGTERM, then SIGKILL) and removes the directory.
  ~Front();

  // The abstract socket HAProxy reaches rexecd's API on, for the log.
  const std::string& private_name() const { return api_name_; }
  bool has_health() const { return !options_.health_listen.empty(); }
  // The addresses as bound ("127.0.0.1:0" -> "127.0.0.1:41234").
  const std::vector<std::string>& addresses() const { return addresses_; }
  const std::string& bound_health_address() const { return bound_health_; }
  // For each --listen address, in order: what a call's peer is called when
  // it came in there: "unix:/path" for a unix socket, "" for TCP (its
  // peer is then the client's address, from the front's headers).
  std::vector<std::string> ListenerPeers() const;

  // Makes the configuration, has HAProxy check it, and starts it; then
  // supervises it, and hands each connection an HAProxy of ours makes to
  // rexecd to `on_connection` (which takes the fd; `health` for the health
  // service's). The error is HAProxy's own message.
  absl::Status Start(std::function<void(int fd, bool health)> on_connection);

 private:
  struct Listener {
    std::string address;  // as given
    std::string bound;    // with the port the kernel chose
    bool unix_socket = false;
    bool health = false;
    int fd = -1;
  };

  explicit Front(FrontOptions options) : options_(std::move(options)) {}
  absl::Status BindAll();
  // The sealed configuration, chain and key, and CA, from the TLS files as
  // they are now.
  absl::Status MakeFiles();
  absl::StatusOr<pid_t> Launch(bool check_only);
  void Supervise();
  bool TlsFilesChanged();
  // Accepts on a private socket: to on_connection_ when the peer is an
  // HAProxy of ours, else closed (and said, at most once a second).
  void Accept(int fd, bool health);
  const FrontOptions options_;
  std::string haproxy_;  // resolved path
  std::optional<std::pair<uid_t, gid_t>> run_as_;  // under a root rexecd
  std::vector<Listener> listeners_;
  std::vector<std::string> addresses_;
  std::string bound_health_;
  // The private sockets, abstract: the API's and the health service's.
  std::string api_name_, health_name_;
  int api_fd_ = -1, health_fd_ = -1;
  // Sealed memfds: the configuration, the PEM (chain and key), the CA.
  int config_fd_ = -1, pem_fd_ = -1, ca_fd_ = -1;
  std::string tls_text_;  // cert, key and CA as last taken
  std::function<void(int, bool)> on_connection_;
  absl::Time last_refusal_said_ = absl::InfinitePast();
  int refusals_unsaid_ = 0;

  int stop_fd_ = -1;  // eventfd: the supervisor ends
  std::thread supervisor_;
  absl::Mutex mu_;
  pid_t current_ ABSL_GUARDED_BY(mu_) = -1;
  std::vector<pid_t> retiring_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rexec::front

#endif  // REXEC_SERVER_FRONT_FRONT_H_
