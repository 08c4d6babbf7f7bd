#include "client/spawn_command.h"

#include <unistd.h>

#include "CLI/CLI.hpp"
#include "client/call_output.h"
#include "client/child_session.h"
#include "client/command_support.h"
#include "client/fan_out.h"
#include "client/local_terminal.h"
#include "client/session_commands.h"

namespace rexec::client {

int RunSpawnCommand(v1::ChildProcess::StubInterface& stub,
                    const v1::SpawnStart& start, int in_fd, int out_fd,
                    int err_fd, const sigset_t& signals,
                    const SessionOptions& options) {
  // Raw before the first byte can come back: a terminal's output already
  // has its \r\n, and what is typed goes out as typed (Ctrl-C included,
  // which the remote terminal turns into SIGINT).
  if (start.options().has_pty()) EnterRawMode(in_fd);
  struct Restore {
    ~Restore() { RestoreLocalTerminal(); }
  } restore;
  SpawnSession* session =
      OpenSession<SpawnSession>(stub, start, options, in_fd, signals, err_fd);

  std::optional<int> code = WriteCallOutput(
      *session, out_fd, err_fd,
      [&](const v1::SpawnResponse& response) -> std::optional<int> {
        if (!response.has_exit()) return std::nullopt;
        // What is said after the session is said on the terminal as it
        // was (a raw one would not return the carriage).
        RestoreLocalTerminal();
        if (response.exit().reason() == v1::TERMINATION_REASON_TIMED_OUT) {
          WriteAll(err_fd, TimeoutNote(start.options().timeout()));
        } else if (response.exit().reason() ==
                   v1::TERMINATION_REASON_SERVER_SHUTDOWN) {
          WriteAll(err_fd, kServerShutdownNote);
        }
        return ExitCode(response.exit(), err_fd);
      });
  if (code) return *code;
  const grpc::Status status = session->Finish();
  RestoreLocalTerminal();
  return ReportCallEnd(status, err_fd, options.tls);
}

void SpawnCommand::AddTo(CLI::App& app) {
  command_ = app.add_subcommand(
      "spawn",
      "run PROGRAM with ARGs remotely, streaming stdin, stdout and stderr");
  process_flags_.AddTo(command_);
  command_->add_option("command", argv_, "PROGRAM [ARG...] (after --)")
      ->required();
  command_->add_flag("--detach", detach_,
                     "start it as a session that outlives rexec: print its "
                     "id and leave (see ps, attach, logs, kill)");
  command_->add_option("--name", session_name_,
                       "with --detach: a name for the session (unique "
                       "among yours)");
  command_->add_flag("-t,--tty", force_tty_,
                     "give the command a terminal (raw local terminal, "
                     "window size forwarded), even when rexec's stdin or "
                     "stdout is not one");
  command_
      ->add_flag("-T,--no-tty", no_tty_,
                 "no terminal. Default: a terminal when stdin and stdout "
                 "are terminals and the command is a shell, REPL, editor, "
                 "pager or top")
      ->excludes(command_->get_option("--tty"));
}

const CLI::App* SpawnCommand::Chosen() const {
  return command_->parsed() ? command_ : nullptr;
}

void SpawnCommand::Validate(Target& target) {
  if (!target.fan_out.empty() && detach_) {
    throw CLI::ValidationError(
        "--detach", "a session lives on one server: not with several");
  }
  *start_.mutable_options() = process_flags_.ToProto();
  for (const std::string& arg : argv_) start_.add_argv(arg);
  if (!session_name_.empty() && !detach_) {
    throw CLI::ValidationError("--name", "names a session: needs --detach");
  }
  start_.mutable_options()->set_detach(detach_);
  start_.mutable_options()->set_name(session_name_);
  if (WantsTerminal(force_tty_ ? TerminalChoice::kForce
                    : no_tty_  ? TerminalChoice::kNone
                               : TerminalChoice::kAuto,
                    argv_, STDIN_FILENO, STDOUT_FILENO)) {
    if (!target.fan_out.empty()) {
      throw CLI::ValidationError(
          "--tty",
          "a terminal is for one server: not with --all, "
          "--hosts or a repeated --server (use -T)");
    }
    *start_.mutable_options()->mutable_pty() = LocalPtyOptions(STDIN_FILENO);
  }
}

int SpawnCommand::Run(const Target& target) {
  if (!target.fan_out.empty()) {
    FanOutCommand command;
    command.spawn = &start_;
    return RunFanOut(target.fan_out, target.connect, target.parallel, command,
                     STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO);
  }
  const SignalUse use = detach_ ? SignalUse::kLeave
                        : start_.options().has_pty()
                            ? SignalUse::kForwardWithWindow
                            : SignalUse::kForward;
  return RunOnServer(target.connect, use, [&](const Call& call) {
    if (detach_) {
      return RunDetachedSpawn(call.stub, start_, STDOUT_FILENO, STDERR_FILENO,
                              call.session);
    }
    return RunSpawnCommand(call.stub, start_, STDIN_FILENO, STDOUT_FILENO,
                           STDERR_FILENO, call.signals, call.session);
  });
}

}  // namespace rexec::client
