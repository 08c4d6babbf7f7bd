// Front runs the HAProxy that stands before rexecd's listening addresses
// (--front; see haproxy_config.h for why). rexecd binds every --listen and
// --health-listen address itself (so port 0 works, unix sockets get their
// mode and group, and a restarted HAProxy takes the same sockets), and
// keeps one HAProxy running with the sockets as fds. HAProxy reaches rexecd
// on a unix socket in a private directory (0700), where Front accepts only
// connections whose peer (SO_PEERCRED) is an HAProxy it started: a child
// that runs as rexecd's own user could otherwise connect there and send
// the headers that name a caller. Each accepted connection is handed to
// gRPC (RexecServer::AddConnection). HAProxy is:
//   - started and checked before rexecd says it listens;
//   - started again (at most once a second) if it dies;
//   - replaced when the TLS files change (every --tls-reload-interval): a
//     new one takes new connections, the old one (SIGUSR1) finishes its
//     running calls, then exits;
//   - killed with rexecd: it is started with PR_SET_PDEATHSIG.
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

  // Where HAProxy reaches rexecd: "unix:/run/rexec/rexecd-front.XXXXXX/
  // api.sock" (Front accepts there), and the health service's socket, which
  // gRPC serves itself (health tells nothing to believe), when there is a
  // --health-listen.
  std::string api_address() const;
  std::string health_address() const;
  // The addresses as bound ("127.0.0.1:0" -> "127.0.0.1:41234").
  const std::vector<std::string>& addresses() const { return addresses_; }
  const std::string& bound_health_address() const { return bound_health_; }
  // For each --listen address, in order: what a call's peer is called when
  // it came in there: "unix:/path" for a unix socket, "" for TCP (its
  // peer is then the client's address, from the front's headers).
  std::vector<std::string> ListenerPeers() const;

  // Writes the configuration, has HAProxy check it, and starts it; then
  // supervises it, and hands each connection an HAProxy of ours makes to
  // rexecd's socket to `on_connection` (which takes the fd). The error is
  // HAProxy's own message.
  absl::Status Start(std::function<void(int fd)> on_connection);

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
  // The configuration and the PEM file, from the TLS files as they are now.
  absl::Status WriteFiles();
  absl::StatusOr<pid_t> Launch(bool check_only);
  void Supervise();
  // Accepts a connection on the private socket: to on_connection_ when its
  // peer is an HAProxy of ours, else closed with a warning.
  void Accept();
  bool TlsFilesChanged();

  const FrontOptions options_;
  std::string haproxy_;  // resolved path
  std::string dir_;      // the private directory
  std::vector<Listener> listeners_;
  std::vector<std::string> addresses_;
  std::string bound_health_;
  std::string tls_text_;  // cert, key and CA as last written

  int api_fd_ = -1;   // the private socket HAProxy connects to
  std::function<void(int)> on_connection_;
  int stop_fd_ = -1;  // eventfd: the supervisor ends
  std::thread supervisor_;
  absl::Mutex mu_;
  pid_t current_ ABSL_GUARDED_BY(mu_) = -1;
  std::vector<pid_t> retiring_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rexec::front

#endif  // REXEC_SERVER_FRONT_FRONT_H_
