// ActivatedListener serves a listening socket the service manager passed
// (ops/socket_activation.h): it accepts each connection on a thread of its
// own and hands it to gRPC through an ExternalConnectionAcceptor, which
// treats it as one of its own listeners' (its peer is read off the socket:
// "unix:"). Connections that come after Stop() wait in the socket for the
// next rexecd, as systemd means them to.
//
// Construction registers with the builder (before the server is built);
// Start() after the server started; Stop() before it shuts down. All on one
// thread; the accepting thread is its own.
#ifndef REXEC_SERVER_RPC_ACTIVATED_LISTENER_H_
#define REXEC_SERVER_RPC_ACTIVATED_LISTENER_H_

#include <grpcpp/server_builder.h>

#include <memory>
#include <thread>

#include "server/process/unique_fd.h"

namespace rexec::rpc {

class ActivatedListener {
 public:
  ActivatedListener(int fd, grpc::ServerBuilder& builder);
  ~ActivatedListener() { Stop(); }
  ActivatedListener(const ActivatedListener&) = delete;
  ActivatedListener& operator=(const ActivatedListener&) = delete;

  void Start();
  // Idempotent.
  void Stop();

 private:
  void Accept();

  const process::UniqueFd fd_;
  const process::UniqueFd stop_;  // an eventfd: written once, to stop
  std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor_;
  std::thread thread_;
};

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_ACTIVATED_LISTENER_H_
