// A child's stdio: how each of its fds is made (StdioKind: a pipe, a
// socket, /dev/null, or its terminal's slave), and MakeStdio, which makes
// them before the launch: the child's ends, to be dup2-ed onto their
// targets, and ours (non-blocking, close-on-exec), with the terminal's
// master. Every fd is close-on-exec. MakeStdio may be called from any
// thread; what it makes belongs to its caller.
#ifndef REXEC_SERVER_PROCESS_STDIO_H_
#define REXEC_SERVER_PROCESS_STDIO_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/process/launch_spec.h"
#include "server/process/pty.h"
#include "server/process/unique_fd.h"

namespace rexec::process {

// How one of the child's fds is made (folly's Subprocess has one option
// per fd in the same way).
enum class StdioKind {
  kPipe,    // a pipe: we write to fd 0's, read the others'
  kNull,    // /dev/null
  kPty,     // the slave of the child's terminal (SpawnOptions::terminal)
  kSocket,  // a unix stream socket pair, e.g. Node's IPC channel
};

struct StdioFd {
  int target;  // the child's fd number, below kStdioTargets
  StdioKind kind;
};

// The child's fds that stdio may name: 0, 1, 2 and the IPC channel's 3.
inline constexpr int kStdioTargets = 4;

// A terminal for the child (ssh -t): its TERM and window size.
struct TerminalOptions {
  std::string term;
  WindowSize size;
};

// The stdio for a terminal: fds 0, 1 and 2 all on its slave.
std::vector<StdioFd> TerminalStdio();

// The child's stdio, made as `stdio` says: what it gets (in the order of
// `targets`), and what we keep.
struct StdioEnds {
  std::vector<UniqueFd> child;
  std::vector<int> targets;
  UniqueFd ours[kStdioTargets];
  UniqueFd terminal;
  int controlling_tty = -1;  // the first pty target
};

// Makes the fds of `stdio` (checked by ValidateSpawnOptions) and, with
// `terminal`, a pseudo-terminal that the child's user (`owner`) owns.
// Errors are SpawnError's, naming `program`.
absl::StatusOr<StdioEnds> MakeStdio(
    const std::vector<StdioFd>& stdio,
    const std::optional<TerminalOptions>& terminal,
    const std::optional<Credentials>& owner, absl::string_view program);

}  // namespace rexec::process

#endif  // REXEC_SERVER_PROCESS_STDIO_H_
