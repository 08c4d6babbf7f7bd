// Reads a whole configuration file (a policy, a token file, a certificate)
// with a bound on its size, so that a file that is not what it should be
// (a device, a log grown by mistake) cannot make us read without end.
#ifndef REXEC_COMMON_BOUNDED_FILE_H_
#define REXEC_COMMON_BOUNDED_FILE_H_

#include <string>

#include "absl/status/statusor.h"

namespace rexec {

// The contents of `path`. Errors name the path: those of open/read (with
// the errno's name), and RESOURCE_EXHAUSTED past `max_bytes`.
absl::StatusOr<std::string> ReadBoundedFile(const std::string& path,
                                            size_t max_bytes);

// The same, for a file that is replaced while the server runs (a policy):
// only a whole version of it. UNAVAILABLE, naming the path, while another
// process has it open for writing (as far as the kernel's read leases can
// tell: for the file's owner or root) or when it changed during the read.
// A writer closing the file or renaming a new one into place is seen by
// FileWatcher, and the file is read again then.
absl::StatusOr<std::string> ReadFinishedFile(const std::string& path,
                                             size_t max_bytes);

}  // namespace rexec

#endif  // REXEC_COMMON_BOUNDED_FILE_H_
