#include "server/rpc/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <climits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/process/child_registry.h"
#include "server/process/status_macros.h"
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

// "127.0.0.1:0" with port 4242 -> "127.0.0.1:4242".
std::string WithPort(const std::string& address, int port) {
  if (absl::StartsWith(address, "unix:")) return address;
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return address;
  return absl::StrCat(address.substr(0, colon + 1), port);
}

}  // namespace

absl::StatusOr<std::unique_ptr<RexecServer>> RexecServer::Start(
    ServerConfig config) {
  if (config.workers <= 0) {
    config.workers = std::max(1u, std::thread::hardware_concurrency());
  }
  if (config.listen.empty()) {
    return absl::InvalidArgumentError("no address to listen on (--listen)");
  }
  process::StartOrphanReaper();

  std::unique_ptr<RexecServer> server(new RexecServer);
  ASSIGN_OR_RETURN(server->poller_, process::Poller::Create());
  server->state_ = std::make_unique<ServerState>(config, server->poller_.get());

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // Two servers on one port would split the calls between them silently.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  std::vector<int> ports(config.listen.size());
  for (size_t i = 0; i < config.listen.size(); ++i) {
    builder.AddListeningPort(config.listen[i],
                             grpc::InsecureServerCredentials(), &ports[i]);
  }
  // An Exec result carries up to max_buffer of stdout and of stderr in one
  // message, plus the exit status.
  const uint64_t max_send = 2 * config.max_exec_buffer + (1 << 20);
  builder.SetMaxSendMessageSize(
      static_cast<int>(std::min<uint64_t>(max_send, INT_MAX)));
  builder.RegisterService(&server->service_);
  for (int i = 0; i < config.workers; ++i) {
    server->cqs_.push_back(builder.AddCompletionQueue());
  }
  server->server_ = builder.BuildAndStart();
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

void RexecServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
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
