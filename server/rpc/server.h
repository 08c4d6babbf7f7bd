// RexecServer is the rexec.v1.ChildProcess service on gRPC's asynchronous
// completion-queue API: one completion queue per worker thread, each call a
// self-owned state machine on the queue it arrived on, one poller thread for
// child fds. Also serves the standard health service (for "" and for
// rexec.v1.ChildProcess; alone on a plaintext port of its own too, with
// health_listen) and reflection, and makes this process a child subreaper
// that reaps orphaned descendants.
//
// Start(), Drain() and Shutdown() are for one controlling thread; KillAll()
// and RenderMetrics() may be called from others.
#ifndef REXEC_SERVER_RPC_SERVER_H_
#define REXEC_SERVER_RPC_SERVER_H_

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/auth/authenticator.h"
#include "server/auth/policy_store.h"
#include "server/process/orphan_reaper.h"
#include "server/process/poller.h"
#include "server/rpc/activated_listener.h"
#include "server/rpc/child_call.h"
#include "server/rpc/cq_executor.h"
#include "server/rpc/server_state.h"
#include "server/table/memory_budget.h"

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
  // The clients' own pings, which find a frozen or vanished server: one
  // that comes sooner than this after the previous one, with nothing sent
  // by the server in between, is a strike, and the third strike closes the
  // connection (GOAWAY too_many_pings) with its calls. gRPC's default is 5
  // minutes, which ends a silent call whose client pings every 30 s (the
  // clients' default) at its fourth ping, after two minutes; grpc-go never
  // pings more often than every 10 s. Pings of a connection without calls are
  // held to gRPC's two hours: no client of ours sends them.
  absl::Duration keepalive_min_time = absl::Seconds(10);
  int max_streams_per_connection = 100;
  // All of gRPC's buffers together (its resource quota), held from the
  // memory budget from the start: 0 is a quarter of the budget; at most
  // half of it.
  uint64_t max_memory = 0;
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
  // config.health_listen with its port, or "".
  const std::string& health_address() const { return health_address_; }

  // What Kubernetes expects of SIGTERM: the health service says NOT_SERVING
  // at once, new calls are refused (UNAVAILABLE, saying the server is
  // draining), running calls go on until they end or `grace` passes; each
  // child is stopped with its kill policy when only its kill_grace is left
  // (its exit reaches the client with TERMINATION_REASON_SERVER_SHUTDOWN),
  // and by the end of `grace` whatever is left gets SIGKILL. Then
  // Shutdown(). Returns how many process groups got SIGKILL at the deadline.
  int Drain(absl::Duration grace);
  // Drain()'s first step alone, at once: health NOT_SERVING and new calls
  // refused from when it returns (so that a log line after it is true), the
  // drain's deadline set. Drain() after it keeps that deadline.
  void BeginDrain(absl::Time deadline);
  // Stops accepting calls, cancels the running ones (their children are
  // stopped with their kill policy) and returns once every child is reaped.
  // Calls may first end on their own for `grace` (a refusal on its way, an
  // exit being sent).
  void Shutdown(absl::Duration grace = absl::ZeroDuration());
  // SIGKILL to every child's process group, for a shutdown that must not
  // wait for kill_grace. Returns how many groups there were.
  int KillAll();
  // Ends a Drain() at once: SIGKILL to every child (KillAll), and the calls
  // left are cancelled. Returns how many groups were killed.
  int StopNow();
  // After a policy reload: every running session is judged again as its
  // launch would be now (CheckStillAllowed); each the policy would not
  // start gets an audit record and, with `stop`, is stopped with its kill
  // policy (TERMINATION_REASON_POLICY_REVOKED). Attach refuses them either
  // way. Returns how many there were.
  int ReviewSessions(bool stop);
  // Health says SERVING while the server takes calls: not draining, and
  // not refusing for want of an audit log. Call when the latter changes
  // (any thread).
  void UpdateServing();
  // The Prometheus text of this server's metrics.
  std::string RenderMetrics();
  // Serves a connection accepted elsewhere (--front's, see front/front.h),
  // in plaintext, on the API's server or the health service's; takes `fd`.
  void AddConnection(int fd, bool health);

 private:
  RexecServer() = default;

  std::unique_ptr<process::Poller> poller_;
  std::unique_ptr<process::OrphanReaper> reaper_;  // before poller_ goes
  std::unique_ptr<ServerState> state_;
  ChildProcessService service_;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> cqs_;
  // The table's executor on each of cqs_, by index.
  std::vector<std::unique_ptr<CqExecutor>> executors_;
  void SetServing(bool serving) ABSL_EXCLUSIVE_LOCKS_REQUIRED(serving_mu_);
  // Orders UpdateServing() with BeginDrain(), whose NOT_SERVING is final.
  absl::Mutex serving_mu_;

  // Completion queues go after their server: declared before it.
  std::unique_ptr<grpc::ServerCompletionQueue> health_cq_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::Server> health_server_;
  std::string health_address_;
  std::vector<std::thread> workers_;
  std::vector<std::string> addresses_;
  // config.activated's, each accepting on a thread of its own.
  std::vector<std::unique_ptr<ActivatedListener>> activated_;
  bool shut_down_ = false;
};

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_SERVER_H_
