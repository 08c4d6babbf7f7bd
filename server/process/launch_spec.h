// LaunchSpec is everything the launcher needs to start one child: the file,
// argv and environment, where the passed fds land, and how the child is
// contained (credentials, rlimits, capabilities, no_new_privs, a PID
// namespace). Child::Spawn builds one from SpawnOptions; it crosses to the
// launcher process as bytes (EncodeLaunchSpec / DecodeLaunchSpec), so it
// holds values only, never pointers or fds. A plain value type.
#ifndef REXEC_SERVER_PROCESS_LAUNCH_SPEC_H_
#define REXEC_SERVER_PROCESS_LAUNCH_SPEC_H_

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rexec::process {

// Who the child runs as: setgroups(groups), setgid(gid), setuid(uid).
struct Credentials {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
};

// setrlimit(resource, {soft, hard}).
struct ResourceLimit {
  int resource = 0;
  rlim_t soft = 0;
  rlim_t hard = 0;
};

// How a child is fenced in. The default is no fence: the child has what
// the server has.
struct Containment {
  std::optional<Credentials> credentials;
  std::vector<ResourceLimit> limits;
  // PR_SET_NO_NEW_PRIVS: execve never grants privilege (setuid bits, file
  // capabilities).
  bool no_new_privs = false;
  // When set, the child keeps exactly these capabilities (a mask of
  // 1 << CAP_*) in every set, as ambient ones for a non-root user; all
  // others leave the bounding set too. Unset: the server's own.
  std::optional<uint64_t> capabilities;
  // A PID namespace (and a mount namespace with its own /proc) of the
  // child's own, where a small init of ours is PID 1.
  bool pid_namespace = false;
  // The default seccomp filter (seccomp_filter.h), set last before exec;
  // needs no_new_privs.
  bool seccomp = false;
};

struct LaunchSpec {
  std::string path;
  std::vector<std::string> argv;
  std::vector<std::string> envp;  // NAME=VALUE
  std::string cwd;                // empty: the launcher's
  // The fds passed with the spec (after the report fd) are dup2-ed onto
  // these numbers, in order.
  std::vector<int> fd_targets;
  // When one of fd_targets (a pty's slave): the child starts a new
  // session with it as its controlling terminal, instead of only a new
  // process group.
  int controlling_tty = -1;
  // An fd of the child's cgroup directory follows the targets'
  // (CLONE_INTO_CGROUP).
  bool into_cgroup = false;
  // Without a controlling_tty: setsid instead of setpgid.
  bool new_session = false;
  // umask(2), 0 to 0777; unset: the launcher's.
  std::optional<mode_t> umask;
  Containment containment;
};

std::string EncodeLaunchSpec(const LaunchSpec& spec);
// INVALID_ARGUMENT when `bytes` is not an encoded spec (truncated, a count
// over what the bytes can hold, a NUL inside a string).
absl::StatusOr<LaunchSpec> DecodeLaunchSpec(absl::string_view bytes);

}  // namespace rexec::process

#endif  // REXEC_SERVER_PROCESS_LAUNCH_SPEC_H_
