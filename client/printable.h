// Text that comes from a server (an error's message, a session's name, a
// `ps` row, a signal's name) made safe to print on a terminal: control
// characters (C0, DEL, C1) and bytes that are not UTF-8 are written as
// escapes (\n, \x1b, \xc2\x9b), so that a server cannot move the cursor,
// retitle the window or write to the clipboard. A child's own output is
// data, and is never passed through this.
#ifndef REXEC_CLIENT_PRINTABLE_H_
#define REXEC_CLIENT_PRINTABLE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace rexec::client {

std::string Printable(absl::string_view text);

}  // namespace rexec::client

#endif  // REXEC_CLIENT_PRINTABLE_H_
