// rexec: the command-line client. A thin shell over the client library:
// parses flags into a start message and hands over to RunSpawnCommand.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/time/time.h"
#include "client/spawn_command.h"
#include "client/spawn_session.h"

namespace {

void SetDuration(const std::string& flag, const std::string& text,
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

}  // namespace

int main(int argc, char** argv) {
  const char* env_server = std::getenv("REXEC_SERVER");
  std::string server =
      env_server != nullptr && *env_server ? env_server : "127.0.0.1:50051";

  CLI::App app{"rexec: run processes on a rexecd server"};
  app.require_subcommand(1);
  app.add_option(
      "--server", server,
      "rexecd address, host:port or unix:/path (default: $REXEC_SERVER, "
      "else 127.0.0.1:50051)");

  CLI::App* spawn = app.add_subcommand(
      "spawn",
      "run PROGRAM with ARGs remotely, streaming stdin, stdout and stderr");
  std::vector<std::string> env_pairs;
  bool clear_env = false;
  std::string cwd, timeout, kill_signal, kill_grace;
  std::vector<std::string> command;
  spawn->add_option("--env", env_pairs,
                    "set K=V in the child's environment (repeatable)");
  spawn->add_flag("--clear-env", clear_env, "start from an empty environment");
  spawn->add_option("--cwd", cwd, "working directory of the child");
  spawn->add_option("--timeout", timeout,
                    "stop the child after this long, e.g. 30s");
  spawn->add_option("--kill-signal", kill_signal,
                    "signal that starts a stop (default SIGTERM)");
  spawn->add_option("--kill-grace", kill_grace,
                    "time before SIGKILL follows (default 5s)");
  spawn->add_option("command", command, "PROGRAM [ARG...] (after --)")
      ->required();

  rexec::v1::SpawnStart start;
  try {
    app.parse(argc, argv);
    auto* options = start.mutable_options();
    for (const std::string& pair : env_pairs) {
      size_t eq = pair.find('=');
      if (eq == std::string::npos || eq == 0) {
        throw CLI::ValidationError("--env",
                                   "\"" + pair + "\" is not of the form K=V");
      }
      (*options->mutable_env())[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
    options->set_clear_env(clear_env);
    options->set_cwd(cwd);
    options->set_kill_signal(kill_signal);
    if (!timeout.empty())
      SetDuration("--timeout", timeout, options->mutable_timeout());
    if (!kill_grace.empty()) {
      SetDuration("--kill-grace", kill_grace, options->mutable_kill_grace());
    }
    for (const std::string& arg : command) start.add_argv(arg);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  // Writing to a closed stdout must come back as EPIPE, not kill us before
  // we have stopped the remote child.
  signal(SIGPIPE, SIG_IGN);
  sigset_t forwarded;
  sigemptyset(&forwarded);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&forwarded, sig);
  // Before any gRPC thread exists, so that every thread inherits the mask.
  pthread_sigmask(SIG_BLOCK, &forwarded, nullptr);

  auto stub = rexec::v1::ChildProcess::NewStub(rexec::client::Connect(server));
  int code = rexec::client::RunSpawnCommand(
      *stub, start, STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO, forwarded);
  // Helper threads may be blocked in read() on our stdin: leave without
  // running destructors under them.
  std::_Exit(code);
}
