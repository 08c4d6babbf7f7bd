#include "server/process/pty.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"

namespace rexec::process {
namespace {

absl::Status PtyError(int error_number, absl::string_view what) {
  absl::Status status = ErrnoStatus(error_number, what);
  if (error_number == EAGAIN || error_number == EMFILE ||
      error_number == ENFILE || error_number == ENOSPC ||
      error_number == ENOMEM) {
    return absl::ResourceExhaustedError(status.message());
  }
  return status;
}

}  // namespace

absl::StatusOr<PtyPair> OpenPty(WindowSize size) {
  PtyPair pair;
  pair.master.Reset(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK));
  if (!pair.master.Valid()) return PtyError(errno, "open a pty (posix_openpt)");
  // TIOCGPTPEER opens the slave through the master, not by a path that
  // another process could race us for.
  if (unlockpt(pair.master.Get()) != 0) {
    return PtyError(errno, "unlock the pty (unlockpt)");
  }
  pair.slave.Reset(ioctl(pair.master.Get(), TIOCGPTPEER,
                         O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!pair.slave.Valid()) return PtyError(errno, "open the pty's slave");
  if (absl::Status status = SetWindowSize(pair.master.Get(), size);
      !status.ok()) {
    return status;
  }
  return pair;
}

absl::StatusOr<uint16_t> WindowDimension(uint32_t value, uint16_t current,
                                         absl::string_view field) {
  if (value > 0xffff) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is ", value, ": a terminal has at most 65535"));
  }
  return value == 0 ? current : static_cast<uint16_t>(value);
}

absl::Status SetWindowSize(int master, WindowSize size) {
  winsize ws{};
  ws.ws_row = size.rows;
  ws.ws_col = size.cols;
  if (ioctl(master, TIOCSWINSZ, &ws) != 0) {
    return ErrnoStatus(errno, "set the terminal's window size");
  }
  return absl::OkStatus();
}

std::optional<char> EofCharacter(int master) {
  termios t{};
  if (tcgetattr(master, &t) != 0) return '\x04';
  if (t.c_cc[VEOF] == _POSIX_VDISABLE) return std::nullopt;
  return static_cast<char>(t.c_cc[VEOF]);
}

std::optional<pid_t> ForegroundGroup(int master) {
  const pid_t group = tcgetpgrp(master);
  if (group <= 0) return std::nullopt;
  return group;
}

}  // namespace rexec::process
