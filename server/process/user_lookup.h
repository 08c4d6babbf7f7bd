// Users and groups by name or numeric id, from the system's databases
// (getpwnam_r, getgrnam_r, getgrouplist: /etc/passwd, or NSS), and whether
// this process may switch to them. Thread-safe (the _r functions).
#ifndef REXEC_SERVER_PROCESS_USER_LOOKUP_H_
#define REXEC_SERVER_PROCESS_USER_LOOKUP_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rexec::process {

struct UserEntry {
  std::string name;  // "" for an id with no passwd entry
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home = "/";
  std::string shell = "/bin/sh";
};

struct GroupEntry {
  std::string name;  // "" for an id with no group entry
  gid_t gid = 0;
};

// A name, or a decimal id. An id with no entry is a user of that id (as a
// container runtime runs a numeric runAsUser) in group 65534 (nogroup),
// HOME "/" and SHELL "/bin/sh". NOT_FOUND for an unknown name.
absl::StatusOr<UserEntry> LookUpUser(absl::string_view name_or_id);
absl::StatusOr<GroupEntry> LookUpGroup(absl::string_view name_or_id);

// The supplementary groups initgroups(3) would give `user` (its own group
// among them).
std::vector<gid_t> GroupsOf(const UserEntry& user);

// This process's supplementary groups.
std::vector<gid_t> CurrentGroups();
// Whether `groups` are this process's supplementary groups, in any order.
bool AreCurrentGroups(std::vector<gid_t> groups);

// Whether this process has capability `cap` (CAP_*) in its effective set.
bool HasEffectiveCapability(int cap);

}  // namespace rexec::process

#endif  // REXEC_SERVER_PROCESS_USER_LOOKUP_H_
