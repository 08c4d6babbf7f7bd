#include "server/ops/service_status.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace rexec::ops {

ServiceStatus::ServiceStatus(ServiceNotifier notifier, int relay_fd)
    : notifier_(std::move(notifier)), relay_fd_(relay_fd) {}

ServiceStatus::~ServiceStatus() {
  if (relay_fd_ >= 0) close(relay_fd_);
}

void ServiceStatus::Ready(absl::string_view status) {
  Tell(absl::StrCat("READY=1\nSTATUS=", status));
}

void ServiceStatus::Reloading() { Tell("RELOADING=1"); }

void ServiceStatus::Stopping(absl::string_view status) {
  Tell(absl::StrCat("STOPPING=1\nSTATUS=", status));
}

void ServiceStatus::Tell(const std::string& state) {
  if (relay_fd_ >= 0) {
    // One write under PIPE_BUF: whole, never mixed with another's.
    const std::string message = state.substr(0, 4000) + '\0';
    if (write(relay_fd_, message.data(), message.size()) !=
        static_cast<ssize_t>(message.size())) {
      spdlog::warn(
          "could not tell the service manager {}: the keeper's "
          "pipe failed",
          state.substr(0, state.find('\n')));
    }
    return;
  }
  if (absl::Status told = notifier_.Notify(state); !told.ok()) {
    spdlog::warn("{}", std::string(told.message()));
  }
}

}  // namespace rexec::ops
