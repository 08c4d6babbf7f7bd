#include "server/rpc/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>
#include <grpcpp/server_posix.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/address.h"
#include "common/errno_status.h"
#include "common/status_macros.h"
#include "server/ops/audit_log.h"
#include "server/ops/logging.h"
#include "server/process/child_registry.h"
#include "server/rpc/attach_call.h"
#include "server/rpc/exec_call.h"
#include "server/rpc/fork_call.h"
#include "server/rpc/spawn_call.h"
#include "server/rpc/table_messages.h"
#include "server/rpc/tag.h"
#include "server/rpc/unary_call.h"

namespace rexec::rpc {
namespace {

void RunWorker(grpc::ServerCompletionQueue* cq) {
  void* tag;
  bool ok;
  while (cq->Next(&tag, &ok)) static_cast<Tag*>(tag)->Run(ok);
}

int Milliseconds(absl::Duration d) {
  return static_cast<int>(
      std::min<int64_t>(absl::ToInt64Milliseconds(d), INT_MAX));
}

void ApplyLimits(const ConnectionLimits& limits,
                 const grpc::ResourceQuota& quota,
                 grpc::ServerBuilder* builder) {
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
  builder->AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
      Milliseconds(limits.keepalive_min_time));
  builder->AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                              limits.max_streams_per_connection);
  builder->SetResourceQuota(quota);
}

// gRPC makes the socket file; it is created under a umask that leaves it
// 0600 (no moment where others could connect), then given its mode and
// group.
absl::Status ShareUnixSocket(const std::string& address,
                             const ServerSecurity& security) {
  const std::string path = UnixSocketPath(address);
  if (chmod(path.c_str(), security.socket_mode) != 0) {
    return ErrnoStatus(errno, absl::StrCat("chmod ", path));
  }
  if (security.socket_group.has_value() &&
      chown(path.c_str(), -1, *security.socket_group) != 0) {
    return ErrnoStatus(errno, absl::StrCat("chown ", path));
  }
  return absl::OkStatus();
}

// Takes away the plugins every builder gets from gRPC's global list (the
// reflection service's, which registers itself when its library loads).
class WithoutPlugins final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>*
                         plugins) override {
    plugins->clear();
  }
};

// The health service alone, in plaintext: what the kubelet's gRPC probe
// speaks. No reflection: the probe port tells nothing but health. gRPC
// wants a polled completion queue even though nothing of ours is on it
// (the health service runs on gRPC's own callback threads): `*cq`.
std::unique_ptr<grpc::Server> StartHealthServer(
    const std::string& address, const ConnectionLimits& limits, int* port,
    std::unique_ptr<grpc::ServerCompletionQueue>* cq) {
  grpc::ServerBuilder builder;
  builder.SetOption(std::make_unique<WithoutPlugins>());
  *cq = builder.AddCompletionQueue();
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  if (!address.empty()) {
    builder.AddListeningPort(address, grpc::InsecureServerCredentials(), port);
  }
  // A probe is one short call: little of anything.
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, 4);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, 60'000);
  // Silent connections go as on the API port.
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                             Milliseconds(limits.handshake_timeout));
  builder.SetMaxReceiveMessageSize(4 << 10);
  grpc::ResourceQuota quota("rexecd-health");
  quota.Resize(4 << 20);
  builder.SetResourceQuota(quota);
  return builder.BuildAndStart();
}

// "cannot listen on ADDR: Address already in use", from what gRPC logged.
absl::Status ListenError(const std::string& address,
                         const ops::GrpcLogCapture& log) {
  std::string why = log.OsError();
  if (why.empty()) why = "the address is in use, not local, or malformed";
  return absl::FailedPreconditionError(
      absl::StrCat("cannot listen on ", address, ": ", why));
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
  if (config.listen.empty() && config.activated.empty() &&
      !config.connections_handed_over) {
    return absl::InvalidArgumentError("no address to listen on (--listen)");
  }
  std::unique_ptr<RexecServer> server(new RexecServer);
  REXEC_ASSIGN_OR_RETURN(server->poller_, process::Poller::Create());
  REXEC_ASSIGN_OR_RETURN(server->reaper_,
                         process::OrphanReaper::Start(server->poller_.get()));
  server->state_ = std::make_unique<ServerState>(
      config, server->poller_.get(), security.authenticator, security.policy);
  // gRPC's buffers are part of the budget: what is left is the calls'.
  const uint64_t budget = config.memory_budget;
  const uint64_t grpc_memory =
      limits.max_memory == 0 ? budget / 4 : limits.max_memory;
  if (grpc_memory > budget / 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--max-grpc-memory ", table::SizeText(grpc_memory),
        " is over half of --memory-budget ", table::SizeText(budget),
        ": gRPC's buffers are part of the budget, and the calls need the "
        "rest; give a larger budget or a smaller --max-grpc-memory"));
  }
  REXEC_RETURN_IF_ERROR(server->state_->grpc_memory().Start(grpc_memory));
  if (security.network_credentials == nullptr) {
    security.network_credentials = grpc::InsecureServerCredentials();
  }

  grpc::EnableDefaultHealthCheckService(true);
  // gRPC logs a nested internal error for an address it cannot bind; the
  // status below says it in one line.
  ops::GrpcLogCapture log;
  if (!config.health_listen.empty() || config.health_handed_over) {
    int port = 0;
    server->health_server_ = StartHealthServer(config.health_listen, limits,
                                               &port, &server->health_cq_);
    if (server->health_server_ == nullptr ||
        (port == 0 && !config.health_handed_over)) {
      return ListenError(absl::StrCat("--health-listen ", config.health_listen),
                         log);
    }
    if (!config.health_handed_over) {
      server->health_address_ = WithPort(config.health_listen, port);
    }
    server->workers_.emplace_back(RunWorker, server->health_cq_.get());
  }
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
  for (const ops::ActivatedSocket& socket : config.activated) {
    server->activated_.push_back(
        std::make_unique<ActivatedListener>(socket.fd, builder));
  }
  ApplyLimits(limits, server->state_->grpc_memory().quota(), &builder);
  // An Exec result carries up to max_buffer of stdout and of stderr in one
  // message, plus the exit status.
  const uint64_t max_send = 2 * config.max_exec_buffer + (1 << 20);
  builder.SetMaxSendMessageSize(
      static_cast<int>(std::min<uint64_t>(max_send, INT_MAX)));
  builder.RegisterService(&server->service_);
  for (int i = 0; i < config.workers; ++i) {
    server->cqs_.push_back(builder.AddCompletionQueue());
    server->executors_.push_back(
        std::make_unique<CqExecutor>(server->cqs_.back().get()));
  }
  const mode_t old_umask = umask(0177);
  server->server_ = builder.BuildAndStart();
  umask(old_umask);
  if (server->server_ == nullptr) {
    return ListenError(absl::StrJoin(config.listen, ", "), log);
  }
  for (auto& cq : server->cqs_)
    server->workers_.emplace_back(RunWorker, cq.get());
  for (size_t i = 0; i < config.activated.size(); ++i) {
    server->activated_[i]->Start();
    server->addresses_.push_back(config.activated[i].address);
  }
  for (size_t i = 0; i < config.listen.size(); ++i) {
    if (ports[i] == 0) {
      server->Shutdown();
      return ListenError(config.listen[i], log);
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

  server->UpdateServing();
  auto* state = server->state_.get();
  auto* service = &server->service_;
  for (size_t i = 0; i < server->cqs_.size(); ++i) {
    grpc::ServerCompletionQueue* cq = server->cqs_[i].get();
    CqExecutor* executor = server->executors_[i].get();
    SpawnCall::Listen(state, service, cq, executor);
    ExecCall::Listen(state, service, cq, executor);
    ForkCall::Listen(state, service, cq, executor);
    AttachCall::Listen(state, service, cq, executor);
    UnaryCall::ListenAll(state, service, cq);
  }
  return server;
}

int RexecServer::ReviewSessions(bool stop) {
  const std::shared_ptr<const auth::Policy> policy = state_->policy();
  if (policy == nullptr) return 0;
  int revoked = 0;
  for (const table::Session& session : state_->table().Running()) {
    const plan::LaunchRequest* launch = LaunchOf(session);
    if (launch == nullptr) continue;
    const absl::Status allowed = plan::CheckStillAllowed(
        state_->LaunchContextFor(session.identity, policy.get()), *launch);
    if (allowed.ok()) continue;
    ++revoked;
    ops::AuditRecord record;
    record.identity = session.identity;
    record.rpc = std::string(auth::RpcName(launch->rpc));
    record.argv = session.argv;
    record.session = session.id;
    record.pid = session.pid;
    record.reason = "POLICY_REVOKED";
    record.status = "PERMISSION_DENIED";
    record.message = absl::StrCat(
        stop ? "stopped"
             : "kept running (--on-policy-revoke keep), and "
               "refused to attachments",
        ": the reloaded policy would not start it: ", allowed.message());
    ops::WriteAuditRecord(record);
    if (stop) {
      table::SessionMail mail;
      mail.kind = table::SessionMail::Kind::kStop;
      mail.reason = table::TerminationReason::kPolicyRevoked;
      session.control->Post(std::move(mail)).IgnoreError();
    } else {
      // Attachments made before the reload end too.
      session.log->Revoke(absl::PermissionDeniedError(absl::StrCat(
          "session ", session.id,
          " was started under a rule that would not start it now: ",
          allowed.message())));
    }
  }
  return revoked;
}

void RexecServer::AddConnection(int fd, bool health) {
  grpc::Server* to = health ? health_server_.get() : server_.get();
  if (to == nullptr) {
    close(fd);
    return;
  }
  grpc::AddInsecureChannelFromFd(to, fd);
}

void RexecServer::SetServing(bool serving) {
  for (grpc::Server* s : {server_.get(), health_server_.get()}) {
    if (s == nullptr) continue;
    grpc::HealthCheckServiceInterface* health = s->GetHealthCheckService();
    health->SetServingStatus("", serving);
    health->SetServingStatus(v1::ChildProcess::service_full_name(), serving);
  }
}

int RexecServer::KillAll() {
  return process::ChildRegistry::Global().KillAllGroups();
}

std::string RexecServer::RenderMetrics() {
  return state_->metrics().Render(state_->table(), state_->memory_budget(),
                                  state_->grpc_memory());
}

void RexecServer::BeginDrain(absl::Time deadline) {
  absl::MutexLock lock(&serving_mu_);
  SetServing(false);
  state_->BeginDrain(deadline);
}

void RexecServer::UpdateServing() {
  absl::MutexLock lock(&serving_mu_);
  SetServing(state_->phase() == ServerState::Phase::kServing &&
             state_->AuditRefusal().ok());
}

int RexecServer::Drain(absl::Duration grace) {
  BeginDrain(absl::Now() + grace);
  // A drain begun already keeps its deadline.
  const absl::Time deadline = state_->table().drain_deadline();
  int left = 0;
  // The calls, then the sessions whose calls went (the table's now).
  const bool idle =
      state_->WaitForNoStartedCalls(deadline) &&
      state_->table().WaitForNoAdopted(deadline, /*until_stop=*/true);
  if (!idle && state_->phase() == ServerState::Phase::kDraining) {
    // The deadline passed (StopNow() did this itself): whatever is left
    // goes now, and is reported as stopped by the shutdown.
    state_->BeginStop();
    left = KillAll();
  }
  // Calls that came as the last ones ended are being refused, and the
  // last exits are on their way: they go out (gRPC would cancel them, and
  // a cancelled call does not say it never ran). Streams after this meet
  // the GOAWAY and come back UNAVAILABLE.
  constexpr absl::Duration kExitsInFlight = absl::Seconds(2);
  Shutdown(kExitsInFlight);
  return left;
}

int RexecServer::StopNow() {
  state_->BeginStop();
  return KillAll();
}

void RexecServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  if (server_ == nullptr) {  // Start() failed on the main port
    if (health_server_ != nullptr) {
      health_server_->Shutdown(gpr_now(GPR_CLOCK_MONOTONIC));
      health_cq_->Shutdown();
    }
    for (std::thread& worker : workers_) worker.join();
    return;
  }
  {
    absl::MutexLock lock(&serving_mu_);
    SetServing(false);
  }
  // Until the deadline calls end on their own; then gRPC cancels the rest
  // at once, and each call stops its child with the child's own kill
  // policy (reason SERVER_SHUTDOWN: a cancel from here on is ours).
  state_->BeginStop();
  // Sessions do not survive rexecd: those left (a shutdown without a
  // drain) are stopped with their own policy, as cancelled calls are.
  state_->table().StopAll(table::TerminationReason::kServerShutdown);
  // gRPC's own grace would also wait for every client to close its
  // connection, which an idle client does not do on the GOAWAY: ours ends
  // with the last call. A call ends (OnDone) once gRPC has written its
  // status out, so what is cancelled after this is only a call that came
  // in the last moment, to be refused.
  const absl::Time deadline = absl::Now() + grace;
  state_->WaitForLastCalls(deadline);
  state_->table().WaitForNoAdopted(deadline, /*until_stop=*/false);
  // What connects from now on waits in the socket for the next rexecd.
  for (auto& listener : activated_) listener->Stop();
  constexpr absl::Duration kLastRefusals = absl::Milliseconds(100);
  server_->Shutdown(absl::ToChronoTime(absl::Now() + kLastRefusals));
  state_->WaitForNoCalls();
  // Sessions stop with their own kill_grace; their supervisors live on
  // the queues, which must outlive them.
  state_->table().WaitForNoAdopted(absl::InfiniteFuture(),
                                   /*until_stop=*/false);
  if (health_server_ != nullptr) {
    health_server_->Shutdown(gpr_now(GPR_CLOCK_MONOTONIC));
    health_cq_->Shutdown();
  }
  for (auto& cq : cqs_) cq->Shutdown();
  for (std::thread& worker : workers_) worker.join();
}

RexecServer::~RexecServer() { Shutdown(); }

}  // namespace rexec::rpc
