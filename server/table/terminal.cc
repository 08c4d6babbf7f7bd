#include "server/table/terminal.h"

#include <unistd.h>

#include "common/status_macros.h"

namespace rexec::table {
absl::StatusOr<process::WindowSize> WindowSizeOf(WindowRequest request,
                                                 process::WindowSize current) {
  process::WindowSize size;
  REXEC_ASSIGN_OR_RETURN(
      size.rows,
      process::WindowDimension(request.rows, current.rows, "resize.rows"));
  REXEC_ASSIGN_OR_RETURN(
      size.cols,
      process::WindowDimension(request.cols, current.cols, "resize.cols"));
  return size;
}

std::optional<pid_t> Terminal::ForegroundGroup() const {
  if (!valid()) return std::nullopt;
  // The group must still lead a process of the child's session. (The
  // session is the child's: its pid, or its PID namespace's init's.) A
  // group that does not is left alone; the child's own group is signalled.
  std::optional<pid_t> group = process::ForegroundGroup(master_->Get());
  if (!group || getpgid(*group) != *group || getsid(*group) != leader_) {
    return std::nullopt;
  }
  return group;
}

std::optional<char> Terminal::Eof() const {
  if (!valid()) return std::nullopt;
  return process::EofCharacter(master_->Get());
}

absl::Status Terminal::Resize(WindowRequest request) {
  REXEC_ASSIGN_OR_RETURN(process::WindowSize size,
                         WindowSizeOf(request, size_));
  size_ = size;
  return process::SetWindowSize(master_->Get(), size_);
}

}  // namespace rexec::table
