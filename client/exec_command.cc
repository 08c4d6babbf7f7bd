#include "client/exec_command.h"

#include <unistd.h>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/child_session.h"
#include "client/command_support.h"
#include "client/connection.h"
#include "client/fan_out.h"
#include "common/exec_defaults.h"

namespace rexec::client {

int RunExecCommand(v1::ChildProcess::StubInterface& stub,
                   const v1::ExecStart& start, int in_fd, int out_fd,
                   int err_fd, const sigset_t& signals,
                   const SessionOptions& options) {
  ExecSession* session =
      OpenSession<ExecSession>(stub, start, options, in_fd, signals, err_fd);

  v1::ExecResponse response;
  while (session->Read(&response)) {
    if (!response.has_result()) continue;  // started
    const v1::ExecResult& result = response.result();
    // A server that ignored max_buffer is not believed about the rest
    // either: none of it is written.
    const uint64_t max_buffer =
        start.max_buffer() != 0 ? start.max_buffer() : kDefaultExecMaxBuffer;
    for (const std::string* stream : {&result.stdout(), &result.stderr()}) {
      if (stream->size() > max_buffer) {
        WriteAll(err_fd,
                 absl::StrCat("rexec: the server sent ", stream->size(),
                              " bytes of ",
                              stream == &result.stdout() ? "stdout" : "stderr",
                              ", more than max_buffer (", max_buffer,
                              "): nothing of the result was written\n"));
        return kRpcErrorExitCode;
      }
    }
    if (!WriteAll(out_fd, result.stdout())) return 128 + SIGPIPE;
    WriteAll(err_fd, result.stderr());
    switch (result.exit().reason()) {
      case v1::TERMINATION_REASON_MAX_BUFFER_EXCEEDED:
        WriteAll(err_fd,
                 absl::StrCat("rexec: output passed max_buffer (",
                              start.max_buffer() != 0 ? start.max_buffer()
                                                      : kDefaultExecMaxBuffer,
                              " bytes per stream); the command was stopped and "
                              "its output cut there\n"));
        // However the child ended (it may have finished before the stop
        // reached it), a cut result is a failure, as in Node.
        return kOutputCutExitCode;
      case v1::TERMINATION_REASON_TIMED_OUT:
        WriteAll(err_fd, TimeoutNote(start.options().timeout()));
        break;
      case v1::TERMINATION_REASON_SERVER_SHUTDOWN:
        WriteAll(err_fd, kServerShutdownNote);
        break;
      default:
        break;
    }
    return ExitCode(result.exit(), err_fd);
  }
  return ReportCallEnd(session->Finish(), err_fd, options.tls);
}

void ExecCommand::AddTo(CLI::App& app) {
  command_ = app.add_subcommand(
      "exec",
      "run COMMAND with the remote shell; print its output when it ends");
  process_flags_.AddTo(command_);
  command_
      ->add_option("--max-buffer", max_buffer_,
                   "bytes of stdout and of stderr to keep, e.g. 4MiB; more "
                   "stops the command (default 1MiB)")
      ->transform(CLI::AsSizeValue(false));
  command_->add_option("--shell", shell_, "the shell (default /bin/sh)");
  command_
      ->add_option("command", words_,
                   "the command line; several words are joined with spaces")
      ->required();
}

const CLI::App* ExecCommand::Chosen() const {
  return command_->parsed() ? command_ : nullptr;
}

void ExecCommand::Validate(Target& target) {
  *start_.mutable_options() = process_flags_.ToProto();
  start_.set_command(absl::StrJoin(words_, " "));
  start_.set_shell(shell_);
  start_.set_max_buffer(max_buffer_);
  target.connect.receive_limit = ExecReceiveLimit(max_buffer_);
}

int ExecCommand::Run(const Target& target) {
  if (!target.fan_out.empty()) {
    FanOutCommand command;
    command.exec = &start_;
    return RunFanOut(target.fan_out, target.connect, target.parallel, command,
                     STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO);
  }
  return RunOnServer(
      target.connect, SignalUse::kForward, [&](const Call& call) {
        return RunExecCommand(call.stub, start_, STDIN_FILENO, STDOUT_FILENO,
                              STDERR_FILENO, call.signals, call.session);
      });
}

}  // namespace rexec::client
