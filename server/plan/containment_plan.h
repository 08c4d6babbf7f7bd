// PlanContainment decides how a child is fenced in: the user and groups it
// runs as (with that user's HOME, USER, LOGNAME and SHELL), its rlimits,
// and under a policy no_new_privs, its capabilities and its isolation,
// from what the call asked (ProcessOptions) within the caller's rule.
//
// Part of PlanLaunch (launch_plan.h); pure but for reading the user and
// group databases and this process's capabilities.
#ifndef REXEC_SERVER_PLAN_CONTAINMENT_PLAN_H_
#define REXEC_SERVER_PLAN_CONTAINMENT_PLAN_H_

#include "absl/status/status.h"
#include "rexec/v1/child_process.pb.h"
#include "server/auth/policy.h"
#include "server/process/child.h"

namespace rexec::plan {

// Fills spawn->containment and adds the run-as user's variables to the
// base environment. `rule` is null without a policy. Errors:
// INVALID_ARGUMENT (a malformed field), NOT_FOUND (no such user or group,
// told only to a caller the rule would allow it), PERMISSION_DENIED (the
// rule, or a server not privileged to switch users).
absl::Status PlanContainment(absl::string_view identity,
                             const auth::PolicyRule* rule,
                             const v1::ProcessOptions& options,
                             process::SpawnOptions* spawn);

// The child's cgroup under `cgroup_root` (null: none), with the rule's
// limits. FAILED_PRECONDITION for a rule with cgroup limits and no root.
absl::Status PlanCgroup(process::CgroupRoot* cgroup_root,
                        absl::string_view identity,
                        const auth::PolicyRule* rule,
                        process::SpawnOptions* spawn);

}  // namespace rexec::plan

#endif  // REXEC_SERVER_PLAN_CONTAINMENT_PLAN_H_
