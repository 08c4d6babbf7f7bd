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
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "client/child_session.h"
#include "client/command_support.h"
#include "client/connection.h"
#include "client/exec_command.h"
#include "client/fan_out.h"
#include "client/fork_command.h"
#include "client/health_command.h"
#include "client/local_terminal.h"
#include "client/session_commands.h"
#include "client/spawn_command.h"
#include "common/address.h"
#include "common/release_mutexes.h"
#include "common/version.h"
#include "google/protobuf/util/json_util.h"

namespace {

// The flags every command has, for ProcessOptions.
struct ProcessFlags {
  std::vector<std::string> env;
  bool clear_env = false;
  std::string cwd, timeout, kill_signal, kill_grace, user, group;
  std::vector<std::string> groups, limits;

  void AddTo(CLI::App* command) {
    // One value per flag: a repeatable flag must not swallow the command.
    command
        ->add_option("--env", env,
                     "set K=V in the child's environment (repeatable)")
        ->allow_extra_args(false);
    command->add_flag("--clear-env", clear_env,
                      "start from an empty environment");
    command->add_option("--cwd", cwd, "working directory of the child");
    command->add_option("--timeout", timeout,
                        "stop the child after this long, e.g. 30s");
    command->add_option("--kill-signal", kill_signal,
                        "signal that starts a stop (default SIGTERM)");
    command->add_option("--kill-grace", kill_grace,
                        "time before SIGKILL follows (default 5s)");
    command->add_option("--user", user,
                        "run as this user (name or id), as sudo -u does");
    command->add_option("--group", group,
                        "primary group (name or id); default: the user's");
    command
        ->add_option("--groups", groups,
                     "a supplementary group (repeatable); default: the "
                     "user's")
        ->allow_extra_args(false);
    command
        ->add_option("--limit", limits,
                     "a resource limit NAME=VALUE (repeatable): cpu "
                     "(seconds), as, fsize, core (bytes), nofile, nproc")
        ->allow_extra_args(false);
  }

  // Throws CLI::ValidationError naming the flag on bad input.
  rexec::v1::ProcessOptions ToProto() const {
    rexec::v1::ProcessOptions options;
    for (const std::string& pair : env) {
      size_t eq = pair.find('=');
      if (eq == std::string::npos || eq == 0) {
        throw CLI::ValidationError("--env",
                                   "\"" + pair + "\" is not of the form K=V");
      }
      (*options.mutable_env())[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
    options.set_clear_env(clear_env);
    options.set_cwd(cwd);
    options.set_kill_signal(kill_signal);
    if (!timeout.empty()) {
      SetDuration("--timeout", timeout, options.mutable_timeout());
    }
    if (!kill_grace.empty()) {
      SetDuration("--kill-grace", kill_grace, options.mutable_kill_grace());
    }
    options.set_user(user);
    options.set_group(group);
    for (const std::string& g : groups) options.add_groups(g);
    for (const std::string& limit : limits) {
      SetLimit(limit, options.mutable_limits());
    }
    return options;
  }

  // "nofile=64": prlimit(1)'s names.
  static void SetLimit(const std::string& text,
                       rexec::v1::ResourceLimits* out) {
    using Setter = void (rexec::v1::ResourceLimits::*)(uint64_t);
    static const std::pair<const char*, Setter> kNames[] = {
        {"cpu", &rexec::v1::ResourceLimits::set_cpu_seconds},
        {"as", &rexec::v1::ResourceLimits::set_address_space_bytes},
        {"nofile", &rexec::v1::ResourceLimits::set_open_files},
        {"nproc", &rexec::v1::ResourceLimits::set_processes},
        {"fsize", &rexec::v1::ResourceLimits::set_file_size_bytes},
        {"core", &rexec::v1::ResourceLimits::set_core_size_bytes},
    };
    const size_t eq = text.find('=');
    uint64_t value;
    if (eq != std::string::npos &&
        absl::SimpleAtoi(absl::string_view(text).substr(eq + 1), &value)) {
      for (const auto& [name, set] : kNames) {
        if (text.compare(0, eq, name) == 0) return (out->*set)(value);
      }
    }
    throw CLI::ValidationError(
        "--limit", "\"" + text +
                       "\" is not NAME=NUMBER with NAME one of cpu, as, "
                       "nofile, nproc, fsize, core");
  }

  static void SetDuration(const std::string& flag, const std::string& text,
                          google::protobuf::Duration* out) {
    absl::Duration d;
    if (!absl::ParseDuration(text, &d) || d < absl::ZeroDuration()) {
      throw CLI::ValidationError(
          flag, "\"" + text + "\" is not a duration like 30s, 1m or 500ms");
    }
    int64_t nanos = absl::ToInt64Nanoseconds(d);
    out->set_seconds(nanos / 1'000'000'000);
    out->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
  }
};

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

// Where the command runs: one server, or several (fan-out).
struct ServerFlags {
  std::vector<std::string> servers;
  std::string hosts_file;
  bool all = false;
  int parallel = 32;
};

// The flags that say how to reach the server, each also from REXEC_*.
void AddConnectionFlags(CLI::App& app, rexec::client::ConnectOptions& c,
                        ServerFlags& s) {
  app.add_option("--server", s.servers,
                 "rexecd address, host:port or unix:/path (default "
                 "unix:/run/rexec/rexecd.sock, rexecd's own default); repeat "
                 "it to run spawn or exec on each")
      ->envname("REXEC_SERVER")
      ->allow_extra_args(false);
  app.add_option("--hosts", s.hosts_file,
                 "a file of rexecd addresses, one per line: run spawn or "
                 "exec on each");
  app.add_flag("--all", s.all,
               "run spawn or exec on every address --server's name resolves "
               "to (dns:///rexecd.NAMESPACE.svc.cluster.local:50051: a "
               "headless Service names every pod)");
  app.add_option("--parallel", s.parallel, "servers a fan-out runs on at once")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--tls-ca", c.tls_ca,
                 "PEM CA bundle to verify the server with: use TLS")
      ->envname("REXEC_TLS_CA");
  app.add_option("--tls-cert", c.tls_cert,
                 "PEM client certificate, for a server that requires one "
                 "(mTLS)")
      ->envname("REXEC_TLS_CERT");
  app.add_option("--tls-key", c.tls_key, "PEM private key of --tls-cert")
      ->envname("REXEC_TLS_KEY");
  app.add_option("--tls-server-name", c.tls_server_name,
                 "the name to expect in the server's certificate (default: "
                 "the host of --server)")
      ->envname("REXEC_TLS_SERVER_NAME");
  app.add_option("--token-file", c.token_file,
                 "file whose first line is a bearer token to send")
      ->envname("REXEC_TOKEN_FILE");
}

// The servers a fan-out runs on; empty for a single server.
std::vector<std::string> FanOutServers(const ServerFlags& s,
                                       rexec::client::ConnectOptions& connect) {
  std::vector<std::string> servers;
  if (!s.hosts_file.empty()) {
    absl::StatusOr<std::vector<std::string>> hosts =
        rexec::client::ReadHostsFile(s.hosts_file);
    if (!hosts.ok()) {
      throw CLI::ValidationError("--hosts",
                                 std::string(hosts.status().message()));
    }
    servers = *std::move(hosts);
  }
  for (const std::string& server : s.servers) {
    if (!s.all) {
      servers.push_back(server);
      continue;
    }
    absl::StatusOr<std::vector<std::string>> resolved =
        rexec::client::ResolveAll(server);
    if (!resolved.ok()) {
      throw CLI::ValidationError("--all",
                                 std::string(resolved.status().message()));
    }
    // A certificate names the service, not each pod's address.
    if (connect.tls_server_name.empty() && !rexec::IsUnixAddress(server)) {
      absl::string_view host = server;
      absl::ConsumePrefix(&host, "dns:///");
      absl::ConsumePrefix(&host, "dns:");
      connect.tls_server_name = std::string(rexec::HostOf(host));
    }
    servers.insert(servers.end(), resolved->begin(), resolved->end());
  }
  if (s.all && s.servers.empty()) {
    throw CLI::ValidationError("--all", "needs --server NAME:PORT to resolve");
  }
  if (servers.size() > rexec::client::kMaxFanOutHosts) {
    throw CLI::ValidationError(
        "--server", "more than " +
                        std::to_string(rexec::client::kMaxFanOutHosts) +
                        " servers");
  }
  // One server named once is not a fan-out, unless --all or --hosts.
  if (servers.size() == 1 && !s.all && s.hosts_file.empty()) servers.clear();
  return servers;
}

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
  rexec::client::ConnectOptions connect;
  ServerFlags server_flags;
  CLI::App app{"rexec: run processes on a rexecd server"};
  app.require_subcommand(1);
  app.set_version_flag("--version", rexec::VersionLine("rexec"));
  AddConnectionFlags(app, connect, server_flags);

  CLI::App* spawn = app.add_subcommand(
      "spawn",
      "run PROGRAM with ARGs remotely, streaming stdin, stdout and stderr");
  ProcessFlags spawn_flags;
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
  ProcessFlags exec_flags;
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
  ProcessFlags fork_flags;
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
  std::vector<std::string> fan_out;
  try {
    app.parse(argc, argv);
    fan_out = FanOutServers(server_flags, connect);
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
    connect.address = server_flags.servers.empty()
                          ? rexec::client::kDefaultServer
                          : server_flags.servers.front();
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
    std::_Exit(rexec::client::RunFanOut(fan_out, connect, server_flags.parallel,
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
