// ServerState is what every call of one server shares: its configuration,
// who may call (the authenticator and the policy in force), the memory
// Exec buffers hold, the count of live calls (so that a drain and a
// shutdown can wait for them before the completion queues go away), the
// server's metrics, and its process table (server/table), which holds the
// processes, admits them, and keeps the server's phase. Thread-safe.
#ifndef REXEC_SERVER_RPC_SERVER_STATE_H_
#define REXEC_SERVER_RPC_SERVER_STATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/auth/authenticator.h"
#include "server/auth/policy_store.h"
#include "server/ops/socket_activation.h"
#include "server/plan/launch_plan.h"
#include "server/process/cgroup.h"
#include "server/process/poller.h"
#include "server/rpc/grpc_memory.h"
#include "server/rpc/server_metrics.h"
#include "server/rpc/table_events.h"
#include "server/table/process_table.h"

namespace rexec::rpc {

struct ServerConfig {
  std::vector<std::string> listen = {"unix:/run/rexec/rexecd.sock"};
  // Connections come from RexecServer::AddConnection (--front), and
  // `listen` may be empty; the same for the health service's.
  bool connections_handed_over = false;
  bool health_handed_over = false;
  // Listening unix sockets from the service manager (socket activation),
  // served as `listen` is; the server owns their fds.
  std::vector<ops::ActivatedSocket> activated;
  // A plaintext address that serves the health service alone (for the
  // kubelet's gRPC probes, which present no client certificate); "": none.
  std::string health_listen;
  int workers = 0;  // 0: one per core
  int max_processes = 1024;
  // The fds children may hold together (table::TableConfig).
  uint64_t max_child_fds = 0;
  absl::Duration drain_timeout = absl::Seconds(2);
  // --audit-on-failure refuse: while the audit log takes no records, new
  // calls are refused (and health says NOT_SERVING) rather than unrecorded.
  bool refuse_without_audit = false;
  // The largest max_buffer an Exec call may ask for (per stream).
  uint64_t max_exec_buffer = 16 << 20;
  // What all running Exec calls may hold together; each reserves
  // 2 x max_buffer when it starts (from the memory budget too).
  uint64_t max_exec_memory = uint64_t{1} << 30;
  // What calls may hold in all, gRPC's quota included (--memory-budget):
  // see table/memory_budget.h.
  uint64_t memory_budget = uint64_t{1} << 30;
  // The largest kill_grace a call may ask for; it also bounds the default.
  absl::Duration max_kill_grace = absl::Seconds(60);
  // How long a call may take to send its start message.
  absl::Duration start_timeout = absl::Seconds(10);
  // The runtime Fork runs when the call names none (looked up in PATH).
  std::string node = "node";
  // Where each child gets a cgroup of its own (--cgroup-root); null: none.
  process::CgroupRoot* cgroup_root = nullptr;
  // Detached processes: their rings, how long ended ones stay, how many.
  table::SessionLimits sessions;
};

class ServerState {
 public:
  using Phase = table::ProcessTable::Phase;

  // `authenticator` and `policy` may be null: every call is anonymous, and
  // may run anything.
  ServerState(ServerConfig config, process::Poller* poller,
              const auth::Authenticator* authenticator,
              const auth::PolicyStore* policy)
      : config_(std::move(config)),
        authenticator_(authenticator),
        policy_(policy),
        table_(TableConfigOf(config_), poller, &events_) {}

  const ServerConfig& config() const { return config_; }
  const auth::Authenticator* authenticator() const { return authenticator_; }
  // What PlanLaunch needs to judge a call of `identity` under `policy`.
  plan::LaunchContext LaunchContextFor(const std::string& identity,
                                       const auth::Policy* policy,
                                       auth::Rpc rpc = auth::Rpc::kSpawn) const {
    plan::LaunchContext context;
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

  // What running Exec calls reserve for their output (--max-exec-memory).
  table::MemoryBudget& exec_memory() { return exec_memory_; }
  // What calls hold: held requests, outboxes, Exec buffers, rings.
  table::MemoryBudget& memory_budget() { return table_.memory_budget(); }
  // gRPC's part of the budget: its quota, and the windows of unread streams.
  GrpcMemory& grpc_memory() { return grpc_memory_; }

  // UNAVAILABLE while --audit-on-failure refuse and the audit log takes no
  // records; OK otherwise.
  absl::Status AuditRefusal() const;

  // The table's phase (see ProcessTable::Phase).
  Phase phase() const { return table_.phase(); }
  // Draining until `deadline`: every running process is told.
  void BeginDrain(absl::Time deadline) { table_.BeginDrain(deadline); }
  // Also ends a drain's wait (a second SIGTERM).
  void BeginStop();

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

  ServerMetrics& metrics() { return metrics_; }
  table::ProcessTable& table() { return table_; }

 private:
  static table::TableConfig TableConfigOf(const ServerConfig& config) {
    table::TableConfig table;
    table.max_processes = config.max_processes;
    table.max_child_fds = config.max_child_fds;
    table.memory_budget = config.memory_budget;
    table.drain_timeout = config.drain_timeout;
    table.sessions = config.sessions;
    return table;
  }

  const ServerConfig config_;
  const auth::Authenticator* const authenticator_;
  const auth::PolicyStore* const policy_;
  ServerMetrics metrics_;
  TableEvents events_{&metrics_};
  table::MemoryBudget exec_memory_{config_.max_exec_memory,
                                   "the Exec calls' buffer limit",
                                   "--max-exec-memory"};
  table::ProcessTable table_;
  GrpcMemory grpc_memory_{&table_.memory_budget()};

  mutable absl::Mutex mu_;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  int started_calls_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_SERVER_STATE_H_
