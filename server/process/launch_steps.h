// The steps a new child takes between clone and exec, each with a name, in
// the order they run (folly's Subprocess::prepareChild): its own process
// group (or session), default signals, [its own /proc and a small init as
// PID 1], its fds, cwd, umask, rlimits, the capability bounding set,
// groups, gid, uid, capabilities, no_new_privs, [seccomp], exec.
//
// A step that fails writes a LaunchFailure (which step, its errno) to the
// report fd and the child exits 127; an exec that succeeds closes the
// report fd (close-on-exec), so the spawner reads either a failure or EOF:
// exec errors stay synchronous, as with posix_spawn.
//
// Runs in the launcher's clone child, which shares the launcher's memory
// (vfork-style) unless it needs a PID namespace or a cgroup.
#ifndef REXEC_SERVER_PROCESS_LAUNCH_STEPS_H_
#define REXEC_SERVER_PROCESS_LAUNCH_STEPS_H_

#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/process/launch_spec.h"

struct sock_fprog;

namespace rexec::process {

enum class LaunchStep : int32_t {
  kProcessGroup,
  kSession,
  kControllingTerminal,
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
  kSeccomp,
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

// Everything the steps need that takes memory or a look at the launcher's
// own state, worked out before the clone: a vfork-style child shares the
// launcher's memory, so it must allocate nothing (what it allocated would
// stay behind in the launcher after its exec) and change only its stack
// and `scratch`.
struct PreparedLaunch {
  const LaunchSpec* spec = nullptr;
  ChildFds fds;
  std::vector<char*> argv, envp;  // into *spec, null-terminated
  // Whether each credential differs from the launcher's (an unprivileged
  // server may "switch" to its own user, but not call setgroups).
  bool set_groups = false, set_gid = false, set_uid = false;
  // The passed fd that becomes the controlling terminal, or -1.
  int tty = -1;
  // Room for PlaceFds: the passed fds moved above the targets.
  std::vector<int> scratch;
  // With containment.seccomp: the filter, or null and why not (an errno).
  const sock_fprog* seccomp = nullptr;
  int seccomp_error = 0;
  // rexecd, the child's parent (CLONE_PARENT): the child dies with it.
  pid_t parent = 0;
};

PreparedLaunch PrepareLaunch(const LaunchSpec& spec, ChildFds fds);

// Runs in the new child: never returns. Allocates nothing but for a PID
// namespace, which is created by a fork-style clone.
[[noreturn]] void RunLaunchSteps(PreparedLaunch& launch);

}  // namespace rexec::process

#endif  // REXEC_SERVER_PROCESS_LAUNCH_STEPS_H_
