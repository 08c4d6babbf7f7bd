// Policy is the compiled form of a policy file (protos/rexec/v1/policy.proto):
// the rules in order, each able to say whether it allows one part of a call.
// The first rule whose identities match a call's identity is the call's
// rule, and decides alone.
//
// Refusals are PERMISSION_DENIED naming the identity, the rule and the
// field that refused, and what the call asked for; never what the rule
// would have allowed, so that a refusal teaches a probing client nothing
// of the policy.
//
// Immutable once built; a reload builds a new one. Thread-safe.
#ifndef REXEC_SERVER_AUTH_POLICY_H_
#define REXEC_SERVER_AUTH_POLICY_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "rexec/v1/policy.pb.h"

namespace rexec::auth {

// The RPCs a rule may allow (Spawn, Exec, Fork), then those of sessions,
// which a caller may use on its own sessions whatever its rule.
// LookPath is answered as a Spawn of the file would be (a rule allows it
// with Spawn); it has a name for the audit log and metrics only.
enum class Rpc { kSpawn, kExec, kFork, kList, kAttach, kKill, kLookPath };
// "Spawn", "Exec", "Fork"...: as the policy and the audit log spell them.
absl::string_view RpcName(Rpc rpc);

// A field of a policy that does not validate: its path
// ("rules[0].rpcs[1]") and what is wrong with it.
struct PolicyFieldError {
  std::string path;
  std::string message;
};

// What a validator returns for the field at `path` that does not validate.
inline std::optional<PolicyFieldError> FieldRefused(std::string path,
                                                    std::string message) {
  return PolicyFieldError{std::move(path), std::move(message)};
}

class PolicyRule {
 public:
  const std::string& name() const { return name_; }
  // Each check: OK, or PERMISSION_DENIED as above.
  absl::Status CheckRpc(absl::string_view identity, Rpc rpc) const;
  // `path`: the file that would run, canonical (see process::CanonicalPath);
  // the rule's own paths were made canonical when it was loaded. `asked`:
  // the program as the call named it, all that a refusal repeats (never
  // `path`, which would tell where symlinks lead and what exists).
  //
  // OK with the argv[0] the child must get: "" keeps the call's; but when
  // the only entries that allow the file name it through a symlink, the
  // entry's own path. Such programs act on their name (/bin/rbash is bash,
  // restricted because of its name): allowing /bin/rbash must not allow
  // bash under any other name.
  absl::StatusOr<std::string> CheckExecutable(absl::string_view identity,
                                              Rpc rpc, absl::string_view path,
                                              absl::string_view asked) const;
  // Whether some path of `candidates` is one the rule would allow: for a
  // program that cannot be found, so that the answer (NOT_FOUND or
  // PERMISSION_DENIED) never tells a client which files exist.
  bool MayAllowAnyOf(Rpc rpc, const std::vector<std::string>& candidates) const;
  // The refusal of CheckExecutable, for a program that was not found.
  absl::Status RefuseExecutable(absl::string_view identity, Rpc rpc,
                                absl::string_view asked) const;
  absl::Status CheckClientEnv(absl::string_view identity,
                              absl::string_view name) const;
  // Whether client_env allows setting `name`: a name of the shell's kind
  // ([A-Za-z_][A-Za-z0-9_]*) that a glob matches (CheckClientEnv without
  // the refusal: for the caller's environment, which is filtered).
  bool AllowsClientEnv(absl::string_view name) const;
  // `cwd`: canonical; `asked`: as the call gave it, what a refusal says.
  // With no cwd_roots, any cwd is refused.
  absl::Status CheckCwd(absl::string_view identity, absl::string_view cwd,
                        absl::string_view asked) const;

  // The variables of `environ` that `pass_env` names: what a child starts
  // from, and what a client's clear_env clears.
  std::vector<std::pair<std::string, std::string>> PassedEnvironment(
      char** environ) const;
  // The rule's `env`, which applies whatever the client asks (clear_env
  // included): only client_env lets a client override one of them.
  const std::vector<std::pair<std::string, std::string>>& Environment() const {
    return env_;
  }
  // The cwd of a call that names none: the first root, or "" (rexecd's).
  std::string DefaultCwd() const;
  // The timeout a call gets when it asks for `asked` (zero: none).
  absl::StatusOr<absl::Duration> Timeout(absl::string_view identity,
                                         absl::Duration asked) const;
  absl::Status CheckKillGrace(absl::string_view identity,
                              absl::Duration grace) const;
  // The grace of a call that asks for none: `fallback`, within the rule.
  absl::Duration DefaultKillGrace(absl::Duration fallback) const;
  // 0: no limit of the rule's own.
  uint32_t max_processes() const { return max_processes_; }
  // The umask of a child whose call asked `asked`: OR-ed with the rule's
  // `umask`, which is what a call that asked none gets.
  std::optional<mode_t> Umask(std::optional<mode_t> asked) const;

  // Run-as (policy_containment.cc). `asked`: as the call wrote it, for the
  // refusal; `name` and `id`: what it resolved to, which the rule's entries
  // are matched against (ids against numbers, names against globs). For a
  // name that is nobody's, `asked` and -1, so that only a caller the rule
  // would allow learns that it does not exist.
  absl::Status CheckUser(absl::string_view identity, absl::string_view asked,
                         absl::string_view name, int64_t id) const;
  absl::Status CheckGroup(absl::string_view identity, absl::string_view asked,
                          absl::string_view name, int64_t id) const;
  // The user of a call that names none; "": rexecd's own.
  const std::string& default_user() const { return default_user_; }
  // The limits a call gets: what it asked for, with the rule's for what it
  // did not; PERMISSION_DENIED naming limits.FIELD for one over the rule's.
  absl::StatusOr<v1::ResourceLimits> Limits(
      absl::string_view identity, const v1::ResourceLimits& asked) const;
  const v1::CgroupLimits& cgroup_limits() const { return cgroup_; }
  // A mask of 1 << CAP_*.
  uint64_t capabilities() const { return capabilities_; }
  v1::PolicyRule::Isolation isolation() const { return isolation_; }
  v1::PolicyRule::Seccomp seccomp() const { return seccomp_; }

 private:
  friend class Policy;
  absl::Status Refuse(absl::string_view identity, absl::string_view what,
                      absl::string_view field) const;

  // The steps of Policy::Compile for one rule at `at` ("rules[2]"): each
  // fills its part, or names the first field it refuses.
  using Refusal = std::optional<PolicyFieldError>;
  Refusal CompileWho(const v1::PolicyRule& in, const std::string& at);
  Refusal CompileWhat(const v1::PolicyRule& in, const std::string& at);
  Refusal CompileWhere(const v1::PolicyRule& in, const std::string& at);
  Refusal CompileLimits(const v1::PolicyRule& in, const std::string& at);
  Refusal CompileContainment(const v1::PolicyRule& in, const std::string& at);
  // Copies the names or globs of field `field` into `to`; an empty one is
  // refused as `empty`.
  static Refusal CopyNames(
      const std::string& at, absl::string_view field,
      const google::protobuf::RepeatedPtrField<std::string>& from,
      std::vector<std::string>* to, absl::string_view empty);

  std::string name_;
  std::vector<std::string> identities_;
  bool rpcs_[6] = {};  // by Rpc, but kLookPath
  struct Executable {
    std::string pattern;  // canonical (see CanonicalGlob)
    std::string name;     // as written, for a literal path through a symlink
  };
  std::vector<Executable> executables_[3];  // programs, shells, runtimes
  std::vector<std::pair<std::string, std::string>> env_;
  std::vector<std::string> pass_env_;
  std::vector<std::string> client_env_;
  std::vector<std::string> cwd_roots_;
  absl::Duration max_timeout_ = absl::ZeroDuration();  // zero: no limit
  absl::Duration default_timeout_ = absl::ZeroDuration();
  absl::Duration max_kill_grace_ = absl::ZeroDuration();
  uint32_t max_processes_ = 0;
  std::optional<mode_t> umask_;
  std::vector<std::string> users_;
  std::string default_user_;
  std::vector<std::string> groups_;
  v1::ResourceLimits limits_;
  v1::CgroupLimits cgroup_;
  uint64_t capabilities_ = 0;
  v1::PolicyRule::Isolation isolation_ = v1::PolicyRule::NO_ISOLATION;
  v1::PolicyRule::Seccomp seccomp_ = v1::PolicyRule::DEFAULT;
};

class Policy {
 public:
  // A policy file's size limit: a policy is a few KiB.
  static constexpr size_t kMaxBytes = 1 << 20;

  // Reads, parses (JSON or YAML) and validates a policy file.
  // INVALID_ARGUMENT "FILE:LINE:COL: FIELD: what is wrong" for a file that
  // does not parse or validate; the read error for one that cannot be read.
  static absl::StatusOr<std::shared_ptr<const Policy>> Load(
      const std::string& path);
  // The same for text already read; `source` names it in errors.
  static absl::StatusOr<std::shared_ptr<const Policy>> Parse(
      absl::string_view text, absl::string_view source);
  // Validates a policy message; errors are (field path, message), e.g.
  // ("rules[0].rpcs[1]", "unknown RPC \"spawn\": ...").
  using FieldError = PolicyFieldError;
  static absl::StatusOr<std::shared_ptr<const Policy>> Compile(
      const v1::Policy& proto, FieldError* error);

  // The call's rule, or PERMISSION_DENIED when no rule matches.
  absl::StatusOr<const PolicyRule*> RuleFor(absl::string_view identity) const;

  size_t rule_count() const { return rules_.size(); }

  // Names of the rules that may run a child as root (uid 0): one whose
  // default is the server's own user when that is root, or whose users
  // allow root. No capabilities and no_new_privs do not make such a child
  // safe: it owns every root-owned file.
  std::vector<std::string> RulesRunningAsRoot(bool server_is_root) const;

 private:
  std::vector<PolicyRule> rules_;
};

}  // namespace rexec::auth

#endif  // REXEC_SERVER_AUTH_POLICY_H_
