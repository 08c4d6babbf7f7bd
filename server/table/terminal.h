// Terminal is a supervised child's pseudo-terminal as the server sees it:
// the job in its foreground, its size as last set, and its EOF key. The
// terminal's fd belongs to the Child; this only looks through it.
//
// For the supervisor's executor thread; not thread-safe.
#ifndef REXEC_SERVER_TABLE_TERMINAL_H_
#define REXEC_SERVER_TABLE_TERMINAL_H_

#include <sys/types.h>

#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/process/pty.h"
#include "server/process/unique_fd.h"
#include "server/table/exit_report.h"

namespace rexec::table {

// The size `request` asks for: its 0s keep `current`'s. INVALID_ARGUMENT
// over 65535, which no terminal has (attachments check before they post).
absl::StatusOr<process::WindowSize> WindowSizeOf(WindowRequest request,
                                                 process::WindowSize current);

class Terminal {
 public:
  // Without a terminal, `master` is not valid and nothing here applies.
  // `leader` leads the child's session (its pid).
  void Attach(const process::UniqueFd* master, pid_t leader,
              process::WindowSize size) {
    master_ = master;
    leader_ = leader;
    size_ = size;
  }
  bool valid() const { return master_ != nullptr && master_->Valid(); }

  // The terminal's foreground group, when it is still a group of the
  // child's session: tcsetpgrp only takes a group of the session, but the
  // terminal keeps naming a group after its last member died, and that id
  // may be another user's group by now (an attacker's child can arrange
  // it). nullopt then, or without a terminal.
  std::optional<pid_t> ForegroundGroup() const;
  // The EOF character, what close_stdin sends to a terminal (as ssh does);
  // nullopt without one, or when the child disabled it.
  std::optional<char> Eof() const;
  // Sets the size (checked by WindowSizeOf).
  absl::Status Resize(WindowRequest request);

 private:
  const process::UniqueFd* master_ = nullptr;
  pid_t leader_ = 0;
  process::WindowSize size_;
};

}  // namespace rexec::table

#endif  // REXEC_SERVER_TABLE_TERMINAL_H_
