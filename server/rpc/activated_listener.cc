#include "server/rpc/activated_listener.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace rexec::rpc {
namespace {

// Out of fds: the connection waits in the socket's backlog meanwhile.
constexpr absl::Duration kOutOfFdsPause = absl::Milliseconds(100);

}  // namespace

ActivatedListener::ActivatedListener(int fd, grpc::ServerBuilder& builder)
    : fd_(fd), stop_(eventfd(0, EFD_CLOEXEC)) {
  // A connection aborted between poll() and accept() must not block us.
  fcntl(fd_.Get(), F_SETFL, fcntl(fd_.Get(), F_GETFL) | O_NONBLOCK);
  acceptor_ = builder.experimental().AddExternalConnectionAcceptor(
      grpc::ServerBuilder::experimental_type::ExternalConnectionType::FROM_FD,
      grpc::InsecureServerCredentials());
}

void ActivatedListener::Start() {
  thread_ = std::thread([this] { Accept(); });
}

void ActivatedListener::Stop() {
  if (!thread_.joinable()) return;
  const uint64_t one = 1;
  (void)!write(stop_.Get(), &one, sizeof one);
  thread_.join();
}

void ActivatedListener::Accept() {
  for (;;) {
    pollfd ready[2] = {{fd_.Get(), POLLIN, 0}, {stop_.Get(), POLLIN, 0}};
    if (poll(ready, 2, -1) < 0) continue;  // EINTR
    if (ready[1].revents != 0) return;
    const int connection =
        accept4(fd_.Get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (connection < 0) {
      if (errno == EMFILE || errno == ENFILE) absl::SleepFor(kOutOfFdsPause);
      continue;  // EAGAIN, ECONNABORTED, EINTR: the next one
    }
    grpc::experimental::ExternalConnectionAcceptor::NewConnectionParameters
        parameters;
    parameters.listener_fd = fd_.Get();
    parameters.fd = connection;
    acceptor_->HandleNewConnection(&parameters);
  }
}

}  // namespace rexec::rpc
