// The parts of a rule that fence a child in: the users and groups it may
// run as, its resource limits, its cgroup's, its capabilities and its
// isolation.
#include <fnmatch.h>
#include <sys/capability.h>

#include <optional>
#include <string>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/auth/policy.h"

namespace rexec::auth {
namespace {

bool IsId(absl::string_view text) {
  return !text.empty() &&
         text.find_first_not_of("0123456789") == absl::string_view::npos;
}

// An entry of `users` or `groups` that is a number allows that id; any
// other is a glob of names. Never the other way: "[!r]*", meant to keep
// root out by name, must not let "0" in.
bool Allows(const std::vector<std::string>& entries, absl::string_view name,
            int64_t id) {
  for (const std::string& entry : entries) {
    if (IsId(entry)) {
      uint64_t value;
      if (id >= 0 && absl::SimpleAtoi(entry, &value) &&
          value == static_cast<uint64_t>(id)) {
        return true;
      }
    } else if (!name.empty() &&
               fnmatch(entry.c_str(), std::string(name).c_str(), 0) == 0) {
      return true;
    }
  }
  return false;
}

}  // namespace

absl::Status PolicyRule::CheckUser(absl::string_view identity,
                                   absl::string_view asked,
                                   absl::string_view name, int64_t id) const {
  if (Allows(users_, name, id)) return absl::OkStatus();
  return Refuse(identity, absl::StrCat("running as user ", asked), "users");
}

absl::Status PolicyRule::CheckGroup(absl::string_view identity,
                                    absl::string_view asked,
                                    absl::string_view name, int64_t id) const {
  if (Allows(groups_, name, id)) return absl::OkStatus();
  return Refuse(identity, absl::StrCat("group ", asked), "groups");
}

absl::StatusOr<v1::ResourceLimits> PolicyRule::Limits(
    absl::string_view identity, const v1::ResourceLimits& asked) const {
  v1::ResourceLimits out = asked;
  const google::protobuf::Reflection* reflection = out.GetReflection();
  const google::protobuf::Descriptor* descriptor = out.GetDescriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = descriptor->field(i);
    if (!reflection->HasField(limits_, field)) continue;
    const uint64_t most = reflection->GetUInt64(limits_, field);
    if (!reflection->HasField(out, field)) {
      reflection->SetUInt64(&out, field, most);
    } else if (const uint64_t value = reflection->GetUInt64(out, field);
               value > most) {
      return Refuse(identity,
                    absl::StrCat("limits.", field->name(), " of ", value),
                    absl::StrCat("limits.", field->name()));
    }
  }
  return out;
}

PolicyRule::Refusal PolicyRule::CompileContainment(const v1::PolicyRule& in,
                                                   const std::string& at) {
  for (const auto& [field, from, to] :
       {std::tuple{"users", &in.users(), &users_},
        std::tuple{"groups", &in.groups(), &groups_}}) {
    if (Refusal refusal = CopyNames(at, field, *from, to,
                                    "a name, id or glob cannot be empty")) {
      return refusal;
    }
  }
  default_user_ = in.default_user();
  if (default_user_.empty() && !users_.empty()) {
    // A rule that names users never falls back to rexecd's own (root, as
    // a rule's author may not have meant): its first user is the default,
    // when that names one user.
    if (users_[0].find_first_of("*?[") != std::string::npos) {
      return FieldRefused(
          absl::StrCat(at, ".users[0]"),
          absl::StrCat("\"", users_[0],
                       "\" is a glob, and the rule has no default_user: "
                       "name the user a call runs as when it names none"));
    }
    default_user_ = users_[0];
  }
  uint64_t default_id = 0;
  const bool default_is_id =
      IsId(default_user_) && absl::SimpleAtoi(default_user_, &default_id);
  if (!default_user_.empty() &&
      !Allows(users_, default_is_id ? "" : default_user_,
              default_is_id ? static_cast<int64_t>(default_id) : -1)) {
    // Whether the name is a user is for rexecd to say when a call comes:
    // users may be added after the policy.
    return FieldRefused(
        absl::StrCat(at, ".default_user"),
        absl::StrCat("\"", default_user_, "\" is not one of the rule's users"));
  }
  limits_ = in.limits();
  cgroup_ = in.cgroup();
  if (cgroup_.has_memory_max_bytes() && cgroup_.memory_max_bytes() == 0) {
    return FieldRefused(absl::StrCat(at, ".cgroup.memory_max_bytes"),
                        "0 bytes would kill every process at once");
  }
  if (cgroup_.has_pids_max() && cgroup_.pids_max() == 0) {
    return FieldRefused(absl::StrCat(at, ".cgroup.pids_max"),
                        "0 would let no process start");
  }
  if (cgroup_.has_cpu_millis() && cgroup_.cpu_millis() == 0) {
    return FieldRefused(absl::StrCat(at, ".cgroup.cpu_millis"),
                        "0 would let no process run");
  }
  for (int i = 0; i < in.capabilities_size(); ++i) {
    cap_value_t cap;
    const std::string name = absl::AsciiStrToLower(in.capabilities(i));
    if (cap_from_name(name.c_str(), &cap) != 0 || cap < 0 || cap > 63) {
      return FieldRefused(absl::StrCat(at, ".capabilities[", i, "]"),
                          absl::StrCat("\"", in.capabilities(i),
                                       "\" is not a capability like "
                                       "CAP_NET_BIND_SERVICE"));
    }
    capabilities_ |= uint64_t{1} << cap;
  }
  isolation_ = in.isolation();
  seccomp_ = in.seccomp();
  return std::nullopt;
}

std::vector<std::string> Policy::RulesRunningAsRoot(bool server_is_root) const {
  std::vector<std::string> names;
  for (const PolicyRule& rule : rules_) {
    const bool by_default =
        rule.default_user_.empty()
            ? server_is_root
            : rule.default_user_ == "root" || rule.default_user_ == "0";
    if (by_default || Allows(rule.users_, "root", 0)) {
      names.push_back(rule.name());
    }
  }
  return names;
}

}  // namespace rexec::auth
