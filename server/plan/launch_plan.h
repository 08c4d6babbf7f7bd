// PlanLaunch turns what a call asked for (argv and ProcessOptions) into what
// will run: spawn options and a stop policy, checked against the server's
// limits and, under a policy, against the caller's rule, which also supplies
// the base environment, the default cwd and timeout, and fixes the file that
// runs to the canonical path it allowed (so that a symlink swapped after the
// check cannot change what the check meant).
//
// Pure but for reading the filesystem (PATH lookup, realpath) and the
// server's environment: no gRPC, so that it can be fuzzed on its own.
#ifndef REXEC_SERVER_PLAN_LAUNCH_PLAN_H_
#define REXEC_SERVER_PLAN_LAUNCH_PLAN_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rexec/v1/child_process.pb.h"
#include "server/auth/policy.h"
#include "server/process/child.h"
#include "server/process/stop_policy.h"

namespace rexec::plan {

// Who asks and under what.
struct LaunchContext {
  auth::Rpc rpc = auth::Rpc::kSpawn;
  std::string identity;
  // Null: no policy, every identity may run anything as rexecd runs it.
  const auth::Policy* policy = nullptr;
  absl::Duration max_kill_grace = absl::Seconds(60);
  // Where each child gets a cgroup (--cgroup-root); null: none.
  process::CgroupRoot* cgroup_root = nullptr;
};

// What a call asked for, kept with a session (options.detach) so that its
// launch can be judged again under a reloaded policy.
struct LaunchRequest {
  auth::Rpc rpc = auth::Rpc::kSpawn;
  std::vector<std::string> argv;
  std::string argv0;  // Spawn's, when given
  v1::ProcessOptions options;
  // What the rule allowed then: the canonical file that ran, and its cwd.
  std::string executable, cwd;
};

struct LaunchPlan {
  process::SpawnOptions spawn;
  process::StopPolicy stop;
  // The rule that allowed it; null without a policy.
  const auth::PolicyRule* rule = nullptr;
  // Under a policy, the file as the lookup found it before symlinks were
  // resolved (spawn.executable is the canonical one): /usr/bin/python3.
  std::string found;
  // options.detach: a session of the process table, named (or "").
  bool detach = false;
  std::string session_name;
  // With detach, what was asked (UseArgv0 adds its argv0).
  std::shared_ptr<LaunchRequest> request;
};

// Errors: INVALID_ARGUMENT for a malformed request, PERMISSION_DENIED from
// the policy, NOT_FOUND for a program or cwd that does not exist (under a
// policy, only when the rule would have allowed it).
absl::StatusOr<LaunchPlan> PlanLaunch(const LaunchContext& context,
                                      std::vector<std::string> argv,
                                      const v1::ProcessOptions& options);

// Whether the rule in force (context.policy) would still start `request`:
// its refusal (PERMISSION_DENIED, naming the rule and what it does not
// allow) when it would not; OK otherwise, also when the launch would fail
// for another reason (a program since removed is not the rule's doing).
// The file that ran and its cwd are judged as they were then, so that
// removing the cwd (which a new launch would stop at) hides nothing.
absl::Status CheckStillAllowed(const LaunchContext& context,
                               const LaunchRequest& request);

// Spawn's argv0 (Node's): what the child sees as argv[0], once argv[0] has
// named the file that runs (looked up now if the plan has not fixed it).
// INVALID_ARGUMENT for a NUL byte; the lookup's errors. PERMISSION_DENIED
// under a policy (for another name than the rule gives): a multi-call
// program (busybox, bash as rbash) chooses what it is by argv[0], so a
// rule that allows one name of it would allow them all.
absl::Status UseArgv0(absl::string_view identity, absl::string_view argv0,
                      LaunchPlan* plan);

// The LookPath RPC: the file a Spawn of `file` with `options` (their
// environment and cwd only) would run, as the lookup names it (not
// canonical). A name with a slash must be an executable regular file.
// Errors: INVALID_ARGUMENT (an empty file, a malformed environment),
// NOT_FOUND, PERMISSION_DENIED (not executable, a directory; under a
// policy, what a Spawn of it would be refused, as for Spawn).
struct FoundProgram {
  std::string path;
  // The rule that allowed it; null without a policy.
  const auth::PolicyRule* rule = nullptr;
};
absl::StatusOr<FoundProgram> LookPath(const LaunchContext& context,
                                      const std::string& file,
                                      const v1::ProcessOptions& options);

}  // namespace rexec::plan

#endif  // REXEC_SERVER_PLAN_LAUNCH_PLAN_H_
