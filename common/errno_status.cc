#include "common/errno_status.h"

#include <string.h>

#include "absl/strings/str_cat.h"

namespace rexec {

absl::Status ErrnoStatus(int error_number, absl::string_view context) {
  const char* name = strerrorname_np(error_number);
  return absl::Status(
      absl::ErrnoToStatusCode(error_number),
      absl::StrCat(
          context, ": ", strerror(error_number), " (",
          name != nullptr ? name : absl::StrCat("errno ", error_number), ")"));
}

}  // namespace rexec
