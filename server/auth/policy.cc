#include "server/auth/policy.h"

#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace rexec::auth {
namespace {

// What a rule's `rpcs` may name: every RPC but LookPath, which asks what a
// Spawn would run and is governed by the rule's programs.
constexpr absl::string_view kRpcNames[] = {"Spawn",  "Exec", "Fork", "List",
                                           "Attach", "Kill"};
constexpr absl::string_view kAllRpcNames[] = {
    "Spawn", "Exec", "Fork", "List", "Attach", "Kill", "LookPath"};
constexpr absl::string_view kExecutableFields[] = {"programs", "shells",
                                                   "runtimes"};

bool Matches(const std::vector<std::string>& globs, absl::string_view text) {
  const std::string subject(text);
  for (const std::string& glob : globs) {
    if (fnmatch(glob.c_str(), subject.c_str(), 0) == 0) return true;
  }
  return false;
}

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

// The path as the filesystem has it when the policy is loaded (symlinks
// resolved), or as written when it does not exist.
std::string Canonical(const std::string& path) {
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr) return path;
  return resolved;
}

// Calls are matched on the file that runs, symlinks resolved; so is the
// rule, or "/bin/sh" would never match (it runs /usr/bin/dash on Debian).
// For a glob, the literal directories before its first wildcard.
std::string CanonicalGlob(const std::string& glob) {
  const size_t wild = glob.find_first_of("*?[");
  if (wild == std::string::npos) return Canonical(glob);
  const size_t slash = glob.rfind('/', wild);
  if (slash == 0 || slash == std::string::npos) return glob;
  return absl::StrCat(Canonical(glob.substr(0, slash)), glob.substr(slash));
}

bool Inside(absl::string_view path, absl::string_view root) {
  if (root == "/") return absl::StartsWith(path, "/");
  return path == root ||
         (absl::StartsWith(path, root) && path[root.size()] == '/');
}

bool ValidEnvName(absl::string_view name) {
  return !name.empty() && name.find('=') == absl::string_view::npos &&
         name.find('\0') == absl::string_view::npos;
}

// A name of the shell's kind ([A-Za-z_][A-Za-z0-9_]*): the only ones a
// client_env glob can let a client set. A glob's '*' matches any byte, and
// a name holding a newline or '=' could read as two entries to whatever
// parses an environment by lines.
bool PortableEnvName(absl::string_view name) {
  if (name.empty() || absl::ascii_isdigit(name.front())) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return absl::ascii_isalnum(c) || c == '_'; });
}

}  // namespace

absl::string_view RpcName(Rpc rpc) {
  return kAllRpcNames[static_cast<int>(rpc)];
}

absl::Status PolicyRule::Refuse(absl::string_view identity,
                                absl::string_view what,
                                absl::string_view field) const {
  return absl::PermissionDeniedError(
      absl::StrCat("identity \"", identity, "\": rule \"", name_,
                   "\" does not allow ", what, " (", field, ")"));
}

absl::Status PolicyRule::CheckRpc(absl::string_view identity, Rpc rpc) const {
  const size_t i = static_cast<size_t>(rpc);
  if (i < std::size(rpcs_) && rpcs_[i]) return absl::OkStatus();
  return Refuse(identity, absl::StrCat(RpcName(rpc), " calls"), "rpcs");
}

absl::StatusOr<std::string> PolicyRule::CheckExecutable(
    absl::string_view identity, Rpc rpc, absl::string_view path,
    absl::string_view asked) const {
  const int i = static_cast<int>(rpc);
  const std::string subject(path);
  const Executable* by_name = nullptr;
  for (const Executable& entry : executables_[i]) {
    if (fnmatch(entry.pattern.c_str(), subject.c_str(), 0) != 0) continue;
    if (entry.name.empty()) return std::string();  // the file itself
    if (by_name == nullptr) by_name = &entry;
  }
  if (by_name != nullptr) return by_name->name;
  return RefuseExecutable(identity, rpc, asked);
}

absl::Status PolicyRule::RefuseExecutable(absl::string_view identity, Rpc rpc,
                                          absl::string_view asked) const {
  return Refuse(identity, asked, kExecutableFields[static_cast<int>(rpc)]);
}

bool PolicyRule::MayAllowAnyOf(
    Rpc rpc, const std::vector<std::string>& candidates) const {
  for (const std::string& path : candidates) {
    for (const Executable& entry : executables_[static_cast<int>(rpc)]) {
      if (fnmatch(entry.pattern.c_str(), path.c_str(), 0) == 0) return true;
    }
  }
  return false;
}

bool PolicyRule::AllowsClientEnv(absl::string_view name) const {
  return PortableEnvName(name) && Matches(client_env_, name);
}

absl::Status PolicyRule::CheckClientEnv(absl::string_view identity,
                                        absl::string_view name) const {
  if (AllowsClientEnv(name)) return absl::OkStatus();
  // Any bytes of any length: escaped and cut to a short line of text.
  return Refuse(identity,
                absl::StrCat("setting ", absl::CHexEscape(name.substr(0, 80))),
                "client_env");
}

absl::Status PolicyRule::CheckCwd(absl::string_view identity,
                                  absl::string_view cwd,
                                  absl::string_view asked) const {
  for (const std::string& root : cwd_roots_) {
    if (Inside(cwd, root)) return absl::OkStatus();
  }
  return Refuse(identity, absl::StrCat("cwd ", asked), "cwd_roots");
}

std::vector<std::pair<std::string, std::string>> PolicyRule::PassedEnvironment(
    char** environ) const {
  std::vector<std::pair<std::string, std::string>> env;
  if (!pass_env_.empty()) {
    for (char** e = environ; *e != nullptr; ++e) {
      const char* eq = std::strchr(*e, '=');
      if (eq == nullptr) continue;
      std::string name(*e, eq - *e);
      if (Matches(pass_env_, name)) env.emplace_back(std::move(name), eq + 1);
    }
  }
  return env;
}

std::string PolicyRule::DefaultCwd() const {
  return cwd_roots_.empty() ? "" : cwd_roots_[0];
}

absl::StatusOr<absl::Duration> PolicyRule::Timeout(absl::string_view identity,
                                                   absl::Duration asked) const {
  if (asked == absl::ZeroDuration()) {
    return default_timeout_ > absl::ZeroDuration() ? default_timeout_
                                                   : max_timeout_;
  }
  if (max_timeout_ > absl::ZeroDuration() && asked > max_timeout_) {
    return Refuse(identity,
                  absl::StrCat("a timeout of ", absl::FormatDuration(asked)),
                  "max_timeout");
  }
  return asked;
}

absl::Status PolicyRule::CheckKillGrace(absl::string_view identity,
                                        absl::Duration grace) const {
  if (max_kill_grace_ == absl::ZeroDuration() || grace <= max_kill_grace_) {
    return absl::OkStatus();
  }
  return Refuse(identity,
                absl::StrCat("a kill_grace of ", absl::FormatDuration(grace)),
                "max_kill_grace");
}

absl::Duration PolicyRule::DefaultKillGrace(absl::Duration fallback) const {
  if (max_kill_grace_ == absl::ZeroDuration()) return fallback;
  return std::min(fallback, max_kill_grace_);
}

absl::StatusOr<const PolicyRule*> Policy::RuleFor(
    absl::string_view identity) const {
  for (const PolicyRule& rule : rules_) {
    if (Matches(rule.identities_, identity)) return &rule;
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "identity \"", identity, "\": no rule of the policy is for it"));
}

PolicyRule::Refusal PolicyRule::CopyNames(
    const std::string& at, absl::string_view field,
    const google::protobuf::RepeatedPtrField<std::string>& from,
    std::vector<std::string>* to, absl::string_view empty) {
  for (int i = 0; i < from.size(); ++i) {
    if (from.Get(i).empty()) {
      return FieldRefused(absl::StrCat(at, ".", field, "[", i, "]"),
                          std::string(empty));
    }
    to->push_back(from.Get(i));
  }
  return std::nullopt;
}

PolicyRule::Refusal PolicyRule::CompileWho(const v1::PolicyRule& in,
                                           const std::string& at) {
  if (in.identities().empty()) {
    return FieldRefused(
        absl::StrCat(at, ".identities"),
        "a rule needs at least one identity (a name or a glob)");
  }
  for (int i = 0; i < in.identities_size(); ++i) {
    if (in.identities(i).empty()) {
      return FieldRefused(absl::StrCat(at, ".identities[", i, "]"),
                          "an identity cannot be empty");
    }
    identities_.push_back(in.identities(i));
  }
  for (int i = 0; i < in.rpcs_size(); ++i) {
    const auto* name =
        std::find(std::begin(kRpcNames), std::end(kRpcNames), in.rpcs(i));
    if (name == std::end(kRpcNames)) {
      return FieldRefused(absl::StrCat(at, ".rpcs[", i, "]"),
                          absl::StrCat("unknown RPC \"", in.rpcs(i),
                                       "\": expected Spawn, Exec, Fork, List, "
                                       "Attach or Kill"));
    }
    rpcs_[name - std::begin(kRpcNames)] = true;
  }
  return std::nullopt;
}

PolicyRule::Refusal PolicyRule::CompileWhat(const v1::PolicyRule& in,
                                            const std::string& at) {
  const google::protobuf::RepeatedPtrField<std::string>* lists[] = {
      &in.programs(), &in.shells(), &in.runtimes()};
  for (int k = 0; k < 3; ++k) {
    for (int i = 0; i < lists[k]->size(); ++i) {
      const std::string& glob = lists[k]->Get(i);
      if (glob.empty() || glob.front() != '/') {
        return FieldRefused(
            absl::StrCat(at, ".", kExecutableFields[k], "[", i, "]"),
            absl::StrCat("\"", glob,
                         "\" is not an absolute path or glob: a rule names "
                         "the file that runs, after the PATH lookup"));
      }
      Executable& entry = executables_[k].emplace_back();
      entry.pattern = CanonicalGlob(glob);
      if (glob.find_first_of("*?[") == std::string::npos &&
          entry.pattern != glob) {
        entry.name = glob;
      }
    }
  }
  return std::nullopt;
}

PolicyRule::Refusal PolicyRule::CompileWhere(const v1::PolicyRule& in,
                                             const std::string& at) {
  for (const auto& [name, value] : in.env()) {
    if (!ValidEnvName(name)) {
      return FieldRefused(
          absl::StrCat(at, ".env"),
          absl::StrCat("\"", name, "\" is not a variable name"));
    }
    env_.emplace_back(name, value);
  }
  // Sorted: a map has no order, and children should not see one that
  // changes from start to start.
  std::sort(env_.begin(), env_.end());
  for (const auto& [field, from, to] :
       {std::tuple{"pass_env", &in.pass_env(), &pass_env_},
        std::tuple{"client_env", &in.client_env(), &client_env_}}) {
    if (Refusal refusal = CopyNames(
            at, field, *from, to, "a variable name or glob cannot be empty")) {
      return refusal;
    }
  }
  for (int i = 0; i < in.cwd_roots_size(); ++i) {
    absl::string_view root = in.cwd_roots(i);
    if (root.empty() || root.front() != '/') {
      return FieldRefused(
          absl::StrCat(at, ".cwd_roots[", i, "]"),
          absl::StrCat("\"", root, "\" is not an absolute path"));
    }
    while (root.size() > 1 && absl::ConsumeSuffix(&root, "/")) {
    }
    cwd_roots_.push_back(Canonical(std::string(root)));
  }
  return std::nullopt;
}

PolicyRule::Refusal PolicyRule::CompileLimits(const v1::PolicyRule& in,
                                              const std::string& at) {
  struct DurationField {
    const char* name;
    const google::protobuf::Duration& value;
    absl::Duration* out;
  };
  for (const DurationField& d :
       {DurationField{"max_timeout", in.max_timeout(), &max_timeout_},
        DurationField{"default_timeout", in.default_timeout(),
                      &default_timeout_},
        DurationField{"max_kill_grace", in.max_kill_grace(),
                      &max_kill_grace_}}) {
    *d.out = FromProto(d.value);
    if (*d.out < absl::ZeroDuration()) {
      return FieldRefused(absl::StrCat(at, ".", d.name),
                          "a duration cannot be negative");
    }
  }
  if (max_timeout_ > absl::ZeroDuration() && default_timeout_ > max_timeout_) {
    return FieldRefused(absl::StrCat(at, ".default_timeout"),
                        "the default timeout is over max_timeout");
  }
  max_processes_ = in.max_processes();
  if (!in.umask().empty()) {
    const std::string& text = in.umask();
    if (text.size() > 4 ||
        text.find_first_not_of("01234567") != std::string::npos ||
        std::stoul(text, nullptr, 8) > 0777) {
      return FieldRefused(
          absl::StrCat(at, ".umask"),
          absl::StrCat("\"", absl::CHexEscape(text.substr(0, 40)),
                       "\" is not a umask: octal digits, 0 to 0777, "
                       "e.g. \"022\""));
    }
    umask_ = static_cast<mode_t>(std::stoul(text, nullptr, 8));
  }
  return std::nullopt;
}

std::optional<mode_t> PolicyRule::Umask(std::optional<mode_t> asked) const {
  if (!umask_) return asked;
  return asked.value_or(0) | *umask_;
}

absl::StatusOr<std::shared_ptr<const Policy>> Policy::Compile(
    const v1::Policy& proto, FieldError* error) {
  auto policy = std::make_shared<Policy>();
  for (int r = 0; r < proto.rules_size(); ++r) {
    const v1::PolicyRule& in = proto.rules(r);
    const std::string at = absl::StrCat("rules[", r, "]");
    PolicyRule& rule = policy->rules_.emplace_back();
    rule.name_ = in.name().empty() ? at : in.name();
    PolicyRule::Refusal refusal = rule.CompileWho(in, at);
    if (!refusal) refusal = rule.CompileWhat(in, at);
    if (!refusal) refusal = rule.CompileWhere(in, at);
    if (!refusal) refusal = rule.CompileLimits(in, at);
    if (!refusal) refusal = rule.CompileContainment(in, at);
    if (refusal) {
      *error = *std::move(refusal);
      return absl::InvalidArgumentError(
          absl::StrCat(error->path, ": ", error->message));
    }
  }
  return std::shared_ptr<const Policy>(std::move(policy));
}

}  // namespace rexec::auth
