// The CLI's own terminal during a remote terminal session (`rexec spawn
// -t`): the rule for when a session gets a terminal, raw mode on the local
// one and its restoration on every way out, and its window size.
//
// Raw mode is process-wide state: EnterRawMode() and RestoreLocalTerminal()
// may be called from any thread; RestoreLocalTerminal() is also safe in a
// signal handler and before std::_Exit (it only calls tcsetattr).
#ifndef REXEC_CLIENT_LOCAL_TERMINAL_H_
#define REXEC_CLIENT_LOCAL_TERMINAL_H_

#include <optional>
#include <string>
#include <vector>

#include "rexec/v1/child_process.pb.h"

namespace rexec::client {

enum class TerminalChoice { kAuto, kForce, kNone };  // default, -t, -T

// Whether `rexec spawn` asks for a terminal: -t always, -T never; by
// default (as ssh does for a login) when rexec's own stdin and stdout are
// both terminals and argv[0] names an interactive program (a shell, a
// REPL, an editor, a pager or a monitor: InteractivePrograms()) not given
// a command with -c.
bool WantsTerminal(TerminalChoice choice, const std::vector<std::string>& argv,
                   int in_fd, int out_fd);

// The programs the default rule treats as interactive, by basename.
const std::vector<std::string>& InteractivePrograms();

// options.pty for the session: TERM from ours (else "xterm") and the
// window size of `fd` when it is a terminal.
v1::PtyOptions LocalPtyOptions(int fd);

// The window size of `fd`, when it is a terminal.
std::optional<v1::Resize> LocalWindowSize(int fd);

// Puts `fd` (a terminal) in raw mode, as ssh -t does, and registers its
// restoration at exit. False when `fd` is not a terminal (nothing changed).
bool EnterRawMode(int fd);

// Puts back the settings EnterRawMode() found. Idempotent.
void RestoreLocalTerminal();

}  // namespace rexec::client

#endif  // REXEC_CLIENT_LOCAL_TERMINAL_H_
