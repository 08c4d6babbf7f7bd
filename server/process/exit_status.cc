#include "server/process/exit_status.h"

#include "absl/strings/str_cat.h"
#include "common/signal_name.h"

namespace rexec::process {

ExitStatus ExitStatus::FromSiginfo(const siginfo_t& info) {
  if (info.si_code == CLD_EXITED) return Exited(info.si_status);
  return Killed(info.si_status, info.si_code == CLD_DUMPED);
}

std::string ExitStatus::ToString() const {
  if (exited()) return absl::StrCat("exited with code ", code_);
  return absl::StrCat("killed by ", SignalName(signal_),
                      core_dumped_ ? " (core dumped)" : "");
}

}  // namespace rexec::process
