// MetricsHttpServer serves one page over HTTP: GET /metrics, the Prometheus
// text a function renders when scraped. libmicrohttpd runs it on a thread of
// its own, never on a completion queue's, with a cap on connections (in all
// and per client address), on the memory each may use to send its request
// (so a request's headers are bounded), and on idle time.
//
// Start() and the destructor are for one thread; the render function is
// called on the server's thread, and must be thread-safe.
#ifndef REXEC_SERVER_OPS_METRICS_HTTP_H_
#define REXEC_SERVER_OPS_METRICS_HTTP_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

struct MHD_Daemon;

namespace rexec::ops {

// INVALID_ARGUMENT naming `address` when it is not one Start() takes.
absl::Status CheckMetricsAddress(const std::string& address);

class MetricsHttpServer {
 public:
  // `address` is HOST:PORT, [IPV6]:PORT, or :PORT for loopback (127.0.0.1).
  // INVALID_ARGUMENT for one that is not, FAILED_PRECONDITION naming it
  // when it cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& address, std::function<std::string()> render);
  ~MetricsHttpServer();

  // The address served, with the port the system chose for ":0".
  const std::string& address() const { return address_; }

 private:
  MetricsHttpServer() = default;

  std::function<std::string()> render_;
  MHD_Daemon* daemon_ = nullptr;
  std::string address_;
};

}  // namespace rexec::ops

#endif  // REXEC_SERVER_OPS_METRICS_HTTP_H_
