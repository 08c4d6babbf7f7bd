#include "common/service_notifier.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errno_status.h"

namespace rexec {

ServiceNotifier ServiceNotifier::FromEnvironment() {
  const char* value = std::getenv("NOTIFY_SOCKET");
  std::string address = value != nullptr ? value : "";
  unsetenv("NOTIFY_SOCKET");
  if (absl::StartsWith(address, "@")) address[0] = '\0';
  if (address.empty() || (address[0] != '/' && address[0] != '\0') ||
      address.size() >= sizeof(sockaddr_un::sun_path)) {
    return ServiceNotifier();
  }
  return ServiceNotifier(std::move(address));
}

absl::Status ServiceNotifier::Notify(absl::string_view state) const {
  if (!active()) return absl::OkStatus();
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus(errno, "notify the service manager: socket");
  sockaddr_un to{};
  to.sun_family = AF_UNIX;
  std::memcpy(to.sun_path, address_.data(), address_.size());
  const socklen_t length = offsetof(sockaddr_un, sun_path) + address_.size() +
                           (address_[0] == '\0' ? 0 : 1);
  const ssize_t sent = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                              reinterpret_cast<const sockaddr*>(&to), length);
  const int error = errno;
  close(fd);
  if (sent != static_cast<ssize_t>(state.size())) {
    return ErrnoStatus(error, absl::StrCat("notify the service manager at ",
                                           address_[0] == '\0' ? "@" : "",
                                           absl::string_view(address_).substr(
                                               address_[0] == '\0' ? 1 : 0)));
  }
  return absl::OkStatus();
}

}  // namespace rexec
