// The steps a new child takes between clone and exec, each with a name, in
// the order they run (folly's Subprocess::prepareChild): its own process
// group, default signals, [its own /proc and a small init as PID 1], its
// fds, cwd, rlimits, the capability bounding set, groups, gid, uid,
// capabilities, no_new_privs, exec.
//
// A step that fails writes a LaunchFailure (which step, its errno) to the
// report fd and the child exits 127; an exec that succeeds closes the
// report fd (close-on-exec), so the spawner reads either a failure or EOF:
// exec errors stay synchronous, as with posix_spawn.
//
// Runs in the launcher's clone child: single-threaded, a copy of a small
// process, free to allocate.
#ifndef REXEC_SERVER_PROCESS_LAUNCH_STEPS_H_
#define REXEC_SERVER_PROCESS_LAUNCH_STEPS_H_

#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/process/launch_spec.h"

namespace rexec::process {

enum class LaunchStep : int32_t {
  kProcessGroup,
  kSignals,
  kMounts,
  kInit,
  kFds,
  kCwd,
  kLimits,
  kBoundingSet,
  kGroups,
  kGid,
  kUid,
  kCapabilities,
  kNoNewPrivs,
  kExec,
};

// "setpgid", "setuid", "exec"...: what a refusal names.
absl::string_view LaunchStepName(LaunchStep step);

struct LaunchFailure {
  int32_t step;
  int32_t error;
};

// What a child of a PID namespace's init reports on the status fd when the
// program ends: the init exits then, and its own status cannot carry a
// signal (an init cannot die of one it sends itself).
struct InitReport {
  int32_t signaled;  // 0: exited with `value`; 1: killed by signal `value`
  int32_t value;
  int32_t core_dumped;
};

// The fds the child starts with, all close-on-exec.
struct ChildFds {
  int report = -1;
  std::vector<int> passed;  // onto spec.fd_targets, in order
  int status = -1;          // for the init, with spec.containment.pid_namespace
};

[[noreturn]] void RunLaunchSteps(const LaunchSpec& spec, const ChildFds& fds);

}  // namespace rexec::process

#endif  // REXEC_SERVER_PROCESS_LAUNCH_STEPS_H_
