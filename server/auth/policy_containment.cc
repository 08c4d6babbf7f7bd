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

// An entry of `users` or `groups` allows a name or an id if it is that id,
// or a glob of that name; the text as the call wrote it counts too.
bool Allows(const std::vector<std::string>& entries, absl::string_view asked,
            absl::string_view name, int64_t id) {
  const std::string id_text = id >= 0 ? absl::StrCat(id) : "";
  for (const std::string& entry : entries) {
    for (absl::string_view subject :
         {asked, name, absl::string_view(id_text)}) {
      if (subject.empty()) continue;
      if (fnmatch(entry.c_str(), std::string(subject).c_str(), 0) == 0) {
        return true;
      }
    }
  }
  return false;
}

std::optional<PolicyFieldError> Refused(std::string path, std::string message) {
  return PolicyFieldError{std::move(path), std::move(message)};
}

}  // namespace

absl::Status PolicyRule::CheckUser(absl::string_view identity,
                                   absl::string_view asked,
                                   absl::string_view name, int64_t id) const {
  if (Allows(users_, asked, name, id)) return absl::OkStatus();
  return Refuse(identity, absl::StrCat("running as user ", asked), "users");
}

absl::Status PolicyRule::CheckGroup(absl::string_view identity,
                                    absl::string_view asked,
                                    absl::string_view name, int64_t id) const {
  if (Allows(groups_, asked, name, id)) return absl::OkStatus();
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
  if (!default_user_.empty() && !Allows(users_, default_user_, "", -1)) {
    // Whether the name is a user is for rexecd to say when a call comes:
    // users may be added after the policy.
    return Refused(
        absl::StrCat(at, ".default_user"),
        absl::StrCat("\"", default_user_, "\" is not one of the rule's users"));
  }
  limits_ = in.limits();
  cgroup_ = in.cgroup();
  if (cgroup_.has_memory_max_bytes() && cgroup_.memory_max_bytes() == 0) {
    return Refused(absl::StrCat(at, ".cgroup.memory_max_bytes"),
                   "0 bytes would kill every process at once");
  }
  if (cgroup_.has_pids_max() && cgroup_.pids_max() == 0) {
    return Refused(absl::StrCat(at, ".cgroup.pids_max"),
                   "0 would let no process start");
  }
  if (cgroup_.has_cpu_millis() && cgroup_.cpu_millis() == 0) {
    return Refused(absl::StrCat(at, ".cgroup.cpu_millis"),
                   "0 would let no process run");
  }
  for (int i = 0; i < in.capabilities_size(); ++i) {
    cap_value_t cap;
    const std::string name = absl::AsciiStrToLower(in.capabilities(i));
    if (cap_from_name(name.c_str(), &cap) != 0 || cap < 0 || cap > 63) {
      return Refused(absl::StrCat(at, ".capabilities[", i, "]"),
                     absl::StrCat("\"", in.capabilities(i),
                                  "\" is not a capability like "
                                  "CAP_NET_BIND_SERVICE"));
    }
    capabilities_ |= uint64_t{1} << cap;
  }
  isolation_ = in.isolation();
  return std::nullopt;
}

}  // namespace rexec::auth
