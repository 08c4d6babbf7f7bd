// RexecServer is the rexec.v1.ChildProcess service on gRPC's asynchronous
// completion-queue API: one completion queue per worker thread, each call a
// self-owned state machine on the queue it arrived on, one poller thread for
// child fds. Also serves the standard health service and reflection, and
// makes this process a child subreaper that reaps orphaned descendants.
//
// Start() and Shutdown() are for one controlling thread; KillAll() may be
// called from another while Shutdown() runs.
#ifndef REXEC_SERVER_RPC_SERVER_H_
#define REXEC_SERVER_RPC_SERVER_H_

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "server/auth/authenticator.h"
#include "server/auth/policy_store.h"
#include "server/process/poller.h"
#include "server/rpc/child_call.h"
#include "server/rpc/server_state.h"

namespace rexec::rpc {

// Who may connect and call, decided by the binary from its flags.
struct ServerSecurity {
  // For TCP addresses: TLS, or plaintext. Unix sockets are always
  // plaintext: their file mode decides who may connect.
  std::shared_ptr<grpc::ServerCredentials> network_credentials;
  // Null: calls are anonymous, and run anything.
  const auth::Authenticator* authenticator = nullptr;
  const auth::PolicyStore* policy = nullptr;
  // What unix sockets are made with.
  mode_t socket_mode = 0600;
  std::optional<gid_t> socket_group;
};

// How long connections may linger, and how much they may hold; gRPC's own
// channel arguments and resource quota.
struct ConnectionLimits {
  // A connection that has not finished its TLS handshake (or its HTTP/2
  // preface, in plaintext) by then is closed.
  absl::Duration handshake_timeout = absl::Seconds(10);
  // A connection with no call for this long is closed (GOAWAY): a
  // preface-only connection, or an idle client's, which reconnects.
  absl::Duration max_connection_idle = absl::Minutes(5);
  // Zero: none. Past it, the connection takes no new calls; running ones
  // go on.
  absl::Duration max_connection_age = absl::ZeroDuration();
  // The server pings a connection this often, and drops it when no answer
  // comes in the timeout: a vanished client's children are then stopped.
  absl::Duration keepalive_time = absl::Minutes(1);
  absl::Duration keepalive_timeout = absl::Seconds(20);
  int max_streams_per_connection = 100;
  // All of gRPC's buffers together.
  uint64_t max_memory = uint64_t{1} << 30;
};

class RexecServer {
 public:
  // FAILED_PRECONDITION naming the address when one cannot be bound.
  static absl::StatusOr<std::unique_ptr<RexecServer>> Start(
      ServerConfig config, ServerSecurity security = {},
      ConnectionLimits limits = {});
  ~RexecServer();

  // The addresses served, with the ports the system chose for ":0".
  const std::vector<std::string>& addresses() const { return addresses_; }

  // Stops accepting calls, cancels the running ones (their children are
  // stopped with their kill policy) and returns once every child is reaped.
  void Shutdown();
  // SIGKILL to every child's process group, for a shutdown that must not
  // wait for kill_grace. Returns how many groups there were.
  int KillAll();

 private:
  RexecServer() = default;

  std::unique_ptr<process::Poller> poller_;
  std::unique_ptr<ServerState> state_;
  ChildProcessService service_;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> cqs_;
  std::unique_ptr<grpc::Server> server_;
  std::vector<std::thread> workers_;
  std::vector<std::string> addresses_;
  bool shut_down_ = false;
};

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_SERVER_H_
