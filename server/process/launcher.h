// Launcher is the process that creates every child of ours: a copy of
// rexecd forked before its first thread, listening socket or secret, that
// holds only its end of a socket pair. Each launch sends it a LaunchSpec
// and the child's fds (SCM_RIGHTS); it clone3()s the child with
// CLONE_PARENT, so the child is the server's own to wait for and signal, and
// CLONE_PIDFD, whose pidfd it sends back. The child then takes the launch
// steps (launch_steps.h) and reports a failed one on the report fd.
//
// Why a separate process: posix_spawn cannot set credentials, rlimits or a
// cgroup, and a fork of the gRPC server is unsafe; and a server with
// thousands of calls open made every spawn copy and close thousands of fds,
// where the launcher holds a handful.
//
// One per process (Start() installs it, Global() finds it). Launch() is
// thread-safe: launches are serialised, each being a short round trip.
#ifndef REXEC_SERVER_PROCESS_LAUNCHER_H_
#define REXEC_SERVER_PROCESS_LAUNCHER_H_

#include <sys/types.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "server/process/launch_spec.h"
#include "server/process/unique_fd.h"

namespace rexec::process {

struct Launched {
  pid_t pid = -1;  // -1: clone3 failed with `error`
  int error = 0;
  UniqueFd pidfd;
};

class Launcher {
 public:
  // Forks the launcher. Call before any thread is started: the launcher is
  // a fork without an exec. FAILED_PRECONDITION if one was started.
  static absl::Status Start();
  // The launcher Start() made; null before.
  static Launcher* Global();

  // Starts a child. `fds` are the report fd, then one fd per
  // spec.fd_targets, then the cgroup directory's (spec.into_cgroup), then
  // the init's status fd (spec.containment.pid_namespace). Errors:
  // UNAVAILABLE when the launcher is gone; a failed clone3 is a Launched
  // with its errno.
  absl::StatusOr<Launched> Launch(const LaunchSpec& spec,
                                  absl::Span<const int> fds);

  pid_t pid() const { return pid_; }
  // Readable when the launcher has exited (a pidfd).
  int pidfd() const { return pidfd_.Get(); }

 private:
  Launcher(pid_t pid, UniqueFd pidfd, UniqueFd socket);

  const pid_t pid_;
  const UniqueFd pidfd_;
  absl::Mutex mu_;
  UniqueFd socket_ ABSL_GUARDED_BY(mu_);
};

}  // namespace rexec::process

#endif  // REXEC_SERVER_PROCESS_LAUNCHER_H_
