// A pseudo-terminal for one child, as sshd's pty.c makes one: the master
// stays with us (non-blocking, close-on-exec), the slave becomes the
// child's controlling terminal and its fds 0, 1 and 2 (SpawnOptions::
// terminal). Free functions over the master fd; they keep no state and
// are safe from any thread for different fds.
#ifndef REXEC_SERVER_PROCESS_PTY_H_
#define REXEC_SERVER_PROCESS_PTY_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/process/unique_fd.h"

namespace rexec::process {

// struct winsize's fields are unsigned short.
struct WindowSize {
  uint16_t rows = 24;
  uint16_t cols = 80;
};

struct PtyPair {
  UniqueFd master;  // non-blocking, close-on-exec
  UniqueFd slave;   // close-on-exec, opened without becoming our terminal
};

// RESOURCE_EXHAUSTED when the system has no pty left (or we hit a limit).
absl::StatusOr<PtyPair> OpenPty(WindowSize size);

// The child's foreground process group gets SIGWINCH from the kernel.
absl::Status SetWindowSize(int master, WindowSize size);
// One dimension of a size a client asks for: `current` for 0;
// INVALID_ARGUMENT naming `field` over 65535, which no terminal has.
absl::StatusOr<uint16_t> WindowDimension(uint32_t value, uint16_t current,
                                         absl::string_view field);

// The terminal's EOF character (c_cc[VEOF], ^D unless the child changed
// it); nullopt when the child disabled it.
std::optional<char> EofCharacter(int master);

// The terminal's foreground process group, as the child's shell set it
// (tcsetpgrp: only a group of the child's own session, but the terminal
// keeps its id after its last member died: check it before use); nullopt
// when none.
std::optional<pid_t> ForegroundGroup(int master);

}  // namespace rexec::process

#endif  // REXEC_SERVER_PROCESS_PTY_H_
