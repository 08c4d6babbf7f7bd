// ExitStatus is how a child ended, shaped like folly's ProcessReturnCode:
// exited with a code, or killed by a signal (perhaps dumping core), plus the
// resources it used. A plain value type.
#ifndef REXEC_SERVER_PROCESS_EXIT_STATUS_H_
#define REXEC_SERVER_PROCESS_EXIT_STATUS_H_

#include <signal.h>

#include <cstdint>
#include <string>

#include "server/process/resource_usage.h"

namespace rexec::process {

class ExitStatus {
 public:
  static ExitStatus Exited(int code) { return ExitStatus(code, 0, false); }
  static ExitStatus Killed(int signal_number, bool core_dumped) {
    return ExitStatus(0, signal_number, core_dumped);
  }
  // From waitid()'s si_code and si_status.
  static ExitStatus FromSiginfo(const siginfo_t& info);

  bool exited() const { return signal_ == 0; }
  bool killed() const { return signal_ != 0; }
  int code() const { return code_; }
  int signal_number() const { return signal_; }
  bool core_dumped() const { return core_dumped_; }

  ResourceUsage usage;
  // Killed by the OOM killer at its cgroup's memory limit.
  bool oom_killed = false;

  // "exited with code 3" / "killed by SIGSEGV (core dumped)".
  std::string ToString() const;

 private:
  ExitStatus(int code, int signal_number, bool core_dumped)
      : code_(code), signal_(signal_number), core_dumped_(core_dumped) {}

  int code_;
  int signal_;
  bool core_dumped_;
};

}  // namespace rexec::process

#endif  // REXEC_SERVER_PROCESS_EXIT_STATUS_H_
