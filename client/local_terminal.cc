#include "client/local_terminal.h"

#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>

namespace rexec::client {
namespace {

// What EnterRawMode() found, for RestoreLocalTerminal(): plain globals, as
// a signal handler may read them.
termios saved_settings;
int saved_fd = -1;
std::atomic<bool> raw{false};

std::string Basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

const std::vector<std::string>& InteractivePrograms() {
  static const auto* programs = new std::vector<std::string>{
      "sh",   "bash", "dash", "zsh",   "ksh",   "mksh",   "fish",  "tcsh",
      "csh",  "ash",  "python", "python3", "node", "irb", "psql",  "mysql",
      "sqlite3", "vi", "vim", "nvim",  "nano",  "emacs", "less",  "more",
      "man",  "top",  "htop", "tmux",  "screen"};
  return *programs;
}

bool WantsTerminal(TerminalChoice choice, const std::vector<std::string>& argv,
                   int in_fd, int out_fd) {
  switch (choice) {
    case TerminalChoice::kForce:
      return true;
    case TerminalChoice::kNone:
      return false;
    case TerminalChoice::kAuto:
      break;
  }
  if (argv.empty() || !isatty(in_fd) || !isatty(out_fd)) return false;
  const std::vector<std::string>& programs = InteractivePrograms();
  // `bash -c CMD` and `python3 -c CODE` run a command, as `ssh host CMD`.
  return std::find(programs.begin(), programs.end(), Basename(argv[0])) !=
             programs.end() &&
         std::find(argv.begin() + 1, argv.end(), "-c") == argv.end();
}

std::optional<v1::Resize> LocalWindowSize(int fd) {
  winsize ws{};
  if (ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0 || ws.ws_col == 0) {
    return std::nullopt;
  }
  v1::Resize size;
  size.set_rows(ws.ws_row);
  size.set_cols(ws.ws_col);
  return size;
}

v1::PtyOptions LocalPtyOptions(int fd) {
  v1::PtyOptions pty;
  const char* term = getenv("TERM");
  const std::string name = term == nullptr ? "" : term;
  // The server refuses a TERM it would not set; ours may be anything.
  const bool plain =
      !name.empty() && name.size() <= 64 &&
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
                             "VWXYZ0123456789._+-") == std::string::npos;
  pty.set_term(plain ? name : "xterm");
  if (std::optional<v1::Resize> size = LocalWindowSize(fd)) {
    pty.set_rows(size->rows());
    pty.set_cols(size->cols());
  }
  return pty;
}

bool EnterRawMode(int fd) {
  termios settings;
  if (tcgetattr(fd, &settings) != 0) return false;
  saved_settings = settings;
  saved_fd = fd;
  cfmakeraw(&settings);
  raw.store(true);
  // Also on a plain exit(); std::_Exit paths call RestoreLocalTerminal().
  static const bool registered = (atexit(RestoreLocalTerminal), true);
  (void)registered;
  if (tcsetattr(fd, TCSADRAIN, &settings) != 0) {
    raw.store(false);
    return false;
  }
  return true;
}

void RestoreLocalTerminal() {
  if (!raw.exchange(false)) return;
  tcsetattr(saved_fd, TCSADRAIN, &saved_settings);
}

}  // namespace rexec::client
