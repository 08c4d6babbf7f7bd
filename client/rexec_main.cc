// rexec: the command-line client. A thin shell over the client library:
// parses flags into a start message and hands over to RunSpawnCommand,
// RunExecCommand, RunForkCommand, RunHealthCommand, or RunFanOut for spawn
// and exec on several servers. Usage errors exit 2 (kUsageExitCode).
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "client/child_session.h"
#include "client/command_support.h"
#include "client/connection.h"
#include "client/exec_command.h"
#include "client/fan_out.h"
#include "client/fork_command.h"
#include "client/health_command.h"
#include "client/local_terminal.h"
#include "client/process_flags.h"
#include "client/server_flags.h"
#include "client/session_commands.h"
#include "client/spawn_command.h"
#include "common/release_mutexes.h"
#include "common/version.h"
#include "google/protobuf/util/json_util.h"

namespace {

// The local Node IPC channel rexec was started with, or -1. Throws
// CLI::ValidationError when there is one that cannot be bridged.
int LocalNodeChannel() {
  const char* fd_text = std::getenv("NODE_CHANNEL_FD");
  if (fd_text == nullptr || *fd_text == '\0') return -1;
  int fd;
  if (!absl::SimpleAtoi(fd_text, &fd) || fd < 0 || fcntl(fd, F_GETFD) < 0) {
    throw CLI::ValidationError(
        "NODE_CHANNEL_FD",
        "\"" + std::string(fd_text) + "\" is not an open file descriptor");
  }
  const char* mode = std::getenv("NODE_CHANNEL_SERIALIZATION_MODE");
  if (mode != nullptr && *mode != '\0' && std::string(mode) != "json") {
    throw CLI::ValidationError(
        "NODE_CHANNEL_SERIALIZATION_MODE",
        "\"" + std::string(mode) +
            "\" cannot be bridged; start rexec with serialization: 'json'");
  }
  // Our copy is read by a thread of its own: blocking is what it wants.
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

}  // namespace

// What a command line that does not parse exits with, as most tools do.
constexpr int kUsageExitCode = 2;

// The session commands: ps, attach, logs, kill.
struct SessionCommands {
  CLI::App* ps = nullptr;
  CLI::App* attach = nullptr;
  CLI::App* logs = nullptr;
  CLI::App* kill = nullptr;
  std::string session, signal = "SIGTERM";
  std::optional<uint64_t> from;
  bool force_tty = false, no_tty = false, follow = false;

  void AddTo(CLI::App& app) {
    ps = app.add_subcommand("ps", "list your sessions (spawn --detach)");
    attach = app.add_subcommand(
        "attach",
        "attach to a session: its output from --from (default: the oldest "
        "kept), then live; stdin and signals go to it; Ctrl-P Ctrl-Q "
        "leaves it running");
    attach->add_option("session", session, "the session's id or name")
        ->required();
    attach->add_option("--from", from,
                       "the stdout byte offset to replay from");
    attach->add_flag("-t,--tty", force_tty,
                     "put the local terminal in raw mode (default: when the "
                     "session has a terminal and so does rexec)");
    attach->add_flag("-T,--no-tty", no_tty, "never raw")
        ->excludes(attach->get_option("--tty"));
    logs = app.add_subcommand(
        "logs", "print what a session's log keeps (no stdin)");
    logs->add_option("session", session, "the session's id or name")
        ->required();
    logs->add_option("--from", from, "the stdout byte offset to start at");
    logs->add_flag("-f,--follow", follow, "then live output, until it ends");
    kill = app.add_subcommand("kill", "send a signal to a session");
    kill->add_option("-s,--signal", signal, "the signal (default SIGTERM)");
    kill->add_option("session", session, "the session's id or name")
        ->required();
  }
  bool parsed() const {
    return ps->parsed() || attach->parsed() || logs->parsed() ||
           kill->parsed();
  }
  int Run(rexec::v1::ChildProcess::StubInterface& stub,
          const sigset_t& signals,
          const rexec::client::SessionOptions& options) const {
    using rexec::client::TerminalChoice;
    if (ps->parsed()) {
      return rexec::client::RunPs(stub, STDOUT_FILENO, STDERR_FILENO, options);
    }
    if (attach->parsed()) {
      return rexec::client::RunAttach(
          stub, session, from,
          force_tty ? TerminalChoice::kForce
          : no_tty  ? TerminalChoice::kNone
                    : TerminalChoice::kAuto,
          STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO, signals, options);
    }
    if (logs->parsed()) {
      return rexec::client::RunLogs(stub, session, from, follow,
                                    STDOUT_FILENO, STDERR_FILENO, options);
    }
    return rexec::client::RunKill(stub, session, signal, STDERR_FILENO,
                                  options);
  }
};

int main(int argc, char** argv) {
  rexec::ReleaseMutexes();
  rexec::client::ServerFlags server_flags;
  CLI::App app{"rexec: run processes on a rexecd server"};
  app.require_subcommand(1);
  app.set_version_flag("--version", rexec::VersionLine("rexec"));
  server_flags.AddTo(app);

  CLI::App* spawn = app.add_subcommand(
      "spawn",
      "run PROGRAM with ARGs remotely, streaming stdin, stdout and stderr");
  rexec::client::ProcessFlags spawn_flags;
  spawn_flags.AddTo(spawn);
  std::vector<std::string> spawn_argv;
  spawn->add_option("command", spawn_argv, "PROGRAM [ARG...] (after --)")
      ->required();
  bool force_tty = false, no_tty = false, detach = false;
  std::string session_name;
  spawn->add_flag("--detach", detach,
                  "start it as a session that outlives rexec: print its id "
                  "and leave (see ps, attach, logs, kill)");
  spawn->add_option("--name", session_name,
                    "with --detach: a name for the session (unique among "
                    "yours)");
  spawn->add_flag("-t,--tty", force_tty,
                  "give the command a terminal (raw local terminal, window "
                  "size forwarded), even when rexec's stdin or stdout is not "
                  "one");
  spawn->add_flag("-T,--no-tty", no_tty,
                  "no terminal. Default: a terminal when stdin and stdout "
                  "are terminals and the command is a shell, REPL, editor, "
                  "pager or top")
      ->excludes(spawn->get_option("--tty"));

  CLI::App* exec = app.add_subcommand(
      "exec",
      "run COMMAND with the remote shell; print its output when it ends");
  rexec::client::ProcessFlags exec_flags;
  exec_flags.AddTo(exec);
  uint64_t max_buffer = 0;
  std::string shell;
  std::vector<std::string> exec_words;
  exec->add_option("--max-buffer", max_buffer,
                   "bytes of stdout and of stderr to keep, e.g. 4MiB; more "
                   "stops the command (default 1MiB)")
      ->transform(CLI::AsSizeValue(false));
  exec->add_option("--shell", shell, "the shell (default /bin/sh)");
  exec->add_option("command", exec_words,
                   "the command line; several words are joined with spaces")
      ->required();

  CLI::App* fork = app.add_subcommand(
      "fork",
      "run a Node.js MODULE remotely with an IPC message channel; bridges "
      "the local one when started by Node with an 'ipc' stdio entry");
  rexec::client::ProcessFlags fork_flags;
  fork_flags.AddTo(fork);
  std::string exec_path;
  std::vector<std::string> exec_args, send_texts, fork_words;
  fork->add_option("--exec-path", exec_path,
                   "the runtime (default: the server's --node)");
  fork->add_option("--exec-arg", exec_args,
                   "an argument for the runtime, before MODULE (repeatable)")
      ->allow_extra_args(false);
  fork->add_option("--send", send_texts,
                   "a JSON message to send the child after start (repeatable)")
      ->allow_extra_args(false);
  fork->add_option("module", fork_words, "MODULE [ARG...] (after --)")
      ->required();

  SessionCommands sessions;
  sessions.AddTo(app);

  CLI::App* health = app.add_subcommand(
      "health",
      "ask the server's health service; prints SERVING (exit 0) or another "
      "status (exit 1)");
  std::string health_service;
  health->add_option("--service", health_service,
                     "the service to ask about, e.g. rexec.v1.ChildProcess "
                     "(default: the server as a whole)");

  rexec::v1::SpawnStart spawn_start;
  rexec::v1::ExecStart exec_start;
  rexec::v1::ForkStart fork_start;
  std::vector<google::protobuf::Value> sends;
  rexec::client::ForkCommandIo fork_io;
  rexec::client::Target target;
  rexec::client::ConnectOptions& connect = target.connect;
  const std::vector<std::string>& fan_out = target.fan_out;
  try {
    app.parse(argc, argv);
    target = server_flags.ToTarget();
    if (!fan_out.empty() && (!spawn->parsed() && !exec->parsed())) {
      throw CLI::ValidationError(
          "--server",
          "several servers (--all, --hosts, a repeated --server) "
          "run spawn or exec only");
    }
    if (!fan_out.empty() && detach) {
      throw CLI::ValidationError(
          "--detach", "a session lives on one server: not with several");
    }
    if (health->parsed() || sessions.parsed()) {
      // Nothing more to parse.
    } else if (spawn->parsed()) {
      *spawn_start.mutable_options() = spawn_flags.ToProto();
      for (const std::string& arg : spawn_argv) spawn_start.add_argv(arg);
      if (!session_name.empty() && !detach) {
        throw CLI::ValidationError("--name", "names a session: needs --detach");
      }
      spawn_start.mutable_options()->set_detach(detach);
      spawn_start.mutable_options()->set_name(session_name);
      if (rexec::client::WantsTerminal(
              force_tty ? rexec::client::TerminalChoice::kForce
              : no_tty  ? rexec::client::TerminalChoice::kNone
                        : rexec::client::TerminalChoice::kAuto,
              spawn_argv, STDIN_FILENO, STDOUT_FILENO)) {
        if (!fan_out.empty()) {
          throw CLI::ValidationError(
              "--tty", "a terminal is for one server: not with --all, "
                       "--hosts or a repeated --server (use -T)");
        }
        *spawn_start.mutable_options()->mutable_pty() =
            rexec::client::LocalPtyOptions(STDIN_FILENO);
      }
    } else if (exec->parsed()) {
      *exec_start.mutable_options() = exec_flags.ToProto();
      exec_start.set_command(absl::StrJoin(exec_words, " "));
      exec_start.set_shell(shell);
      exec_start.set_max_buffer(max_buffer);
      connect.receive_limit = rexec::client::ExecReceiveLimit(max_buffer);
    } else {
      *fork_start.mutable_options() = fork_flags.ToProto();
      fork_start.set_module(fork_words[0]);
      for (size_t i = 1; i < fork_words.size(); ++i) {
        fork_start.add_args(fork_words[i]);
      }
      fork_start.set_exec_path(exec_path);
      for (const std::string& arg : exec_args) fork_start.add_exec_argv(arg);
      for (const std::string& text : send_texts) {
        google::protobuf::Value& value = sends.emplace_back();
        if (auto status =
                google::protobuf::util::JsonStringToMessage(text, &value);
            !status.ok()) {
          throw CLI::ValidationError(
              "--send",
              "\"" + text + "\" is not JSON: " + status.message().ToString());
        }
      }
      fork_io.channel_fd = LocalNodeChannel();
    }
  } catch (const CLI::ParseError& e) {
    if (app.exit(e) == 0) return 0;  // --help, --version
    // `rexec spawn ls -la`: ls's flag reached rexec, for want of a "--".
    const bool has_separator =
        std::find_if(argv, argv + argc, [](const char* arg) {
          return std::string(arg) == "--";
        }) != argv + argc;
    if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr &&
        !has_separator &&
        (spawn->parsed() || exec->parsed() || fork->parsed())) {
      std::fprintf(stderr,
                   "rexec: put -- before the command, so that its flags "
                   "are its own: rexec %s [FLAGS] -- COMMAND [ARGS]\n",
                   spawn->parsed()  ? "spawn"
                   : exec->parsed() ? "exec"
                                    : "fork");
    }
    return kUsageExitCode;
  }

  if (!fan_out.empty()) {
    rexec::client::FanOutCommand command;
    if (spawn->parsed()) {
      command.spawn = &spawn_start;
    } else {
      command.exec = &exec_start;
    }
    // Ctrl-C ends rexec; each server sees its call cancelled and stops the
    // child (TERMINATION_REASON_CLIENT_GONE).
    std::_Exit(rexec::client::RunFanOut(fan_out, connect, target.parallel,
                                        command, STDOUT_FILENO, STDERR_FILENO));
  }

  // Writing to a closed stdout must come back as EPIPE, not kill us before
  // we have stopped the remote child.
  signal(SIGPIPE, SIG_IGN);
  sigset_t forwarded;
  sigemptyset(&forwarded);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&forwarded, sig);
  if (spawn_start.options().has_pty() || sessions.attach->parsed()) {
    sigaddset(&forwarded, SIGWINCH);
  }
  // Before any gRPC thread exists, so that every thread inherits the mask.
  pthread_sigmask(SIG_BLOCK, &forwarded, nullptr);

  absl::StatusOr<rexec::client::Connection> connection =
      rexec::client::Connect(connect);
  if (!connection.ok()) {
    std::fprintf(stderr, "rexec: %s\n",
                 std::string(connection.status().message()).c_str());
    return rexec::client::kRpcErrorExitCode;
  }
  auto stub = rexec::v1::ChildProcess::NewStub(connection->channel);
  // The commands that open no session of a child (whose own thread takes
  // the signals and forwards them): the first SIGINT or SIGTERM ends rexec,
  // however long the server takes to answer.
  const bool forwards = (spawn->parsed() && !detach) || exec->parsed() ||
                        fork->parsed() || sessions.attach->parsed();
  if (!forwards) rexec::client::LeaveOnSignals(forwarded);
  rexec::client::SessionOptions session;
  session.bearer_token = connection->bearer_token;
  session.tls = connection->tls;
  int code;
  if (health->parsed()) {
    code =
        rexec::client::RunHealthCommand(connection->channel, health_service,
                                        STDOUT_FILENO, STDERR_FILENO, session);
  } else if (sessions.parsed()) {
    code = sessions.Run(*stub, forwarded, session);
  } else if (spawn->parsed() && detach) {
    code = rexec::client::RunDetachedSpawn(*stub, spawn_start, STDOUT_FILENO,
                                           STDERR_FILENO, session);
  } else if (spawn->parsed()) {
    code = rexec::client::RunSpawnCommand(*stub, spawn_start, STDIN_FILENO,
                                          STDOUT_FILENO, STDERR_FILENO,
                                          forwarded, session);
  } else if (exec->parsed()) {
    code = rexec::client::RunExecCommand(*stub, exec_start, STDIN_FILENO,
                                         STDOUT_FILENO, STDERR_FILENO,
                                         forwarded, session);
  } else {
    code = rexec::client::RunForkCommand(*stub, fork_start, sends, fork_io,
                                         forwarded, session);
  }
  // Helper threads may be blocked in read() on our stdin: leave without
  // running destructors under them.
  rexec::client::RestoreLocalTerminal();
  std::_Exit(code);
}
