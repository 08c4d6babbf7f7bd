#include "client/command_support.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "client/connection.h"
#include "client/printable.h"

namespace rexec::client {

bool WriteAll(int fd, absl::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n > 0) {
      done += n;
    } else if (errno != EINTR) {
      return false;
    }
  }
  return true;
}

std::string TimeoutNote(const google::protobuf::Duration& timeout) {
  return absl::StrCat("rexec: timed out after ",
                      absl::FormatDuration(absl::Seconds(timeout.seconds()) +
                                           absl::Nanoseconds(timeout.nanos())),
                      "; the child was stopped\n");
}

int ReportCallEnd(const grpc::Status& status, int err_fd, bool tls) {
  WriteAll(err_fd,
           absl::StrCat("rexec: ",
                        status.ok()
                            ? "the server ended the call without an exit status"
                            : absl::StrCat(absl::StatusCodeToString(
                                               static_cast<absl::StatusCode>(
                                                   status.error_code())),
                                           ": ", Printable(status.error_message())),
                        "\n"));
  if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
      (absl::StrContains(status.error_message(), "larger than max") ||
       absl::StrContains(status.error_message(), "Buffers full"))) {
    WriteAll(err_fd,
             "rexec: the server sent a message over rexec's receive limit "
             "(4 MiB; for exec, 2 x --max-buffer + 64 KiB): the call was "
             "ended\n");
  }
  if (std::string hint = ExplainConnectFailure(status, tls); !hint.empty()) {
    WriteAll(err_fd, absl::StrCat("rexec: ", hint, "\n"));
  }
  return StartFailureExitCode(status);
}

int StartFailureExitCode(const grpc::Status& status) {
  const std::string text = status.error_message();  // a copy, not a ref
  absl::string_view message = text;
  if (status.ok() || !absl::ConsumePrefix(&message, "spawn ")) {
    return kRpcErrorExitCode;
  }
  // After the program's name, only a reason: a step's failure names the
  // step ("spawn ls: cwd /x: ...").
  const size_t colon = message.find(": ");
  if (colon == absl::string_view::npos) return kRpcErrorExitCode;
  absl::string_view reason = message.substr(colon + 2);
  if (absl::StrContains(reason, ": ")) return kRpcErrorExitCode;
  if (absl::EndsWith(reason, "(ENOENT)")) return kNotFoundExitCode;
  for (absl::string_view cannot_run :
       {"(EACCES)", "(EPERM)", "(ENOEXEC)", "(ENOTDIR)", "(EISDIR)",
        "(ETXTBSY)", "(ELOOP)", "(ENAMETOOLONG)"}) {
    if (absl::EndsWith(reason, cannot_run)) return kCannotRunExitCode;
  }
  return kRpcErrorExitCode;
}

void LeaveOnSignals(const sigset_t& signals) {
  std::thread([signals] {
    int sig = 0;
    while (sigwait(&signals, &sig) == 0) {
      if (sig == SIGWINCH) continue;
      RestoreLocalTerminal();
      std::_Exit(128 + sig);
    }
  }).detach();
}

int ExitCode(const v1::ExitStatus& exit, int err_fd) {
  absl::StatusOr<int> code = ShellExitCode(exit);
  if (code.ok()) return *code;
  WriteAll(err_fd, absl::StrCat("rexec: ", code.status().message(), "\n"));
  return kRpcErrorExitCode;
}

bool SplitAtDetachKeys(std::string& data, bool* held) {
  constexpr char kCtrlP = 0x10, kCtrlQ = 0x11;
  std::string out;
  if (*held) {
    *held = false;
    if (!data.empty() && data[0] == kCtrlQ) {
      data.clear();
      return true;
    }
    out += kCtrlP;  // a Ctrl-P that was not a detach: it goes after all
  }
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] != kCtrlP) {
      out += data[i];
    } else if (i + 1 == data.size()) {
      *held = true;  // decided by the next chunk
    } else if (data[i + 1] == kCtrlQ) {
      data = std::move(out);
      return true;
    } else {
      out += data[i];
    }
  }
  data = std::move(out);
  return false;
}

}  // namespace rexec::client
