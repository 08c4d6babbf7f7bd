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

}  // namespace rexec

#endif  // REXEC_COMMON_BOUNDED_FILE_H_
