#include "server/rpc/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/address.h"
#include "common/errno_status.h"
#include "common/status_macros.h"
#include "server/process/child_registry.h"
#include "server/rpc/exec_call.h"
#include "server/rpc/fork_call.h"
#include "server/rpc/spawn_call.h"
#include "server/rpc/tag.h"

namespace rexec::rpc {
namespace {

void RunWorker(grpc::ServerCompletionQueue* cq) {
  void* tag;
  bool ok;
  while (cq->Next(&tag, &ok)) static_cast<Tag*>(tag)->Run(ok);
}

// "unix:/run/x.sock", "unix:///run/x.sock" or "unix:x.sock" -> the path.
std::string UnixPath(absl::string_view address) {
  absl::ConsumePrefix(&address, "unix:");
  if (absl::StartsWith(address, "//")) address.remove_prefix(2);
  return std::string(address);
}

int Milliseconds(absl::Duration d) {
  return static_cast<int>(
      std::min<int64_t>(absl::ToInt64Milliseconds(d), INT_MAX));
}

void ApplyLimits(const ConnectionLimits& limits, grpc::ServerBuilder* builder) {
  builder->AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                              Milliseconds(limits.handshake_timeout));
  builder->AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                              Milliseconds(limits.max_connection_idle));
  if (limits.max_connection_age > absl::ZeroDuration()) {
    builder->AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                                Milliseconds(limits.max_connection_age));
    // Running calls are never cut: a process may run for days.
    builder->AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, INT_MAX);
  }
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                              Milliseconds(limits.keepalive_time));
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                              Milliseconds(limits.keepalive_timeout));
  builder->AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                              limits.max_streams_per_connection);
  grpc::ResourceQuota quota("rexecd");
  quota.Resize(static_cast<size_t>(limits.max_memory));
  builder->SetResourceQuota(quota);
}

// gRPC makes the socket file; it is created under a umask that leaves it
// 0600 (no moment where others could connect), then given its mode and
// group.
absl::Status ShareUnixSocket(const std::string& address,
                             const ServerSecurity& security) {
  const std::string path = UnixPath(address);
  if (chmod(path.c_str(), security.socket_mode) != 0) {
    return ErrnoStatus(errno, absl::StrCat("chmod ", path));
  }
  if (security.socket_group.has_value() &&
      chown(path.c_str(), -1, *security.socket_group) != 0) {
    return ErrnoStatus(errno, absl::StrCat("chown ", path));
  }
  return absl::OkStatus();
}

// "127.0.0.1:0" with port 4242 -> "127.0.0.1:4242".
std::string WithPort(const std::string& address, int port) {
  if (IsUnixAddress(address)) return address;
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return address;
  return absl::StrCat(address.substr(0, colon + 1), port);
}

}  // namespace

absl::StatusOr<std::unique_ptr<RexecServer>> RexecServer::Start(
    ServerConfig config, ServerSecurity security, ConnectionLimits limits) {
  if (config.workers <= 0) {
    config.workers = std::max(1u, std::thread::hardware_concurrency());
  }
  if (config.listen.empty()) {
    return absl::InvalidArgumentError("no address to listen on (--listen)");
  }
  process::StartOrphanReaper();

  std::unique_ptr<RexecServer> server(new RexecServer);
  REXEC_ASSIGN_OR_RETURN(server->poller_, process::Poller::Create());
  server->state_ = std::make_unique<ServerState>(
      config, server->poller_.get(), security.authenticator, security.policy);
  if (security.network_credentials == nullptr) {
    security.network_credentials = grpc::InsecureServerCredentials();
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // Two servers on one port would split the calls between them silently.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  std::vector<int> ports(config.listen.size());
  for (size_t i = 0; i < config.listen.size(); ++i) {
    builder.AddListeningPort(config.listen[i],
                             IsUnixAddress(config.listen[i])
                                 ? grpc::InsecureServerCredentials()
                                 : security.network_credentials,
                             &ports[i]);
  }
  ApplyLimits(limits, &builder);
  // An Exec result carries up to max_buffer of stdout and of stderr in one
  // message, plus the exit status.
  const uint64_t max_send = 2 * config.max_exec_buffer + (1 << 20);
  builder.SetMaxSendMessageSize(
      static_cast<int>(std::min<uint64_t>(max_send, INT_MAX)));
  builder.RegisterService(&server->service_);
  for (int i = 0; i < config.workers; ++i) {
    server->cqs_.push_back(builder.AddCompletionQueue());
  }
  const mode_t old_umask = umask(0177);
  server->server_ = builder.BuildAndStart();
  umask(old_umask);
  if (server->server_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot listen on ", absl::StrJoin(config.listen, ", "),
                     ": an address is in use, not local, or malformed"));
  }
  for (auto& cq : server->cqs_)
    server->workers_.emplace_back(RunWorker, cq.get());
  for (size_t i = 0; i < config.listen.size(); ++i) {
    if (ports[i] == 0) {
      server->Shutdown();
      return absl::FailedPreconditionError(
          absl::StrCat("cannot listen on ", config.listen[i],
                       ": the address is in use, not local, or malformed"));
    }
    server->addresses_.push_back(WithPort(config.listen[i], ports[i]));
    // A socket file; an abstract socket has no file to share.
    if (absl::StartsWith(config.listen[i], "unix:")) {
      if (absl::Status shared = ShareUnixSocket(config.listen[i], security);
          !shared.ok()) {
        server->Shutdown();
        return shared;
      }
    }
  }

  auto* state = server->state_.get();
  auto* service = &server->service_;
  for (auto& cq : server->cqs_) {
    SpawnCall::Listen(state, service, cq.get());
    ExecCall::Listen(state, service, cq.get());
    ForkCall::Listen(state, service, cq.get());
  }
  return server;
}

int RexecServer::KillAll() {
  return process::ChildRegistry::Global().KillAllGroups();
}

void RexecServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  state_->BeginShutdown();
  // A deadline of now cancels every running call at once; each call then
  // stops its child with the child's own kill policy.
  server_->Shutdown(gpr_now(GPR_CLOCK_MONOTONIC));
  state_->WaitForNoCalls();
  for (auto& cq : cqs_) cq->Shutdown();
  for (std::thread& worker : workers_) worker.join();
}

RexecServer::~RexecServer() {
  if (server_ != nullptr) Shutdown();
}

}  // namespace rexec::rpc
