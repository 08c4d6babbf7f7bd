// SpawnOptions is what Child::Spawn is asked to start: argv, environment,
// working directory, stdio, terminal, containment and cgroup. With it, the
// checks of a request (ValidateSpawnOptions), the child's environment
// (BuildEnvironment) and the lookup of its program in that environment's
// PATH (ResolveExecutable). Plain values and functions; thread-safe.
#ifndef REXEC_SERVER_PROCESS_SPAWN_OPTIONS_H_
#define REXEC_SERVER_PROCESS_SPAWN_OPTIONS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/process/cgroup.h"
#include "server/process/launch_spec.h"
#include "server/process/stdio.h"

namespace rexec::process {

// Where a child's cgroup is made, and its limits.
struct CgroupPlacement {
  CgroupRoot* root = nullptr;
  std::string group;  // the caller's identity
  std::optional<uint64_t> group_pids_max;
  CgroupLimits limits;
};

struct SpawnOptions {
  // argv[0] is the program; see FindExecutable for how it is looked up.
  std::vector<std::string> argv;
  // When set, the file to run, already looked up (see ResolveExecutable);
  // argv[0] is then only what the child sees as its name.
  std::string executable;
  // The base environment; nullopt means this process's own.
  std::optional<std::vector<std::pair<std::string, std::string>>> base_env;
  // Over the base environment, and kept when clear_env clears it: a
  // policy rule's own variables (PATH, NODE_OPTIONS...), which a client may
  // override only where the rule lets it set them.
  std::vector<std::pair<std::string, std::string>> fixed_env;
  // Added to, or overriding, the base environment and fixed_env.
  std::vector<std::pair<std::string, std::string>> env;
  // Base environment is empty instead of base_env.
  bool clear_env = false;
  // Working directory; empty means ours.
  std::string cwd;
  // The child's fds, each once; every other fd is closed at its exec.
  std::vector<StdioFd> stdio = {
      {0, StdioKind::kPipe}, {1, StdioKind::kPipe}, {2, StdioKind::kPipe}};
  // Set exactly when a stdio entry is kPty; TERM is set from it, over env.
  std::optional<TerminalOptions> terminal;
  // The child leads a new session (setsid), not only a process group; a
  // terminal implies one.
  bool new_session = false;
  // The child's umask (0 to 0777); unset: ours.
  std::optional<mode_t> umask;
  // Credentials, limits, capabilities, namespaces.
  Containment containment;
  // When set, the child gets a cgroup of its own (CgroupRoot::Create).
  std::optional<CgroupPlacement> cgroup;
};

// The fds a running child of `options` holds in rexecd: its pidfd, one per
// pipe or socket of its stdio, one for its terminal, and its PID
// namespace's status pipe (CgroupTest.ARunningChildHoldsAtMostFourFds
// counts them). The table admits children by it (TableConfig::max_child_fds).
int HeldFds(const SpawnOptions& options);

// A name an environment entry may have: non-empty, without '=' or NUL.
bool ValidEnvName(absl::string_view name);

// INVALID_ARGUMENT naming the offending argument, variable or fd.
absl::Status ValidateSpawnOptions(const SpawnOptions& options);

// The child's environment as NAME=VALUE entries: the base (unless
// clear_env) with `env` applied in order, later values winning.
std::vector<std::string> BuildEnvironment(const SpawnOptions& options);

// The file the child will run: `executable` if set, else argv[0] looked up
// in the PATH of the child's environment (FindExecutable).
absl::StatusOr<std::string> ResolveExecutable(const SpawnOptions& options);

// The same, with `env` the child's environment (BuildEnvironment) when the
// caller has it already.
absl::StatusOr<std::string> ResolveExecutable(
    const SpawnOptions& options, const std::vector<std::string>& env);

// The files that lookup tries, in its order (ExecutableCandidates), for
// options without `executable`.
absl::StatusOr<std::vector<std::string>> CandidateExecutables(
    const SpawnOptions& options);

}  // namespace rexec::process

#endif  // REXEC_SERVER_PROCESS_SPAWN_OPTIONS_H_
