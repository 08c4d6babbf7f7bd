// ServiceNotifier tells the service manager that started rexecd how it is,
// in systemd's notification protocol (sd_notify(3)): one datagram such as
// "READY=1", "RELOADING=1", "STOPPING=1" or "STATUS=..." to the unix socket
// $NOTIFY_SOCKET names.
//
// Spoken here rather than through libsystemd's sd_notify(): that reads the
// variable at every call, and rexecd takes the variable out of its
// environment at start (before its first thread), so that no child inherits
// the way to speak for it. systemd documents the protocol as stable for
// other implementations to speak.
//
// Immutable once made: Notify() is thread-safe.
#ifndef REXEC_COMMON_SERVICE_NOTIFIER_H_
#define REXEC_COMMON_SERVICE_NOTIFIER_H_

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace rexec {

class ServiceNotifier {
 public:
  // One that says nothing.
  ServiceNotifier() = default;
  // From $NOTIFY_SOCKET ("/path" or "@abstract"), which it unsets; one that
  // says nothing when unset or of another kind (vsock:).
  static ServiceNotifier FromEnvironment();

  bool active() const { return !address_.empty(); }
  // Sends `state` (lines of NAME=VALUE). OK when inactive; errors name the
  // socket.
  absl::Status Notify(absl::string_view state) const;

 private:
  explicit ServiceNotifier(std::string address)
      : address_(std::move(address)) {}

  std::string address_;  // a path, or "\0name" for an abstract socket
};

}  // namespace rexec

#endif  // REXEC_COMMON_SERVICE_NOTIFIER_H_
