#include "client/session_commands.h"

#include <unistd.h>

#include <cstdio>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "client/call_output.h"
#include "client/command_support.h"
#include "client/printable.h"

namespace rexec::client {
namespace {

void Configure(grpc::ClientContext* ctx, const SessionOptions& options) {
  if (options.deadline) {
    ctx->set_deadline(absl::ToChronoTime(*options.deadline));
  }
  if (!options.bearer_token.empty()) {
    ctx->AddMetadata("authorization", "Bearer " + options.bearer_token);
  }
}

std::string State(const v1::SessionInfo& info) {
  if (info.state() != v1::SESSION_STATE_ENDED) return "running";
  const v1::ExitStatus& exit = info.exit();
  return exit.has_code() ? absl::StrCat("exited ", exit.code())
                         : absl::StrCat("killed ", exit.signal());
}

std::string Age(const v1::SessionInfo& info) {
  const absl::Duration age =
      absl::Now() - absl::FromUnixSeconds(info.start_time().seconds());
  if (age < absl::Minutes(1)) {
    return absl::StrCat(absl::ToInt64Seconds(age), "s");
  }
  if (age < absl::Hours(1)) {
    return absl::StrCat(absl::ToInt64Minutes(age), "m");
  }
  if (age < absl::Hours(48)) return absl::StrCat(absl::ToInt64Hours(age), "h");
  return absl::StrCat(absl::ToInt64Hours(age) / 24, "d");
}

// Lines of the table, padded to each column's widest cell.
std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out += '\n';
  }
  return out;
}

void WriteLost(int err_fd, const v1::Lost& lost) {
  WriteAll(err_fd,
           absl::StrCat("rexec: ", lost.bytes(), " bytes of ",
                        lost.stderr() ? "stderr" : "stdout",
                        " were no longer kept (--replay-buffer); resuming at "
                        "offset ",
                        lost.resume_offset(), "\n"));
}

}  // namespace

int RunDetachedSpawn(v1::ChildProcess::StubInterface& stub,
                     const v1::SpawnStart& start, int out_fd, int err_fd,
                     const SessionOptions& options) {
  SpawnSession session(stub, start, options);
  v1::SpawnResponse response;
  if (session.Read(&response) && response.has_started()) {
    WriteAll(out_fd,
             absl::StrCat(Printable(response.started().session()), "\n"));
    // Our call goes; the session does not.
    session.Cancel();
    return 0;
  }
  return ReportCallEnd(session.Finish(), err_fd, options.tls);
}

int RunPs(v1::ChildProcess::StubInterface& stub, int out_fd, int err_fd,
          const SessionOptions& options) {
  grpc::ClientContext ctx;
  Configure(&ctx, options);
  v1::ListResponse response;
  grpc::Status status = stub.List(&ctx, v1::ListRequest(), &response);
  if (!status.ok()) return ReportCallEnd(status, err_fd, options.tls);
  std::vector<std::vector<std::string>> rows = {
      {"ID", "NAME", "PID", "STATE", "AGE", "TTY", "OUTPUT", "COMMAND"}};
  for (const v1::SessionInfo& info : response.sessions()) {
    // Every word the server chose is escaped: a session's name and argv
    // are whatever a caller gave.
    rows.push_back({Printable(info.id()),
                    info.name().empty() ? "-" : Printable(info.name()),
                    absl::StrCat(info.pid()), Printable(State(info)),
                    Age(info), info.terminal() ? "yes" : "no",
                    absl::StrCat(info.stdout_end() + info.stderr_end()),
                    Printable(absl::StrJoin(info.argv(), " "))});
  }
  WriteAll(out_fd, Table(rows));
  return 0;
}

// Whether the session has a terminal, from List (before attaching: the
// local terminal must be raw before the first byte comes back); false when
// it is not found (the attach says so).
bool SessionHasTerminal(v1::ChildProcess::StubInterface& stub,
                        const std::string& name,
                        const SessionOptions& options) {
  grpc::ClientContext ctx;
  Configure(&ctx, options);
  v1::ListResponse response;
  if (!stub.List(&ctx, v1::ListRequest(), &response).ok()) return false;
  for (const v1::SessionInfo& info : response.sessions()) {
    if (info.id() == name || info.name() == name) return info.terminal();
  }
  return false;
}

int RunAttach(v1::ChildProcess::StubInterface& stub, const std::string& name,
              std::optional<uint64_t> from, TerminalChoice choice, int in_fd,
              int out_fd, int err_fd, const sigset_t& signals,
              const SessionOptions& options) {
  v1::AttachStart start;
  start.set_session(name);
  if (from) start.set_stdout_from(*from);
  const bool terminal =
      choice == TerminalChoice::kForce ||
      (choice == TerminalChoice::kAuto && isatty(in_fd) && isatty(out_fd) &&
       SessionHasTerminal(stub, name, options));
  InputOptions input;
  input.close_on_eof = false;
  if (terminal && EnterRawMode(in_fd)) {
    input.on_detach = [err_fd, name] {
      RestoreLocalTerminal();
      WriteAll(err_fd, absl::StrCat("\r\nrexec: detached from ", name,
                                    "; it runs on (rexec attach ", name,
                                    " to come back)\n"));
    };
  }
  struct Restore {
    ~Restore() { RestoreLocalTerminal(); }
  } restore;
  AttachSession* session = OpenSession<AttachSession>(
      stub, start, options, in_fd, signals, err_fd, std::move(input));
  std::optional<int> code = WriteCallOutput(
      *session, out_fd, err_fd,
      [&](const v1::AttachResponse& response) -> std::optional<int> {
        switch (response.event_case()) {
          case v1::AttachResponse::kAttached:
            if (std::optional<v1::Resize> size = LocalWindowSize(in_fd);
                size && terminal && response.attached().session().terminal()) {
              // A size that differs, then ours: the program redraws its
              // screen (a resize to the same size is no change, and no
              // SIGWINCH).
              session->Resize(size->rows() + 1, size->cols() + 1);
              session->Resize(size->rows(), size->cols());
            }
            return std::nullopt;
          case v1::AttachResponse::kLost:
            WriteLost(err_fd, response.lost());
            return std::nullopt;
          case v1::AttachResponse::kExit:
            RestoreLocalTerminal();  // before anything is said after it
            return ExitCode(response.exit(), err_fd);
          default:
            return std::nullopt;
        }
      });
  if (code) return *code;
  const grpc::Status status = session->Finish();
  RestoreLocalTerminal();
  return ReportCallEnd(status, err_fd, options.tls);
}

int RunLogs(v1::ChildProcess::StubInterface& stub, const std::string& name,
            std::optional<uint64_t> from, bool follow, int out_fd, int err_fd,
            const SessionOptions& options) {
  v1::AttachStart start;
  start.set_session(name);
  if (from) start.set_stdout_from(*from);
  start.set_output_only(true);
  start.set_no_follow(!follow);
  AttachSession session(stub, start, options);
  session.WritesDone();
  std::optional<int> code = WriteCallOutput(
      session, out_fd, err_fd,
      [&](const v1::AttachResponse& response) -> std::optional<int> {
        if (response.has_lost()) WriteLost(err_fd, response.lost());
        return std::nullopt;
      });
  if (code) return *code;
  grpc::Status status = session.Finish();
  return status.ok() ? 0 : ReportCallEnd(status, err_fd, options.tls);
}

int RunKill(v1::ChildProcess::StubInterface& stub, const std::string& name,
            const std::string& signal, int err_fd,
            const SessionOptions& options) {
  grpc::ClientContext ctx;
  Configure(&ctx, options);
  v1::KillRequest request;
  request.set_session(name);
  request.set_signal(signal);
  v1::KillResponse response;
  grpc::Status status = stub.Kill(&ctx, request, &response);
  return status.ok() ? 0 : ReportCallEnd(status, err_fd, options.tls);
}

void SessionCommands::AddTo(CLI::App& app) {
  ps_ = app.add_subcommand("ps", "list your sessions (spawn --detach)");
  attach_ = app.add_subcommand(
      "attach",
      "attach to a session: its output from --from (default: the oldest "
      "kept), then live; stdin and signals go to it; Ctrl-P Ctrl-Q "
      "leaves it running");
  attach_->add_option("session", session_, "the session's id or name")
      ->required();
  attach_->add_option("--from", from_, "the stdout byte offset to replay from");
  attach_->add_flag("-t,--tty", force_tty_,
                    "put the local terminal in raw mode (default: when the "
                    "session has a terminal and so does rexec)");
  attach_->add_flag("-T,--no-tty", no_tty_, "never raw")
      ->excludes(attach_->get_option("--tty"));
  logs_ =
      app.add_subcommand("logs", "print what a session's log keeps (no stdin)");
  logs_->add_option("session", session_, "the session's id or name")
      ->required();
  logs_->add_option("--from", from_, "the stdout byte offset to start at");
  logs_->add_flag("-f,--follow", follow_, "then live output, until it ends");
  kill_ = app.add_subcommand("kill", "send a signal to a session");
  kill_->add_option("-s,--signal", signal_, "the signal (default SIGTERM)");
  kill_->add_option("session", session_, "the session's id or name")
      ->required();
}

const CLI::App* SessionCommands::Chosen() const {
  for (const CLI::App* command : {ps_, attach_, logs_, kill_}) {
    if (command->parsed()) return command;
  }
  return nullptr;
}

int SessionCommands::Run(const Target& target) {
  // Only an attachment takes signals to the session; the others leave.
  const SignalUse use =
      attach_->parsed() ? SignalUse::kForwardWithWindow : SignalUse::kLeave;
  return RunOnServer(target.connect, use, [&](const Call& call) {
    if (ps_->parsed()) {
      return RunPs(call.stub, STDOUT_FILENO, STDERR_FILENO, call.session);
    }
    if (attach_->parsed()) {
      return RunAttach(call.stub, session_, from_,
                       force_tty_ ? TerminalChoice::kForce
                       : no_tty_  ? TerminalChoice::kNone
                                  : TerminalChoice::kAuto,
                       STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO, call.signals,
                       call.session);
    }
    if (logs_->parsed()) {
      return RunLogs(call.stub, session_, from_, follow_, STDOUT_FILENO,
                     STDERR_FILENO, call.session);
    }
    return RunKill(call.stub, session_, signal_, STDERR_FILENO, call.session);
  });
}

}  // namespace rexec::client
