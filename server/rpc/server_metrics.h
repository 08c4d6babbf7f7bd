// ServerMetrics is what one rexecd reports to Prometheus (--metrics-listen):
// calls started and ended by RPC and status code, refusals by kind,
// children running, spawn latency, exits by reason, bytes of each stream
// and IPC messages each way, and the build. Recorded from completion-queue
// threads without locks (see ops::Counter). Thread-safe.
#ifndef REXEC_SERVER_RPC_SERVER_METRICS_H_
#define REXEC_SERVER_RPC_SERVER_METRICS_H_

#include <string>

#include "absl/time/time.h"
#include "grpcpp/support/status.h"
#include "rexec/v1/child_process.pb.h"
#include "server/auth/policy.h"
#include "server/ops/metrics.h"
#include "server/rpc/grpc_memory.h"
#include "server/table/memory_budget.h"
#include "server/table/process_table.h"
#include "server/table/process_events.h"

namespace rexec::rpc {

class ServerMetrics {
 public:
  // The streams whose bytes are counted: as the table reports them.
  using Bytes = table::ProcessEvents::Bytes;
  enum class Direction { kToChild, kFromChild };

  ServerMetrics();

  void CallStarted(auth::Rpc rpc) { calls_started_.Add({Index(rpc)}); }
  // A call that ended with an error before its child started was refused:
  // it also counts under rexec_refusals_total by its code.
  void CallEnded(auth::Rpc rpc, grpc::StatusCode code, bool child_started);
  void ChildSpawned(absl::Duration latency) { spawn_latency_.Observe(latency); }
  void ChildExited(v1::TerminationReason reason);
  void Transferred(Bytes stream, uint64_t n) {
    bytes_.Add({static_cast<size_t>(stream)}, n);
  }
  void Message(Direction direction) {
    messages_.Add({static_cast<size_t>(direction)});
  }

  // The Prometheus text: what the table, the budget and gRPC's memory hold
  // now, and the process metrics of rexecd itself.
  std::string Render(table::ProcessTable& table,
                     const table::MemoryBudget& budget,
                     const GrpcMemory& grpc_memory) const;

 private:
  static size_t Index(auth::Rpc rpc) { return static_cast<size_t>(rpc); }

  ops::Counter calls_started_;
  ops::Counter calls_ended_;
  ops::Counter refusals_;
  ops::Histogram spawn_latency_;
  ops::Counter exits_;
  ops::Counter bytes_;
  ops::Counter messages_;
};

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_SERVER_METRICS_H_
