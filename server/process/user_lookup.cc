#include "server/process/user_lookup.h"

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace rexec::process {
namespace {

// Entries with hundreds of members need more than sysconf's suggestion;
// past this, an entry is not one we can use.
constexpr size_t kMaxEntryBuffer = 1 << 20;
// The group of a user id with no passwd entry: the kernel's overflow gid
// ("nogroup"), never one that happens to share the number (gid 27 is sudo
// on Debian).
constexpr gid_t kOverflowGid = 65534;

bool ParseId(absl::string_view text, uint32_t* id) {
  return !text.empty() &&
         text.find_first_not_of("0123456789") == absl::string_view::npos &&
         absl::SimpleAtoi(text, id) && *id != static_cast<uint32_t>(-1);
}

// Calls `lookup(buffer, size, &found)` with a growing buffer while it says
// ERANGE.
template <typename Lookup>
int WithBuffer(Lookup lookup) {
  for (size_t size = 4096; size <= kMaxEntryBuffer; size *= 4) {
    std::string buffer(size, '\0');
    const int error = lookup(buffer.data(), size);
    if (error != ERANGE) return error;
  }
  return ERANGE;
}

}  // namespace

absl::StatusOr<UserEntry> LookUpUser(absl::string_view name_or_id) {
  uint32_t id = 0;
  const bool by_id = ParseId(name_or_id, &id);
  const std::string name(name_or_id);
  UserEntry entry;
  bool found = false;
  const int error = WithBuffer([&](char* buffer, size_t size) {
    passwd pw, *result = nullptr;
    const int e = by_id ? getpwuid_r(id, &pw, buffer, size, &result)
                        : getpwnam_r(name.c_str(), &pw, buffer, size, &result);
    if (e == 0 && result != nullptr) {
      found = true;
      entry.name = pw.pw_name;
      entry.uid = pw.pw_uid;
      entry.gid = pw.pw_gid;
      if (pw.pw_dir != nullptr && pw.pw_dir[0] != '\0') entry.home = pw.pw_dir;
      if (pw.pw_shell != nullptr && pw.pw_shell[0] != '\0') {
        entry.shell = pw.pw_shell;
      }
    }
    return e;
  });
  if (found) return entry;
  if (by_id) {
    entry.uid = id;
    entry.gid = kOverflowGid;
    return entry;
  }
  if (error != 0 && error != ENOENT && error != ESRCH) {
    return absl::UnavailableError(
        absl::StrCat("cannot look up user \"", name, "\": ", strerror(error)));
  }
  return absl::NotFoundError(
      absl::StrCat("no user \"", name, "\" on this server"));
}

absl::StatusOr<GroupEntry> LookUpGroup(absl::string_view name_or_id) {
  uint32_t id = 0;
  const bool by_id = ParseId(name_or_id, &id);
  const std::string name(name_or_id);
  GroupEntry entry;
  bool found = false;
  const int error = WithBuffer([&](char* buffer, size_t size) {
    group gr, *result = nullptr;
    const int e = by_id ? getgrgid_r(id, &gr, buffer, size, &result)
                        : getgrnam_r(name.c_str(), &gr, buffer, size, &result);
    if (e == 0 && result != nullptr) {
      found = true;
      entry.name = gr.gr_name;
      entry.gid = gr.gr_gid;
    }
    return e;
  });
  if (found) return entry;
  if (by_id) {
    entry.gid = id;
    return entry;
  }
  if (error != 0 && error != ENOENT && error != ESRCH) {
    return absl::UnavailableError(
        absl::StrCat("cannot look up group \"", name, "\": ", strerror(error)));
  }
  return absl::NotFoundError(
      absl::StrCat("no group \"", name, "\" on this server"));
}

std::vector<gid_t> GroupsOf(const UserEntry& user) {
  if (user.name.empty()) return {user.gid};
  int count = 64;
  std::vector<gid_t> groups(count);
  while (getgrouplist(user.name.c_str(), user.gid, groups.data(), &count) < 0) {
    if (count <= static_cast<int>(groups.size()) || count > 65536) {
      return {user.gid};
    }
    groups.resize(count);
  }
  groups.resize(count);
  return groups;
}

std::vector<gid_t> CurrentGroups() {
  // Sized by the kernel's count, not NGROUPS_MAX (256 KiB per call).
  std::vector<gid_t> groups(std::max(getgroups(0, nullptr), 0));
  const int n = getgroups(static_cast<int>(groups.size()), groups.data());
  groups.resize(std::max(n, 0));
  return groups;
}

bool AreCurrentGroups(std::vector<gid_t> groups) {
  std::vector<gid_t> now = CurrentGroups();
  for (std::vector<gid_t>* list : {&now, &groups}) {
    std::sort(list->begin(), list->end());
    list->erase(std::unique(list->begin(), list->end()), list->end());
  }
  return now == groups;
}

bool HasEffectiveCapability(int cap) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

}  // namespace rexec::process
