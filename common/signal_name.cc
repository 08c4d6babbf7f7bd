#include "common/signal_name.h"

#include <signal.h>
#include <string.h>

#include <algorithm>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace rexec {

namespace {

// A realtime signal, which has no abbreviation: "34" (as SignalName writes
// it, after "SIG"), "RTMIN", "RTMIN+2", "RTMAX-1" (as kill(1) does). Only
// SIGRTMIN..SIGRTMAX: the two below are the C library's own.
std::optional<int> RealtimeSignal(absl::string_view bare) {
  int base = 0;
  int sign = 1;
  bool needs_number = true;
  if (absl::ConsumePrefix(&bare, "RTMIN")) {
    base = SIGRTMIN;
    needs_number = absl::ConsumePrefix(&bare, "+");
  } else if (absl::ConsumePrefix(&bare, "RTMAX")) {
    base = SIGRTMAX;
    sign = -1;
    needs_number = absl::ConsumePrefix(&bare, "-");
  }
  int number = 0;
  if (needs_number) {
    if (bare.empty() ||
        !std::all_of(bare.begin(), bare.end(),
                     [](char c) { return absl::ascii_isdigit(c); }) ||
        !absl::SimpleAtoi(bare, &number)) {
      return std::nullopt;
    }
  } else if (!bare.empty()) {
    return std::nullopt;
  }
  const int sig = base + sign * number;
  if (sig < SIGRTMIN || sig > SIGRTMAX) return std::nullopt;
  return sig;
}

}  // namespace

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
  if (std::optional<int> realtime = RealtimeSignal(bare)) return *realtime;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown signal name \"", name, "\""));
}

std::string SignalName(int signal_number) {
  const char* abbrev = sigabbrev_np(signal_number);
  if (abbrev == nullptr) return absl::StrCat("SIG", signal_number);
  return absl::StrCat("SIG", abbrev);
}

}  // namespace rexec
