// Turns a failed syscall into an absl::Status that says what was attempted on
// what, with the errno's name (LevelDB's PosixError):
//   ErrnoStatus(ENOENT, "spawn /usr/bin/nope")
//   -> NOT_FOUND "spawn /usr/bin/nope: No such file or directory (ENOENT)"
#ifndef REXEC_COMMON_ERRNO_STATUS_H_
#define REXEC_COMMON_ERRNO_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace rexec {

absl::Status ErrnoStatus(int error_number, absl::string_view context);

}  // namespace rexec

#endif  // REXEC_COMMON_ERRNO_STATUS_H_
