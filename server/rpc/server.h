// RexecServer is the rexec.v1.ChildProcess service on gRPC's asynchronous
// completion-queue API: one completion queue per worker thread, each call a
// self-owned state machine on the queue it arrived on, one poller thread for
// child fds. Also serves the standard health service and reflection, and
// makes this process a child subreaper that reaps orphaned descendants.
//
// Start() and Shutdown() are for one controlling thread.
#ifndef REXEC_SERVER_RPC_SERVER_H_
#define REXEC_SERVER_RPC_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "rexec/v1/child_process.grpc.pb.h"
#include "server/process/poller.h"
#include "server/rpc/server_state.h"

namespace rexec::rpc {

class RexecServer {
 public:
  // FAILED_PRECONDITION naming the address when one cannot be bound.
  static absl::StatusOr<std::unique_ptr<RexecServer>> Start(
      ServerConfig config);
  ~RexecServer();

  // The addresses served, with the ports the system chose for ":0".
  const std::vector<std::string>& addresses() const { return addresses_; }

  // Stops accepting calls, cancels the running ones (their children are
  // stopped with their kill policy) and returns once every child is reaped.
  void Shutdown();

 private:
  RexecServer() = default;

  std::unique_ptr<process::Poller> poller_;
  std::unique_ptr<ServerState> state_;
  v1::ChildProcess::AsyncService service_;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> cqs_;
  std::unique_ptr<grpc::Server> server_;
  std::vector<std::thread> workers_;
  std::vector<std::string> addresses_;
  bool shut_down_ = false;
};

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_SERVER_H_
