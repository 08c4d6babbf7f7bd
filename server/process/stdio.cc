#include "server/process/stdio.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/process/spawn_error.h"

namespace rexec::process {
namespace {

// The child's end of a pipe or socket, and ours (non-blocking).
struct PipeEnds {
  UniqueFd child;
  UniqueFd ours;
};

PipeEnds Ends(int child, int ours) {
  PipeEnds ends{UniqueFd(child), UniqueFd(ours)};
  // Fresh from pipe2 or socketpair, its status flags are only its access
  // mode, which F_SETFL leaves alone: no F_GETFL needed.
  fcntl(ours, F_SETFL, O_NONBLOCK);
  return ends;
}

absl::StatusOr<PipeEnds> MakePipe(bool child_reads, absl::string_view program) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return SpawnError(errno, program);
  return child_reads ? Ends(fds[0], fds[1]) : Ends(fds[1], fds[0]);
}

// Only our end is non-blocking: the child gets a blocking socket, as
// Node's fork gives.
absl::StatusOr<PipeEnds> MakeSocketPair(absl::string_view program) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return SpawnError(errno, program);
  }
  return Ends(fds[1], fds[0]);
}

}  // namespace

std::vector<StdioFd> TerminalStdio() {
  return {{0, StdioKind::kPty}, {1, StdioKind::kPty}, {2, StdioKind::kPty}};
}

absl::StatusOr<StdioEnds> MakeStdio(
    const std::vector<StdioFd>& stdio_fds,
    const std::optional<TerminalOptions>& terminal,
    const std::optional<Credentials>& owner, absl::string_view program) {
  StdioEnds stdio;
  UniqueFd slave;
  if (terminal) {
    absl::StatusOr<PtyPair> pty = OpenPty(terminal->size);
    if (!pty.ok()) {
      return absl::Status(
          pty.status().code(),
          absl::StrCat("spawn ", program, ": ", pty.status().message()));
    }
    stdio.terminal = std::move(pty->master);
    slave = std::move(pty->slave);
    // Its user owns its terminal, as with sshd (a server that cannot
    // chown keeps it; the child has its fds open either way).
    if (owner) {
      (void)!fchown(slave.Get(), owner->uid, static_cast<gid_t>(-1));
      fchmod(slave.Get(), 0620);
    }
  }
  for (const StdioFd& fd : stdio_fds) {
    PipeEnds ends;
    switch (fd.kind) {
      case StdioKind::kPipe: {
        REXEC_ASSIGN_OR_RETURN(ends, MakePipe(fd.target == 0, program));
        break;
      }
      case StdioKind::kSocket: {
        REXEC_ASSIGN_OR_RETURN(ends, MakeSocketPair(program));
        break;
      }
      case StdioKind::kNull:
        ends.child.Reset(open("/dev/null", O_RDWR | O_CLOEXEC));
        if (!ends.child.Valid()) return SpawnError(errno, program);
        break;
      case StdioKind::kPty:
        ends.child.Reset(fcntl(slave.Get(), F_DUPFD_CLOEXEC, 0));
        if (!ends.child.Valid()) return SpawnError(errno, program);
        if (stdio.controlling_tty < 0) stdio.controlling_tty = fd.target;
        break;
    }
    stdio.child.push_back(std::move(ends.child));
    stdio.targets.push_back(fd.target);
    stdio.ours[fd.target] = std::move(ends.ours);
  }
  return stdio;
}

}  // namespace rexec::process
