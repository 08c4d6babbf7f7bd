#include "server/plan/containment_plan.h"

#include <linux/capability.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/process/user_lookup.h"

extern char** environ;

namespace rexec::plan {
namespace {

using process::GroupEntry;
using process::UserEntry;

// More than any real need; a bound on the lookups one call can cause.
constexpr int kMaxGroups = 64;

// Names longer than this are no user's (useradd's limit is 32).
constexpr size_t kMaxNameBytes = 256;

absl::Status CheckName(absl::string_view name, absl::string_view field) {
  if (name.size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is ", name.size(), " bytes; at most ",
                     kMaxNameBytes, " are allowed"));
  }
  if (name.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " contains a NUL byte"));
  }
  return absl::OkStatus();
}

absl::Status WithField(absl::Status status, absl::string_view field) {
  return absl::Status(status.code(),
                      absl::StrCat(field, ": ", status.message()));
}

// The user a call runs as, checked against the rule; nullopt: the server's.
absl::StatusOr<std::optional<UserEntry>> RunAsUser(
    absl::string_view identity, const auth::PolicyRule* rule,
    const v1::ProcessOptions& options) {
  const bool named = !options.user().empty();
  const std::string asked =
      named ? options.user() : (rule != nullptr ? rule->default_user() : "");
  if (asked.empty()) return std::nullopt;
  absl::StatusOr<UserEntry> found = process::LookUpUser(asked);
  if (rule != nullptr && named) {
    REXEC_RETURN_IF_ERROR(
        rule->CheckUser(identity, asked, found.ok() ? found->name : asked,
                        found.ok() ? static_cast<int64_t>(found->uid) : -1));
  }
  if (!found.ok()) {
    if (!named) {
      return absl::FailedPreconditionError(
          absl::StrCat("rule \"", rule->name(),
                       "\": default_user: ", found.status().message()));
    }
    return WithField(found.status(), "options.user");
  }
  return std::optional<UserEntry>(*std::move(found));
}

// A group the call named: one of the user's own, or one the rule allows.
absl::StatusOr<gid_t> NamedGroup(absl::string_view identity,
                                 const auth::PolicyRule* rule,
                                 const std::string& asked,
                                 const std::vector<gid_t>& own,
                                 absl::string_view field) {
  absl::StatusOr<GroupEntry> found = process::LookUpGroup(asked);
  const bool owned =
      found.ok() && std::find(own.begin(), own.end(), found->gid) != own.end();
  if (rule != nullptr && !owned) {
    REXEC_RETURN_IF_ERROR(
        rule->CheckGroup(identity, asked, found.ok() ? found->name : asked,
                         found.ok() ? static_cast<int64_t>(found->gid) : -1));
  }
  if (!found.ok()) return WithField(found.status(), field);
  return found->gid;
}

void SetVariable(std::vector<std::pair<std::string, std::string>>& env,
                 const std::string& name, const std::string& value) {
  for (auto& [n, v] : env) {
    if (n == name) {
      v = value;
      return;
    }
  }
  env.emplace_back(name, value);
}

// sudo -u's variables, over the base environment (a client's own `env`
// still wins, where it may set them).
void SetUserEnvironment(const UserEntry& user, process::SpawnOptions* spawn) {
  if (!spawn->base_env.has_value()) {
    auto& env = spawn->base_env.emplace();
    for (char** e = environ; *e != nullptr; ++e) {
      const char* eq = std::strchr(*e, '=');
      if (eq != nullptr) env.emplace_back(std::string(*e, eq - *e), eq + 1);
    }
  }
  const std::string name =
      user.name.empty() ? absl::StrCat(user.uid) : user.name;
  SetVariable(*spawn->base_env, "HOME", user.home);
  SetVariable(*spawn->base_env, "USER", name);
  SetVariable(*spawn->base_env, "LOGNAME", name);
  SetVariable(*spawn->base_env, "SHELL", user.shell);
}

absl::Status PlanCredentials(absl::string_view identity,
                             const auth::PolicyRule* rule,
                             const v1::ProcessOptions& options,
                             process::SpawnOptions* spawn) {
  if (options.groups_size() > kMaxGroups) {
    return absl::InvalidArgumentError(
        absl::StrCat("options.groups has ", options.groups_size(),
                     " entries; at most ", kMaxGroups, " are allowed"));
  }
  REXEC_RETURN_IF_ERROR(CheckName(options.user(), "options.user"));
  REXEC_RETURN_IF_ERROR(CheckName(options.group(), "options.group"));
  for (int i = 0; i < options.groups_size(); ++i) {
    REXEC_RETURN_IF_ERROR(
        CheckName(options.groups(i), absl::StrCat("options.groups[", i, "]")));
  }
  REXEC_ASSIGN_OR_RETURN(std::optional<UserEntry> user,
                         RunAsUser(identity, rule, options));
  if (!user && options.group().empty() && options.groups().empty()) {
    return absl::OkStatus();  // the server's own credentials
  }
  process::Credentials cred;
  cred.uid = user ? user->uid : geteuid();
  cred.gid = user ? user->gid : getegid();
  const std::vector<gid_t> own =
      user ? process::GroupsOf(*user) : process::CurrentGroups();
  cred.groups = own;
  if (!options.group().empty()) {
    REXEC_ASSIGN_OR_RETURN(cred.gid, NamedGroup(identity, rule, options.group(),
                                                own, "options.group"));
  }
  if (!options.groups().empty()) {
    cred.groups.clear();
    for (int i = 0; i < options.groups_size(); ++i) {
      REXEC_ASSIGN_OR_RETURN(
          gid_t gid, NamedGroup(identity, rule, options.groups(i), own,
                                absl::StrCat("options.groups[", i, "]")));
      cred.groups.push_back(gid);
    }
  }
  const bool same = cred.uid == geteuid() && cred.gid == getegid() &&
                    process::AreCurrentGroups(cred.groups);
  if (!same && !(process::HasEffectiveCapability(CAP_SETUID) &&
                 process::HasEffectiveCapability(CAP_SETGID))) {
    return absl::PermissionDeniedError(absl::StrCat(
        "rexecd runs as uid ", geteuid(),
        " without CAP_SETUID and CAP_SETGID, so it cannot run a child as ",
        user
            ? absl::StrCat("user ", user->name.empty() ? absl::StrCat(user->uid)
                                                       : user->name)
            : "other groups",
        ": run rexecd as root (or with those capabilities) to switch users"));
  }
  spawn->containment.credentials = std::move(cred);
  if (user) SetUserEnvironment(*user, spawn);
  return absl::OkStatus();
}

// ResourceLimits fields by number, and the rlimit each sets.
constexpr int kLimitResources[] = {0,
                                   RLIMIT_CPU,
                                   RLIMIT_AS,
                                   RLIMIT_NOFILE,
                                   RLIMIT_NPROC,
                                   RLIMIT_FSIZE,
                                   RLIMIT_CORE};

void PlanLimits(const v1::ResourceLimits& limits,
                process::SpawnOptions* spawn) {
  const google::protobuf::Reflection* reflection = limits.GetReflection();
  const google::protobuf::Descriptor* descriptor = limits.GetDescriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = descriptor->field(i);
    if (!reflection->HasField(limits, field)) continue;
    const uint64_t value = reflection->GetUInt64(limits, field);
    process::ResourceLimit limit;
    limit.resource = kLimitResources[field->number()];
    limit.soft = value >= RLIM_INFINITY ? RLIM_INFINITY : value;
    limit.hard = limit.soft;
    // At the hard CPU limit the kernel sends SIGKILL, at the soft one
    // SIGXCPU: a second between them lets a child see SIGXCPU (and act on
    // it) before it is killed.
    if (limit.resource == RLIMIT_CPU && limit.soft < RLIM_INFINITY - 1) {
      limit.hard = limit.soft + 1;
    }
    spawn->containment.limits.push_back(limit);
  }
}

}  // namespace

absl::Status PlanContainment(absl::string_view identity,
                             const auth::PolicyRule* rule,
                             const v1::ProcessOptions& options,
                             process::SpawnOptions* spawn) {
  REXEC_RETURN_IF_ERROR(PlanCredentials(identity, rule, options, spawn));
  v1::ResourceLimits limits = options.limits();
  if (rule != nullptr) {
    REXEC_ASSIGN_OR_RETURN(limits, rule->Limits(identity, limits));
    spawn->containment.no_new_privs = true;
    spawn->containment.capabilities = rule->capabilities();
    spawn->containment.pid_namespace =
        rule->isolation() == v1::PolicyRule::PID_NAMESPACE;
    spawn->containment.seccomp = rule->seccomp() == v1::PolicyRule::DEFAULT;
  }
  PlanLimits(limits, spawn);
  return absl::OkStatus();
}

absl::Status PlanCgroup(process::CgroupRoot* cgroup_root,
                        absl::string_view identity,
                        const auth::PolicyRule* rule,
                        process::SpawnOptions* spawn) {
  process::CgroupLimits limits;
  if (rule != nullptr) {
    const v1::CgroupLimits& asked = rule->cgroup_limits();
    if (asked.has_memory_max_bytes()) {
      limits.memory_max_bytes = asked.memory_max_bytes();
    }
    if (asked.has_pids_max()) limits.pids_max = asked.pids_max();
    if (asked.has_cpu_millis()) limits.cpu_millis = asked.cpu_millis();
  }
  if (cgroup_root == nullptr) {
    if (limits.empty()) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(
        "rule \"", rule->name(),
        "\" sets cgroup limits, and this rexecd has no --cgroup-root to "
        "set them in"));
  }
  auto& place = spawn->cgroup.emplace();
  place.root = cgroup_root;
  place.group = std::string(identity);
  if (rule != nullptr && rule->max_processes() > 0) {
    place.group_pids_max = rule->max_processes();
  }
  place.limits = limits;
  return absl::OkStatus();
}

}  // namespace rexec::plan
