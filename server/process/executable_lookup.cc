#include "server/process/executable_lookup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/errno_status.h"

namespace rexec::process {

absl::StatusOr<std::vector<std::string>> ExecutableCandidates(
    absl::string_view program, std::optional<absl::string_view> path,
    absl::string_view cwd) {
  if (program.find('/') != absl::string_view::npos) {
    return std::vector<std::string>{std::string(program)};
  }
  std::string default_path;
  if (!path.has_value()) {
    size_t n = confstr(_CS_PATH, nullptr, 0);
    default_path.resize(n);
    confstr(_CS_PATH, default_path.data(), n);
    default_path.resize(n > 0 ? n - 1 : 0);
    path = default_path;
  }
  const size_t entries = std::count(path->begin(), path->end(), ':') + 1;
  if (entries > kMaxPathEntries) {
    return absl::InvalidArgumentError(
        absl::StrCat("spawn ", program, ": PATH has ", entries,
                     " entries, more than ", kMaxPathEntries));
  }
  std::vector<std::string> candidates;
  for (absl::string_view dir : absl::StrSplit(*path, ':')) {
    if (dir.empty()) dir = ".";
    if (dir.front() != '/' && !cwd.empty()) {
      candidates.push_back(absl::StrCat(cwd, "/", dir, "/", program));
    } else {
      candidates.push_back(absl::StrCat(dir, "/", program));
    }
  }
  return candidates;
}

absl::StatusOr<std::string> FindExecutable(
    absl::string_view program, std::optional<absl::string_view> path,
    absl::string_view cwd) {
  if (program.find('/') != absl::string_view::npos) return std::string(program);
  absl::StatusOr<std::vector<std::string>> candidates =
      ExecutableCandidates(program, path, cwd);
  if (!candidates.ok()) return candidates.status();
  std::string not_executable;
  for (const std::string& candidate : *candidates) {
    struct stat st;
    if (stat(candidate.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    if (not_executable.empty()) not_executable = candidate;
  }
  if (!not_executable.empty()) {
    return absl::PermissionDeniedError(
        absl::StrCat("spawn ", program, ": ", not_executable,
                     " is not executable (EACCES)"));
  }
  return absl::NotFoundError(
      absl::StrCat("spawn ", program, ": not found in PATH (ENOENT)"));
}

absl::StatusOr<std::string> CanonicalPath(absl::string_view path,
                                          absl::string_view cwd) {
  std::string full(path);
  if (!path.empty() && path.front() != '/' && !cwd.empty()) {
    full = absl::StrCat(cwd, "/", path);
  }
  std::unique_ptr<char, decltype(&free)> resolved(
      realpath(full.c_str(), nullptr), &free);
  if (resolved == nullptr) {
    return ErrnoStatus(errno, absl::StrCat("resolve ", full));
  }
  return std::string(resolved.get());
}

}  // namespace rexec::process
