#include "server/plan/launch_plan.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/errno_status.h"
#include "common/status_macros.h"
#include "server/process/executable_lookup.h"
#include "server/plan/containment_plan.h"
#include "server/plan/process_options.h"

extern char** environ;

namespace rexec::plan {
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

// The files a program name could mean, in lookup order, as written: with
// "." and ".." taken away without asking the filesystem. Under a policy
// the lookup goes through these, not through the names as given:
// resolving "/root/x/../../usr/bin/env" (as rexecd, maybe through a
// directory the child could not search) would tell whether /root/x
// exists, and to the rule it means /usr/bin/env. INVALID_ARGUMENT for a
// huge PATH.
absl::StatusOr<std::vector<std::string>> WrittenCandidates(
    const process::SpawnOptions& spawn) {
  REXEC_ASSIGN_OR_RETURN(std::vector<std::string> candidates,
                         process::CandidateExecutables(spawn));
  for (std::string& candidate : candidates) {
    candidate = LexicalPath(candidate, spawn.cwd);
  }
  return candidates;
}

using EnvList = std::vector<std::pair<std::string, std::string>>;

// options.caller_env, checked as env is (INVALID_ARGUMENT naming the entry).
absl::StatusOr<EnvList> CallerEnvironment(const v1::ProcessOptions& options) {
  EnvList env;
  for (int i = 0; i < options.caller_env_size(); ++i) {
    const v1::EnvVar& entry = options.caller_env(i);
    const std::string& name = entry.name();
    if (!process::ValidEnvName(name) ||
        entry.value().find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "options.caller_env[", i, "] \"",
          absl::CHexEscape(name.substr(0, 80)),
          "\" is invalid: a name is non-empty without '=' or NUL, a value "
          "without NUL"));
    }
    env.emplace_back(name, entry.value());
  }
  return env;
}

// The caller's environment goes under the call's own env: first in the
// list, which BuildEnvironment applies in order.
void PutCallerEnvironment(EnvList caller, process::SpawnOptions* spawn) {
  spawn->env.insert(spawn->env.begin(), std::make_move_iterator(caller.begin()),
                    std::make_move_iterator(caller.end()));
}

absl::Status ApplyRule(const LaunchContext& context,
                       const auth::PolicyRule& rule,
                       const v1::ProcessOptions& options, EnvList caller,
                       LaunchPlan* plan) {
  const std::string& who = context.identity;
  process::SpawnOptions& spawn = plan->spawn;
  REXEC_RETURN_IF_ERROR(rule.CheckRpc(who, context.rpc));

  // rexecd's own environment stays out: only what the rule gives.
  spawn.base_env = rule.PassedEnvironment(environ);
  spawn.fixed_env = rule.Environment();
  for (const auto& [name, value] : spawn.env) {
    REXEC_RETURN_IF_ERROR(rule.CheckClientEnv(who, name));
  }
  // What a local child would have inherited: as much as the rule lets a
  // client set, the rest left out without a word (a refusal would make the
  // whole library unusable under any rule that does not allow every name).
  caller.erase(std::remove_if(caller.begin(), caller.end(),
                              [&rule](const auto& entry) {
                                return !rule.AllowsClientEnv(entry.first);
                              }),
               caller.end());
  PutCallerEnvironment(std::move(caller), &spawn);

  if (spawn.cwd.empty()) {
    spawn.cwd = rule.DefaultCwd();
  } else {
    // As written (see WrittenCandidates); a relative one from the rule's
    // default, rexecd's own cwd being nothing to a client.
    const std::string written = LexicalPath(spawn.cwd, rule.DefaultCwd());
    absl::StatusOr<std::string> cwd = process::CanonicalPath(written, "");
    if (!cwd.ok()) {
      // Whether a directory exists is only told to who may use it.
      REXEC_RETURN_IF_ERROR(rule.CheckCwd(who, written, spawn.cwd));
      return absl::Status(
          cwd.status().code(),
          absl::StrCat("spawn ", spawn.argv[0], ": cwd ", spawn.cwd, ": ",
                       cwd.status().message()));
    }
    REXEC_RETURN_IF_ERROR(rule.CheckCwd(who, *cwd, spawn.cwd));
    spawn.cwd = *std::move(cwd);
  }

  REXEC_ASSIGN_OR_RETURN(std::vector<std::string> candidates,
                         WrittenCandidates(spawn));
  absl::StatusOr<std::string> found =
      process::FirstExecutable(spawn.argv[0], candidates);
  absl::StatusOr<std::string> canonical =
      found.ok() ? process::CanonicalPath(*found, spawn.cwd) : found.status();
  if (!canonical.ok()) {
    if (!rule.MayAllowAnyOf(context.rpc, candidates)) {
      return rule.RefuseExecutable(who, context.rpc, spawn.argv[0]);
    }
    return canonical.status();
  }
  REXEC_ASSIGN_OR_RETURN(
      std::string name,
      rule.CheckExecutable(who, context.rpc, *canonical, spawn.argv[0]));
  if (!name.empty()) spawn.argv[0] = std::move(name);
  spawn.executable = *std::move(canonical);
  plan->found = *std::move(found);

  spawn.umask = rule.Umask(spawn.umask);
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
  REXEC_ASSIGN_OR_RETURN(EnvList caller, CallerEnvironment(options));
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
  if (plan.detach && context.policy != nullptr) {
    plan.request = std::make_shared<LaunchRequest>(
        LaunchRequest{context.rpc, plan.spawn.argv, "", options, "", ""});
  }
  if (context.policy != nullptr) {
    REXEC_ASSIGN_OR_RETURN(const auth::PolicyRule* rule,
                           context.policy->RuleFor(context.identity));
    REXEC_RETURN_IF_ERROR(
        ApplyRule(context, *rule, options, std::move(caller), &plan));
  } else {
    PutCallerEnvironment(std::move(caller), &plan.spawn);
  }
  REXEC_RETURN_IF_ERROR(
      PlanContainment(context.identity, plan.rule, options, &plan.spawn));
  REXEC_RETURN_IF_ERROR(PlanCgroup(context.cgroup_root, context.identity,
                                   plan.rule, &plan.spawn));
  if (plan.request != nullptr) {
    plan.request->executable = plan.spawn.executable;
    plan.request->cwd = plan.spawn.cwd;
  }
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
  if (plan->request != nullptr) plan->request->argv0 = std::string(argv0);
  return absl::OkStatus();
}

namespace {

// The launch planned again: its refusal, else OK.
absl::Status PlannedRefusal(const LaunchContext& context,
                            const LaunchRequest& request,
                            const v1::ProcessOptions& options) {
  absl::StatusOr<LaunchPlan> plan =
      PlanLaunch(context, request.argv, options);
  absl::Status status = plan.status();
  if (plan.ok() && !request.argv0.empty()) {
    status = UseArgv0(context.identity, request.argv0, &*plan);
  }
  return status.code() == absl::StatusCode::kPermissionDenied
             ? status
             : absl::OkStatus();
}

}  // namespace

absl::Status CheckStillAllowed(const LaunchContext& context,
                               const LaunchRequest& request) {
  LaunchContext as_asked = context;
  as_asked.rpc = request.rpc;
  REXEC_RETURN_IF_ERROR(PlannedRefusal(as_asked, request, request.options));
  // A plan that stopped early (its cwd gone) did not get to the program
  // or the user: planned again from the rule's default cwd, it does.
  if (!request.options.cwd().empty()) {
    v1::ProcessOptions without_cwd = request.options;
    without_cwd.clear_cwd();
    REXEC_RETURN_IF_ERROR(PlannedRefusal(as_asked, request, without_cwd));
  }
  if (context.policy == nullptr) return absl::OkStatus();
  REXEC_ASSIGN_OR_RETURN(const auth::PolicyRule* rule,
                         context.policy->RuleFor(context.identity));
  // What ran then, whatever the filesystem says now.
  if (!request.executable.empty()) {
    REXEC_RETURN_IF_ERROR(rule->CheckExecutable(context.identity, request.rpc,
                                                request.executable,
                                                request.argv[0])
                              .status());
  }
  if (!request.options.cwd().empty() && !request.cwd.empty()) {
    REXEC_RETURN_IF_ERROR(rule->CheckCwd(context.identity, request.cwd,
                                         request.options.cwd()));
  }
  return absl::OkStatus();
}

absl::StatusOr<FoundProgram> LookPath(const LaunchContext& context,
                                      const std::string& file,
                                      const v1::ProcessOptions& options) {
  if (file.empty()) {
    return absl::InvalidArgumentError(
        "file is empty: name the program to look up");
  }
  // Only what the lookup depends on: a run-as user or limits asked along
  // must not make it fail where they would mean nothing.
  v1::ProcessOptions lookup;
  *lookup.mutable_env() = options.env();
  *lookup.mutable_env_bytes() = options.env_bytes();
  *lookup.mutable_caller_env() = options.caller_env();
  lookup.set_clear_env(options.clear_env());
  lookup.set_cwd(options.cwd());
  LaunchContext as_spawn = context;
  as_spawn.rpc = auth::Rpc::kSpawn;
  // Under a policy this is the whole check a Spawn makes: the rule's
  // environment and cwd, and whether it allows what is found.
  REXEC_ASSIGN_OR_RETURN(LaunchPlan plan, PlanLaunch(as_spawn, {file}, lookup));
  process::SpawnOptions& spawn = plan.spawn;
  // The path as the lookup found it, not the canonical one the rule
  // checked: /usr/bin/python3, not what it links to. Under a policy, the
  // lookup the rule checked (the names as written).
  absl::StatusOr<std::string> found = plan.found;
  if (plan.rule == nullptr) {
    spawn.argv[0] = file;
    found = process::ResolveExecutable(spawn);
  }
  if (!found.ok()) {
    // The lookup's own words say "spawn FILE: ..."; this call did not.
    absl::string_view message = found.status().message();
    absl::ConsumePrefix(&message, "spawn ");
    return absl::Status(found.status().code(),
                        absl::StrCat("LookPath ", message));
  }
  if (file.find('/') != std::string::npos) {
    // execvp's rule takes a name with a slash as it is; LookPath checks it.
    const std::string full = found->front() == '/' || spawn.cwd.empty()
                                 ? *found
                                 : absl::StrCat(spawn.cwd, "/", *found);
    const std::string what = absl::StrCat("LookPath ", file);
    struct stat st;
    if (stat(full.c_str(), &st) != 0) return ErrnoStatus(errno, what);
    if (S_ISDIR(st.st_mode)) {
      return absl::PermissionDeniedError(
          absl::StrCat(what, ": is a directory (EISDIR)"));
    }
    if (!S_ISREG(st.st_mode) || access(full.c_str(), X_OK) != 0) {
      return absl::PermissionDeniedError(
          absl::StrCat(what, ": is not executable (EACCES)"));
    }
  }
  return FoundProgram{*std::move(found), plan.rule};
}

}  // namespace rexec::plan
