// ServerState is what every call of one server shares: its configuration,
// the poller that watches child fds, who may call (the authenticator and
// the policy in force), the counts that enforce the server's limits (live
// children, overall and per identity; memory held by Exec buffers) and the
// count of live calls (so shutdown can wait for all children to be stopped
// before the completion queues go away), the server's phase (serving,
// draining, stopping) with the drain's deadline, the supervisors a drain must
// reach, and the server's metrics. Thread-safe.
#ifndef REXEC_SERVER_RPC_SERVER_STATE_H_
#define REXEC_SERVER_RPC_SERVER_STATE_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/auth/authenticator.h"
#include "server/auth/policy_store.h"
#include "server/process/cgroup.h"
#include "server/process/poller.h"
#include "server/rpc/launch_plan.h"
#include "server/rpc/process_table.h"
#include "server/rpc/server_metrics.h"

namespace rexec::rpc {

class Supervisor;

struct ServerConfig {
  std::vector<std::string> listen = {"unix:/run/rexec/rexecd.sock"};
  // Connections come from RexecServer::AddConnection (--front), and
  // `listen` may be empty; the same for the health service's.
  bool connections_handed_over = false;
  bool health_handed_over = false;
  // A plaintext address that serves the health service alone (for the
  // kubelet's gRPC probes, which present no client certificate); "": none.
  std::string health_listen;
  int workers = 0;  // 0: one per core
  int max_processes = 1024;
  absl::Duration drain_timeout = absl::Seconds(2);
  // The largest max_buffer an Exec call may ask for (per stream).
  uint64_t max_exec_buffer = 16 << 20;
  // What all running Exec calls may hold together; each reserves
  // 2 x max_buffer when it starts.
  uint64_t max_exec_memory = uint64_t{1} << 30;
  // The largest kill_grace a call may ask for; it also bounds the default.
  absl::Duration max_kill_grace = absl::Seconds(60);
  // How long a call may take to send its start message.
  absl::Duration start_timeout = absl::Seconds(10);
  // The runtime Fork runs when the call names none (looked up in PATH).
  std::string node = "node";
  // Where each child gets a cgroup of its own (--cgroup-root); null: none.
  process::CgroupRoot* cgroup_root = nullptr;
  // Detached processes: their rings, how long ended ones stay, how many.
  SessionLimits sessions;
};

class ServerState {
 public:
  // `authenticator` and `policy` may be null: every call is anonymous, and
  // may run anything.
  ServerState(ServerConfig config, process::Poller* poller,
              const auth::Authenticator* authenticator,
              const auth::PolicyStore* policy)
      : config_(std::move(config)),
        poller_(poller),
        authenticator_(authenticator),
        policy_(policy),
        sessions_(config_.sessions) {}

  const ServerConfig& config() const { return config_; }
  process::Poller& poller() { return *poller_; }
  const auth::Authenticator* authenticator() const { return authenticator_; }
  // What PlanLaunch needs to judge a call of `identity` under `policy`.
  LaunchContext LaunchContextFor(const std::string& identity,
                                 const auth::Policy* policy,
                                 auth::Rpc rpc = auth::Rpc::kSpawn) const {
    LaunchContext context;
    context.rpc = rpc;
    context.identity = identity;
    context.policy = policy;
    context.max_kill_grace = config_.max_kill_grace;
    context.cgroup_root = config_.cgroup_root;
    return context;
  }
  // The policy in force, or null.
  std::shared_ptr<const auth::Policy> policy() const {
    return policy_ == nullptr ? nullptr : policy_->Current();
  }

  // Reserves a slot for a child of `identity`, which may run at most
  // `identity_cap` at once (0: no cap of its own; `rule` names where the
  // cap comes from). RESOURCE_EXHAUSTED naming the limit otherwise.
  absl::Status TryAddChild(absl::string_view program,
                           absl::string_view identity, uint32_t identity_cap,
                           absl::string_view rule);
  void RemoveChild(absl::string_view identity);

  // Exec output buffers, in bytes; false past --max-exec-memory.
  bool TryReserveExecMemory(uint64_t bytes);
  void ReleaseExecMemory(uint64_t bytes);

  // Serving, then (on the first SIGTERM) draining: no new call is taken,
  // running ones go on until the drain's deadline. Then stopping: gRPC
  // cancels what is left, and a cancelled call was cancelled by the
  // shutdown. Phases only move forward.
  enum class Phase { kServing, kDraining, kStopping };
  Phase phase() const { return phase_.load(std::memory_order_acquire); }
  // Draining until `deadline`: every registered supervisor is told (see
  // Supervisor::OnDrainBegun).
  void BeginDrain(absl::Time deadline);
  // Also ends a drain's wait (a second SIGTERM).
  void BeginStop();
  // The drain's deadline; absl::InfiniteFuture() before a drain.
  absl::Time drain_deadline() const;
  // A running child's supervisor, until its exit is reported: a drain reaches
  // it. Registering during a drain tells the supervisor at once.
  void AddSupervisor(Supervisor* supervisor);
  void RemoveSupervisor(Supervisor* supervisor);

  // Call objects, and the calls among them that a client made.
  void AddCall();
  void RemoveCall();
  void CallStarted();
  void CallEnded();
  // Blocks until every call object has gone away.
  void WaitForNoCalls();
  // Blocks until no call a client made is left, or `deadline` passed, or
  // the stop began; false unless none is left.
  bool WaitForNoStartedCalls(absl::Time deadline);
  // Blocks until no call a client made is left, or `deadline` passed: the
  // stop does not end this wait, it is what the stop waits for.
  void WaitForLastCalls(absl::Time deadline);

  int running_children();
  ServerMetrics& metrics() { return metrics_; }
  // The sessions (processes started detached).
  ProcessTable& sessions() { return sessions_; }

 private:
  const ServerConfig config_;
  process::Poller* const poller_;
  const auth::Authenticator* const authenticator_;
  const auth::PolicyStore* const policy_;
  std::atomic<Phase> phase_{Phase::kServing};
  ServerMetrics metrics_;
  ProcessTable sessions_;

  mutable absl::Mutex mu_;
  int children_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, uint32_t> children_of_ ABSL_GUARDED_BY(mu_);
  uint64_t exec_memory_ ABSL_GUARDED_BY(mu_) = 0;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  int started_calls_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time drain_deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  absl::flat_hash_set<Supervisor*> supervisors_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_SERVER_STATE_H_
