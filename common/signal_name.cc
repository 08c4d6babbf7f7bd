#include "common/signal_name.h"

#include <signal.h>
#include <string.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace rexec {

absl::StatusOr<int> ParseSignal(absl::string_view name) {
  std::string upper = absl::AsciiStrToUpper(name);
  absl::string_view bare = upper;
  absl::ConsumePrefix(&bare, "SIG");
  if (!bare.empty()) {
    for (int sig = 1; sig < NSIG; ++sig) {
      const char* abbrev = sigabbrev_np(sig);
      if (abbrev != nullptr && bare == abbrev) return sig;
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown signal name \"", name, "\""));
}

std::string SignalName(int signal_number) {
  const char* abbrev = sigabbrev_np(signal_number);
  if (abbrev == nullptr) return absl::StrCat("SIG", signal_number);
  return absl::StrCat("SIG", abbrev);
}

}  // namespace rexec
