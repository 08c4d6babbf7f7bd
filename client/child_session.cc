#include "client/child_session.h"

#include "absl/status/statusor.h"
#include "common/signal_name.h"

namespace rexec::client {

int ShellExitCode(const v1::ExitStatus& exit) {
  if (exit.has_code()) return exit.code();
  absl::StatusOr<int> sig = ParseSignal(exit.signal());
  return 128 + (sig.ok() ? *sig : 0);
}

}  // namespace rexec::client
