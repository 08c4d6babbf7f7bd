// Finds the file a program name refers to, the way execvp does, but in the
// PATH of the child's environment rather than the server's.
#ifndef REXEC_SERVER_PROCESS_EXECUTABLE_LOOKUP_H_
#define REXEC_SERVER_PROCESS_EXECUTABLE_LOOKUP_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rexec::process {

// A PATH longer than this is refused (INVALID_ARGUMENT): each entry costs a
// stat, and the PATH may be the client's.
inline constexpr size_t kMaxPathEntries = 1024;

// INVALID_ARGUMENT, naming `what`, for a path no file can have: PATH_MAX
// bytes or more, or a component over NAME_MAX. Checked before a lookup so
// that its cost is bounded by the request (every PATH entry makes a
// candidate of cwd, entry and program) and so that ENAMETOOLONG never says
// anything about what exists.
absl::Status CheckPathLength(absl::string_view path, absl::string_view what);

// The files `program` may name, in the order FindExecutable tries them:
// itself when it has a slash, else the program in each PATH entry (without
// PATH, the system default path; an empty or relative entry is relative to
// `cwd`); a candidate longer than any path can be is left out.
// INVALID_ARGUMENT for a PATH over kMaxPathEntries.
absl::StatusOr<std::vector<std::string>> ExecutableCandidates(
    absl::string_view program, std::optional<absl::string_view> path,
    absl::string_view cwd);

// A program with a slash is returned as it is (relative to the child's cwd).
// Otherwise each PATH entry is tried in order (an empty or relative entry is
// relative to `cwd`); without PATH, the system default path. NOT_FOUND when
// nothing matches; PERMISSION_DENIED when a match exists but is not
// executable and no executable match does.
absl::StatusOr<std::string> FindExecutable(
    absl::string_view program, std::optional<absl::string_view> path,
    absl::string_view cwd);

// FindExecutable over candidates made already (ExecutableCandidates', or
// those made from them): the one candidate of a program with a slash as it
// is, else the first executable regular file among them.
absl::StatusOr<std::string> FirstExecutable(
    absl::string_view program, const std::vector<std::string>& candidates);

// The absolute path `path` names, with every symlink, "." and ".." resolved
// (realpath); a relative path is taken from `cwd`, or ours when it is empty.
// Errors as the failed syscall: NOT_FOUND, PERMISSION_DENIED...
absl::StatusOr<std::string> CanonicalPath(absl::string_view path,
                                          absl::string_view cwd);

}  // namespace rexec::process

#endif  // REXEC_SERVER_PROCESS_EXECUTABLE_LOOKUP_H_
