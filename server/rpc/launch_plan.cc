#include "server/rpc/launch_plan.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "server/process/executable_lookup.h"
#include "server/rpc/containment_plan.h"
#include "server/rpc/process_options.h"

extern char** environ;

namespace rexec::rpc {
namespace {

// "/a/./b/../c//d" -> "/a/c/d", without asking the filesystem: for paths
// that do not exist, which realpath cannot resolve.
std::string LexicalPath(absl::string_view path, absl::string_view cwd) {
  std::string full = path.empty() || path.front() == '/'
                         ? std::string(path)
                         : absl::StrCat(cwd.empty() ? "/" : cwd, "/", path);
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(full, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  return absl::StrCat("/", absl::StrJoin(parts, "/"));
}

// The files a program name could mean, for a lookup that failed, as paths
// without "." and "..": they may not exist, so realpath cannot say.
std::vector<std::string> Candidates(const process::SpawnOptions& spawn) {
  absl::StatusOr<std::vector<std::string>> candidates =
      process::CandidateExecutables(spawn);
  std::vector<std::string> paths;
  if (!candidates.ok()) return paths;
  for (const std::string& candidate : *candidates) {
    paths.push_back(LexicalPath(candidate, spawn.cwd));
  }
  return paths;
}

absl::Status ApplyRule(const LaunchContext& context,
                       const auth::PolicyRule& rule,
                       const v1::ProcessOptions& options, LaunchPlan* plan) {
  const std::string& who = context.identity;
  process::SpawnOptions& spawn = plan->spawn;
  REXEC_RETURN_IF_ERROR(rule.CheckRpc(who, context.rpc));

  // rexecd's own environment stays out: only what the rule gives.
  spawn.base_env = rule.BaseEnvironment(environ);
  for (const auto& [name, value] : spawn.env) {
    REXEC_RETURN_IF_ERROR(rule.CheckClientEnv(who, name));
  }

  if (spawn.cwd.empty()) {
    spawn.cwd = rule.DefaultCwd();
  } else {
    absl::StatusOr<std::string> cwd = process::CanonicalPath(spawn.cwd, "");
    if (!cwd.ok()) {
      // Whether a directory exists is only told to who may use it.
      REXEC_RETURN_IF_ERROR(
          rule.CheckCwd(who, LexicalPath(spawn.cwd, ""), spawn.cwd));
      return absl::Status(
          cwd.status().code(),
          absl::StrCat("spawn ", spawn.argv[0], ": cwd ", spawn.cwd, ": ",
                       cwd.status().message()));
    }
    REXEC_RETURN_IF_ERROR(rule.CheckCwd(who, *cwd, spawn.cwd));
    spawn.cwd = *std::move(cwd);
  }

  absl::StatusOr<std::string> found = process::ResolveExecutable(spawn);
  absl::StatusOr<std::string> canonical =
      found.ok() ? process::CanonicalPath(*found, spawn.cwd) : found.status();
  if (!canonical.ok()) {
    if (canonical.status().code() == absl::StatusCode::kInvalidArgument) {
      return canonical.status();  // a malformed request (a huge PATH)
    }
    if (!rule.MayAllowAnyOf(context.rpc, Candidates(spawn))) {
      return rule.RefuseExecutable(who, context.rpc, spawn.argv[0]);
    }
    return canonical.status();
  }
  REXEC_ASSIGN_OR_RETURN(
      std::string name,
      rule.CheckExecutable(who, context.rpc, *canonical, spawn.argv[0]));
  if (!name.empty()) spawn.argv[0] = std::move(name);
  spawn.executable = *std::move(canonical);

  REXEC_ASSIGN_OR_RETURN(plan->stop.timeout,
                         rule.Timeout(who, plan->stop.timeout));
  const bool asked_grace =
      options.kill_grace().seconds() != 0 || options.kill_grace().nanos() != 0;
  if (asked_grace) {
    REXEC_RETURN_IF_ERROR(rule.CheckKillGrace(who, plan->stop.kill_grace));
  } else {
    plan->stop.kill_grace = rule.DefaultKillGrace(plan->stop.kill_grace);
  }
  plan->rule = &rule;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LaunchPlan> PlanLaunch(const LaunchContext& context,
                                      std::vector<std::string> argv,
                                      const v1::ProcessOptions& options) {
  LaunchPlan plan;
  plan.spawn.argv = std::move(argv);
  REXEC_RETURN_IF_ERROR(
      FromProto(options, context.max_kill_grace, &plan.spawn, &plan.stop));
  // A malformed request is INVALID_ARGUMENT whoever sends it, before the
  // policy is asked anything.
  REXEC_RETURN_IF_ERROR(process::ValidateSpawnOptions(plan.spawn));
  if (options.detach() && context.rpc != auth::Rpc::kSpawn) {
    return absl::InvalidArgumentError(
        "options.detach is for Spawn: an Exec's output is its result, and a "
        "Fork's channel ends with its call");
  }
  if (!options.name().empty() && !options.detach()) {
    return absl::InvalidArgumentError(
        "options.name names a session: it needs options.detach");
  }
  plan.detach = options.detach();
  plan.session_name = options.name();
  if (context.policy != nullptr) {
    REXEC_ASSIGN_OR_RETURN(const auth::PolicyRule* rule,
                           context.policy->RuleFor(context.identity));
    REXEC_RETURN_IF_ERROR(ApplyRule(context, *rule, options, &plan));
  }
  REXEC_RETURN_IF_ERROR(
      PlanContainment(context.identity, plan.rule, options, &plan.spawn));
  REXEC_RETURN_IF_ERROR(PlanCgroup(context.cgroup_root, context.identity,
                                   plan.rule, &plan.spawn));
  return plan;
}

absl::Status UseArgv0(absl::string_view identity, absl::string_view argv0,
                      LaunchPlan* plan) {
  if (argv0.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("argv0 contains a NUL byte");
  }
  process::SpawnOptions& spawn = plan->spawn;
  if (plan->rule != nullptr && argv0 != spawn.argv[0]) {
    return absl::PermissionDeniedError(absl::StrCat(
        "identity \"", identity, "\": rule \"", plan->rule->name(),
        "\" does not allow argv0 \"", argv0,
        "\" (argv0: under a policy, argv[0] is the name its programs give)"));
  }
  REXEC_ASSIGN_OR_RETURN(spawn.executable, process::ResolveExecutable(spawn));
  spawn.argv[0] = std::string(argv0);
  return absl::OkStatus();
}

}  // namespace rexec::rpc
