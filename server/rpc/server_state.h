// ServerState is what every call of one server shares: its configuration, the
// poller that watches child fds, the count of live children (for
// --max-processes) and the count of live calls (so shutdown can wait for all
// children to be stopped before the completion queues go away). Thread-safe.
#ifndef REXEC_SERVER_RPC_SERVER_STATE_H_
#define REXEC_SERVER_RPC_SERVER_STATE_H_

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "server/process/poller.h"

namespace rexec::rpc {

struct ServerConfig {
  std::vector<std::string> listen = {"127.0.0.1:50051"};
  int workers = 0;  // 0: one per core
  int max_processes = 1024;
  absl::Duration drain_timeout = absl::Seconds(2);
  // The largest max_buffer an Exec call may ask for (per stream).
  uint64_t max_exec_buffer = 16 << 20;
  // The runtime Fork runs when the call names none (looked up in PATH).
  std::string node = "node";
};

class ServerState {
 public:
  ServerState(ServerConfig config, process::Poller* poller)
      : config_(std::move(config)), poller_(poller) {}

  const ServerConfig& config() const { return config_; }
  process::Poller& poller() { return *poller_; }

  // Reserves a slot for a child; false when --max-processes are running.
  bool TryAddChild();
  void RemoveChild();

  void AddCall();
  void RemoveCall();
  // Blocks until every call object has gone away.
  void WaitForNoCalls();

 private:
  const ServerConfig config_;
  process::Poller* const poller_;
  std::atomic<int> children_{0};
  std::mutex mu_;
  std::condition_variable no_calls_;
  int calls_ = 0;
};

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_SERVER_STATE_H_
