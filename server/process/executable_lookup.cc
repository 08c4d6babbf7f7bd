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

absl::Status CheckPathLength(absl::string_view path, absl::string_view what) {
  if (path.size() >= PATH_MAX) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is ", path.size(),
                                                   " bytes: a path is under ",
                                                   PATH_MAX, " (PATH_MAX)"));
  }
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part.size() > NAME_MAX) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " has a name of ", part.size(),
                       " bytes: a name is at most ", NAME_MAX, " (NAME_MAX)"));
    }
  }
  return absl::OkStatus();
}

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
    const bool from_cwd = dir.front() != '/' && !cwd.empty();
    const size_t size =
        (from_cwd ? cwd.size() + 1 : 0) + dir.size() + 1 + program.size();
    if (size >= PATH_MAX) continue;  // no file has it: ENAMETOOLONG
    candidates.push_back(from_cwd ? absl::StrCat(cwd, "/", dir, "/", program)
                                  : absl::StrCat(dir, "/", program));
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
  return FirstExecutable(program, *candidates);
}

absl::StatusOr<std::string> FirstExecutable(
    absl::string_view program, const std::vector<std::string>& candidates) {
  if (program.find('/') != absl::string_view::npos && !candidates.empty()) {
    return candidates.front();
  }
  std::string not_executable;
  for (const std::string& candidate : candidates) {
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
