#include "server/process/spawn_error.h"

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"

namespace rexec::process {

absl::Status SpawnError(int error_number, absl::string_view program) {
  absl::Status status =
      ErrnoStatus(error_number, absl::StrCat("spawn ", program));
  switch (error_number) {
    case EAGAIN:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return absl::ResourceExhaustedError(status.message());
    case ENOEXEC:  // not a format the kernel can run (no shell fallback here)
      return absl::FailedPreconditionError(status.message());
    default:
      return status;
  }
}

}  // namespace rexec::process
