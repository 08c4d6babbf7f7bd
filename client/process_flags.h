// ProcessFlags are the flags of every command that starts a process (spawn,
// exec, fork): environment, working directory, stop policy, credentials and
// resource limits, and the ProcessOptions they make. Used on main's thread
// only.
#ifndef REXEC_CLIENT_PROCESS_FLAGS_H_
#define REXEC_CLIENT_PROCESS_FLAGS_H_

#include <string>
#include <vector>

#include "rexec/v1/child_process.pb.h"

namespace CLI {
class App;
}  // namespace CLI

namespace rexec::client {

class ProcessFlags {
 public:
  void AddTo(CLI::App* command);

  // Throws CLI::ValidationError naming the flag on bad input.
  v1::ProcessOptions ToProto() const;

 private:
  std::vector<std::string> env_;
  bool clear_env_ = false;
  std::string cwd_, timeout_, kill_signal_, kill_grace_, user_, group_;
  std::vector<std::string> groups_, limits_;
};

}  // namespace rexec::client

#endif  // REXEC_CLIENT_PROCESS_FLAGS_H_
