#include "client/child_session.h"

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "client/printable.h"
#include "common/signal_name.h"

namespace rexec::client {

absl::StatusOr<int> ShellExitCode(const v1::ExitStatus& exit) {
  if (exit.has_code()) {
    if (exit.code() < 0 || exit.code() > 255) {
      return absl::OutOfRangeError(absl::StrCat(
          "the server sent an exit code of ", exit.code(), ", outside 0-255"));
    }
    return exit.code();
  }
  if (exit.has_signal()) {
    absl::StatusOr<int> sig = ParseSignal(exit.signal());
    if (!sig.ok()) {
      return absl::OutOfRangeError(
          absl::StrCat("the server sent an exit by signal \"",
                       Printable(exit.signal()), "\", which Linux does not have"));
    }
    return 128 + *sig;
  }
  return absl::OutOfRangeError(
      "the server sent an exit with neither a code nor a signal");
}

}  // namespace rexec::client
