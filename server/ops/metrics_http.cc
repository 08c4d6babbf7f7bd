#include "server/ops/metrics_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/errno_status.h"

namespace rexec::ops {
namespace {

// A scraper opens one or two connections; a few dozen is plenty, and bounds
// what a flood of them can hold.
constexpr unsigned kMaxConnections = 32;
constexpr unsigned kMaxConnectionsPerClient = 8;
// A scrape sends its request at once: a connection idle this long (a
// slow sender holding one of the slots) is closed.
constexpr unsigned kIdleSeconds = 3;
// What one connection may use to read its request: a GET with a few
// headers needs a fraction of it; longer ones are refused (431/413).
constexpr size_t kConnectionMemory = 16 << 10;

MHD_Result Respond(MHD_Connection* connection, unsigned status,
                   const std::string& body, const char* type) {
  MHD_Response* response = MHD_create_response_from_buffer(
      body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
    MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
  }
  MHD_Result result = MHD_queue_response(connection, status, response);
  MHD_destroy_response(response);
  return result;
}

MHD_Result Handle(void* cls, MHD_Connection* connection, const char* url,
                  const char* method, const char* /*version*/,
                  const char* /*upload_data*/, size_t* upload_data_size,
                  void** /*state*/) {
  // A request with a body is not one of ours: answer before reading it.
  if (*upload_data_size != 0 ||
      (std::strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
       std::strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)) {
    return Respond(connection, MHD_HTTP_METHOD_NOT_ALLOWED,
                   "only GET /metrics is served here\n", "text/plain");
  }
  if (std::strcmp(url, "/metrics") != 0) {
    return Respond(connection, MHD_HTTP_NOT_FOUND,
                   "not found: the metrics are at /metrics\n", "text/plain");
  }
  const auto& render = *static_cast<std::function<std::string()>*>(cls);
  return Respond(connection, MHD_HTTP_OK, render(),
                 "text/plain; version=0.0.4; charset=utf-8");
}

// HOST:PORT -> a socket address; ":PORT" is loopback.
absl::StatusOr<sockaddr_storage> ParseAddress(const std::string& address,
                                              socklen_t* length) {
  const size_t colon = address.rfind(':');
  int port = -1;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics-listen \"", address,
                     "\" is not HOST:PORT, [IPV6]:PORT or :PORT (loopback)"));
  }
  std::string host = address.substr(0, colon);
  if (host.empty()) host = "127.0.0.1";
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  sockaddr_storage storage{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    *length = sizeof *v4;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    *length = sizeof *v6;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("--metrics-listen \"",
                                                   address, "\": \"", host,
                                                   "\" is not an IP address"));
  }
  return storage;
}

}  // namespace

absl::Status CheckMetricsAddress(const std::string& address) {
  socklen_t length = 0;
  return ParseAddress(address, &length).status();
}

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& address, std::function<std::string()> render) {
  socklen_t length = 0;
  absl::StatusOr<sockaddr_storage> parsed = ParseAddress(address, &length);
  if (!parsed.ok()) return parsed.status();
  const int fd = socket(parsed->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus(errno, "metrics socket");
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, reinterpret_cast<sockaddr*>(&*parsed), length) != 0 ||
      listen(fd, 64) != 0) {
    const int error = errno;
    close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot listen on --metrics-listen ", address, ": ",
                     std::strerror(error)));
  }
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length);
  char host[INET6_ADDRSTRLEN] = "";
  int port = 0;
  if (bound.ss_family == AF_INET) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&bound);
    inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
    port = ntohs(v4->sin_port);
  } else {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&bound);
    inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
    port = ntohs(v6->sin6_port);
  }

  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer);
  server->render_ = std::move(render);
  server->address_ = bound.ss_family == AF_INET6
                         ? absl::StrCat("[", host, "]:", port)
                         : absl::StrCat(host, ":", port);
  server->daemon_ = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, nullptr, nullptr,
      &Handle, &server->render_, MHD_OPTION_LISTEN_SOCKET, fd,
      MHD_OPTION_CONNECTION_LIMIT, kMaxConnections,
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, kMaxConnectionsPerClient,
      MHD_OPTION_CONNECTION_TIMEOUT, kIdleSeconds,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, kConnectionMemory, MHD_OPTION_END);
  if (server->daemon_ == nullptr) {
    close(fd);
    return absl::InternalError(
        absl::StrCat("cannot serve --metrics-listen ", address));
  }
  return server;
}

MetricsHttpServer::~MetricsHttpServer() {
  if (daemon_ != nullptr) MHD_stop_daemon(daemon_);
}

}  // namespace rexec::ops
