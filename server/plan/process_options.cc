#include "server/plan/process_options.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/signal_name.h"
#include "common/status_macros.h"

namespace rexec::plan {
namespace {

// google.protobuf.Duration's own range: about 10,000 years.
constexpr int64_t kMaxDurationSeconds = 315'576'000'000;

absl::StatusOr<absl::Duration> FromProto(const google::protobuf::Duration& d,
                                         absl::string_view field) {
  if (d.seconds() < 0 || d.nanos() < 0 || d.nanos() >= 1'000'000'000 ||
      d.seconds() > kMaxDurationSeconds) {
    return absl::InvalidArgumentError(
        absl::StrCat("options.", field, " is invalid: ", d.seconds(), "s ",
                     d.nanos(), "ns (it must be a non-negative duration)"));
  }
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

absl::StatusOr<process::TerminalOptions> FromProto(const v1::PtyOptions& pty) {
  process::TerminalOptions terminal;
  terminal.term = pty.term().empty() ? "xterm" : pty.term();
  constexpr size_t kMaxTermLength = 64;
  if (terminal.term.size() > kMaxTermLength ||
      terminal.term.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789._+-") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "options.pty.term \"", absl::CHexEscape(terminal.term.substr(0, 80)),
        "\" is not a terminal type: letters, digits and ._+- only, at most ",
        kMaxTermLength, " bytes"));
  }
  REXEC_ASSIGN_OR_RETURN(
      terminal.size.rows,
      process::WindowDimension(pty.rows(), 24, "options.pty.rows"));
  REXEC_ASSIGN_OR_RETURN(
      terminal.size.cols,
      process::WindowDimension(pty.cols(), 80, "options.pty.cols"));
  return terminal;
}

}  // namespace

absl::Status FromProto(const v1::ProcessOptions& proto,
                       absl::Duration max_kill_grace,
                       process::SpawnOptions* spawn,
                       process::StopPolicy* stop) {
  spawn->env.assign(proto.env().begin(), proto.env().end());
  for (const v1::EnvVar& entry : proto.env_bytes()) {
    spawn->env.emplace_back(entry.name(), entry.value());
  }
  spawn->clear_env = proto.clear_env();
  spawn->cwd = proto.cwd();
  spawn->new_session = proto.new_session();
  if (proto.has_umask()) {
    if (proto.umask() > 0777) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "options.umask is 0%o: a umask is 0 to 0777", proto.umask()));
    }
    spawn->umask = proto.umask();
  }
  if (proto.has_pty()) {
    REXEC_ASSIGN_OR_RETURN(spawn->terminal, FromProto(proto.pty()));
    spawn->stdio = process::TerminalStdio();
  }
  REXEC_ASSIGN_OR_RETURN(stop->timeout, FromProto(proto.timeout(), "timeout"));
  REXEC_ASSIGN_OR_RETURN(absl::Duration grace,
                         FromProto(proto.kill_grace(), "kill_grace"));
  if (grace > max_kill_grace) {
    // A child that ignores kill_signal holds its slot, and a server's
    // shutdown, for its whole grace.
    return absl::InvalidArgumentError(absl::StrCat(
        "options.kill_grace is ", absl::FormatDuration(grace),
        ", over this server's limit of ", absl::FormatDuration(max_kill_grace),
        " (--max-kill-grace)"));
  }
  stop->kill_grace = grace > absl::ZeroDuration()
                         ? grace
                         : std::min(stop->kill_grace, max_kill_grace);
  if (!proto.kill_signal().empty()) {
    absl::StatusOr<int> sig = ParseSignal(proto.kill_signal());
    if (!sig.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("options.kill_signal: ", sig.status().message()));
    }
    stop->kill_signal = *sig;
  }
  return absl::OkStatus();
}

}  // namespace rexec::plan
