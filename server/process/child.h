// Child is one process we started through the Launcher: its pid, a pidfd for
// waiting and signalling, and our ends of its stdio (non-blocking,
// close-on-exec), made per fd as SpawnOptions::stdio says: a pipe, a socket,
// /dev/null, or a pseudo-terminal whose master we keep. The child leads a
// new process group (with a terminal or new_session: a new session, a
// terminal its controlling one), starts with an empty signal mask and default
// dispositions, and holds only the fds its stdio names.
//
// A Child that is destroyed before it was reaped kills its process group with
// SIGKILL and reaps it, so no zombie outlives its owner. Owned by one thread;
// not thread-safe.
#ifndef REXEC_SERVER_PROCESS_CHILD_H_
#define REXEC_SERVER_PROCESS_CHILD_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "server/process/cgroup.h"
#include "server/process/exit_status.h"
#include "server/process/launch_spec.h"
#include "server/process/launch_steps.h"
#include "server/process/spawn_options.h"
#include "server/process/stdio.h"
#include "server/process/unique_fd.h"

namespace rexec::process {

class Child {
 public:
  // Errors: INVALID_ARGUMENT (bad options), NOT_FOUND (program or cwd),
  // PERMISSION_DENIED, RESOURCE_EXHAUSTED (EAGAIN, EMFILE, ENOMEM...);
  // a launch step that failed is named ("spawn PROG: setuid: ...").
  // FAILED_PRECONDITION before Launcher::Start().
  static absl::StatusOr<Child> Spawn(const SpawnOptions& options);

  Child(Child&& other) noexcept;
  Child& operator=(Child&&) = delete;
  ~Child();

  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_.Get(); }
  // Our end of stdio fd `target` (a pipe or a socket; invalid for kNull,
  // kPty or a target not in stdio).
  UniqueFd& end(int target) { return ends_[target]; }
  UniqueFd& stdin_fd() { return ends_[0]; }
  UniqueFd& stdout_fd() { return ends_[1]; }
  UniqueFd& stderr_fd() { return ends_[2]; }
  // The terminal's master, when the child has one.
  UniqueFd& terminal() { return terminal_; }
  const UniqueFd& terminal() const { return terminal_; }
  bool reaped() const { return reaped_; }

  // Signals the whole process group, and with a cgroup a SIGKILL reaches
  // every process in it, whatever group or session it moved to. While the
  // leader is unreaped its pid,
  // and so the group id, cannot be reused; after that the id is pinned only
  // while a member lives, and a group of a new child of ours that got the
  // same id is left alone (ChildRegistry::SignalReapedGroup). ESRCH (nobody
  // left) is OK.
  absl::Status SignalGroup(int signal_number) const;

  // True while any member of the child's process group is alive (after the
  // leader was reaped: and its id is not another child's); with a cgroup,
  // while any process is in it.
  bool GroupAlive() const;

  // Reaps the child if it has exited (its pidfd is readable then); nullopt
  // while it runs.
  absl::StatusOr<std::optional<ExitStatus>> TryReap();

  // Blocks until the child exits, then reaps it.
  absl::StatusOr<ExitStatus> Wait();

 private:
  Child() = default;
  absl::StatusOr<std::optional<ExitStatus>> Reap(int options);
  // Waits for the report of this child's launch: a failed step, or nullopt
  // once it exec'd. UNAVAILABLE (and the child killed) if it was stopped
  // before its exec.
  absl::StatusOr<std::optional<LaunchFailure>> AwaitExec(
      int report_fd, absl::string_view program);

  pid_t pid_ = -1;
  bool reaped_ = false;
  UniqueFd pidfd_;
  // In a PID namespace, where the pid is its init's: how the program ended.
  UniqueFd init_status_;
  std::optional<Cgroup> cgroup_;
  UniqueFd ends_[kStdioTargets];
  UniqueFd terminal_;
};

}  // namespace rexec::process

#endif  // REXEC_SERVER_PROCESS_CHILD_H_
