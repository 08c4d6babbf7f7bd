// TableEvents is how this server hears the table (table::ProcessEvents):
// counted in its Prometheus metrics and written to its log (spawns and
// exits at debug level: the audit log has one line per call). Thread-safe,
// as ServerMetrics and spdlog are.
#ifndef REXEC_SERVER_RPC_TABLE_EVENTS_H_
#define REXEC_SERVER_RPC_TABLE_EVENTS_H_

#include "server/rpc/server_metrics.h"
#include "server/table/process_events.h"

namespace rexec::rpc {

class TableEvents final : public table::ProcessEvents {
 public:
  explicit TableEvents(ServerMetrics* metrics) : metrics_(metrics) {}

  void ChildSpawned(pid_t pid, const std::vector<std::string>& argv,
                    absl::Duration latency) override;
  void ChildExited(pid_t pid, const table::ExitReport& exit) override;
  void Transferred(Bytes stream, uint64_t n) override;
  void Trouble(pid_t pid, absl::string_view what) override;

 private:
  ServerMetrics* const metrics_;
};

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_TABLE_EVENTS_H_
