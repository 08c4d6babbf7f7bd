// ServiceStatus tells the service manager that started rexecd (systemd, with
// Type=notify) where rexecd is in its life: ready once it serves, reloading
// while it reads its policy and tokens again (SIGHUP), stopping once a drain
// began. Through the keeper of rexecd's PID namespace when there is one
// (the process systemd started, and with NotifyAccess=main the only one it
// hears: a child of rexecd cannot speak for it), else directly. Nothing
// when no service manager asked (no $NOTIFY_SOCKET).
//
// Thread-safe.
#ifndef REXEC_SERVER_OPS_SERVICE_STATUS_H_
#define REXEC_SERVER_OPS_SERVICE_STATUS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "common/service_notifier.h"

namespace rexec::ops {

class ServiceStatus {
 public:
  // `relay_fd` (owned; -1 for none): the keeper's pipe, which then carries
  // every message instead of `notifier`.
  ServiceStatus(ServiceNotifier notifier, int relay_fd);
  ~ServiceStatus();
  ServiceStatus(const ServiceStatus&) = delete;
  ServiceStatus& operator=(const ServiceStatus&) = delete;

  // `status`: one line for `systemctl status`.
  void Ready(absl::string_view status);
  void Reloading();
  void Stopping(absl::string_view status);

 private:
  void Tell(const std::string& state);

  const ServiceNotifier notifier_;
  const int relay_fd_;
};

}  // namespace rexec::ops

#endif  // REXEC_SERVER_OPS_SERVICE_STATUS_H_
