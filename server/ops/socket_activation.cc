#include "server/ops/socket_activation.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace rexec::ops {
namespace {

// sd_listen_fds(3): the passed sockets begin at 3.
constexpr int kFirstFd = 3;
// More than any unit of ours passes; a bound on what a variable makes us do.
constexpr int kMaxFds = 64;

absl::StatusOr<ActivatedSocket> Check(int fd) {
  auto refuse = [fd](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the service manager passed fd ", fd, " (LISTEN_FDS), which ", why,
        ": rexecd takes only listening unix stream sockets from it (serve "
        "TCP with --listen, which has TLS)"));
  };
  int type = 0, listening = 0;
  socklen_t length = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) != 0) {
    return refuse(absl::StrCat("is not a socket (", std::strerror(errno), ")"));
  }
  length = sizeof listening;
  if (type != SOCK_STREAM ||
      getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) != 0 ||
      listening == 0) {
    return refuse("is not a listening stream socket");
  }
  sockaddr_un address{};
  length = sizeof address;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0 ||
      address.sun_family != AF_UNIX) {
    return refuse("is not a unix socket");
  }
  const size_t path_length = length - offsetof(sockaddr_un, sun_path);
  if (path_length == 0 || address.sun_path[0] == '\0') {
    return refuse("has no path (an abstract socket has no permissions)");
  }
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  return ActivatedSocket{
      fd, absl::StrCat("unix:",
                       std::string(address.sun_path,
                                   strnlen(address.sun_path, path_length)))};
}

}  // namespace

absl::StatusOr<std::vector<ActivatedSocket>> TakeActivatedSockets() {
  const char* pid_text = std::getenv("LISTEN_PID");
  const char* count_text = std::getenv("LISTEN_FDS");
  pid_t pid = 0;
  int count = 0;
  const bool ours = pid_text != nullptr && count_text != nullptr &&
                    absl::SimpleAtoi(pid_text, &pid) && pid == getpid() &&
                    absl::SimpleAtoi(count_text, &count);
  for (const char* name : {"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"}) {
    unsetenv(name);
  }
  std::vector<ActivatedSocket> sockets;
  if (!ours || count <= 0) return sockets;
  if (count > kMaxFds) {
    return absl::InvalidArgumentError(
        absl::StrCat("the service manager passed ", count,
                     " sockets (LISTEN_FDS): rexecd "
                     "takes at most ",
                     kMaxFds));
  }
  for (int fd = kFirstFd; fd < kFirstFd + count; ++fd) {
    absl::StatusOr<ActivatedSocket> socket = Check(fd);
    if (!socket.ok()) return socket.status();
    sockets.push_back(*std::move(socket));
  }
  return sockets;
}

}  // namespace rexec::ops
