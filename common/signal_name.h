// Conversions between signal numbers and their names ("SIGINT"), as clients
// write them: with or without the SIG prefix, in any case ("int", "SIGTERM").
#ifndef REXEC_COMMON_SIGNAL_NAME_H_
#define REXEC_COMMON_SIGNAL_NAME_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rexec {

// INVALID_ARGUMENT naming the text when it is no signal this system knows.
// A realtime signal is "SIG34" (what SignalName gives), "SIGRTMIN+2" or
// "SIGRTMAX-1".
absl::StatusOr<int> ParseSignal(absl::string_view name);

// "SIGKILL" for 9; "SIG<n>" for a number without a name.
std::string SignalName(int signal_number);

}  // namespace rexec

#endif  // REXEC_COMMON_SIGNAL_NAME_H_
