// rexec: the command-line client, a thin shell over the client library.
// Each subcommand is a CliCommand that adds its flags to the app; main
// parses the command line, lets the chosen one check its flags, and runs
// it. Usage errors exit 2 (kUsageExitCode), an unknown subcommand or flag
// naming the nearest valid one (TypoHint). The flags every command shares
// (--server, TLS, the token) go before or after the subcommand, as
// kubectl's do.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "CLI/CLI.hpp"
#include "client/cli_command.h"
#include "client/completion_command.h"
#include "client/exec_command.h"
#include "client/fork_command.h"
#include "client/health_command.h"
#include "client/local_terminal.h"
#include "client/server_flags.h"
#include "client/session_commands.h"
#include "client/spawn_command.h"
#include "client/typo_hint.h"
#include "common/release_mutexes.h"
#include "common/version.h"

namespace {

// What a command line that does not parse exits with, as most tools do.
constexpr int kUsageExitCode = 2;

}  // namespace

int main(int argc, char** argv) {
  using rexec::client::CliCommand;
  rexec::ReleaseMutexes();
  CLI::App app{"rexec: run processes on a rexecd server"};
  app.require_subcommand(1);
  // Inherited by each subcommand: a flag it does not know is tried on rexec.
  app.fallthrough();
  app.set_version_flag("--version", rexec::VersionLine("rexec"));
  rexec::client::ServerFlags server_flags;
  server_flags.AddTo(app);
  rexec::client::SpawnCommand spawn;
  rexec::client::ExecCommand exec;
  rexec::client::ForkCommand fork;
  rexec::client::SessionCommands sessions;
  rexec::client::HealthCommand health;
  rexec::client::CompletionCommand completion;
  // In the order of the help.
  CliCommand* const commands[] = {&spawn,  &exec,   &fork,
                                  &sessions, &health, &completion};
  for (CliCommand* command : commands) command->AddTo(app);
  auto chosen = [&]() -> CliCommand* {
    for (CliCommand* command : commands) {
      if (command->Chosen() != nullptr) return command;
    }
    return nullptr;
  };

  CliCommand* command = nullptr;
  rexec::client::Target target;
  try {
    app.parse(argc, argv);
    command = chosen();  // require_subcommand(1): there is one
    target = server_flags.ToTarget();
    if (!target.fan_out.empty() && !command->FansOut()) {
      throw CLI::ValidationError(
          "--server",
          "several servers (--all, --hosts, a repeated --server) "
          "run spawn or exec only");
    }
    command->Validate(target);
  } catch (const CLI::ParseError& e) {
    const CliCommand* named = chosen();
    const bool unexpected = dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr;
    rexec::client::Unknown unknown;
    if (unexpected || dynamic_cast<const CLI::RequiredError*>(&e) != nullptr) {
      unknown = rexec::client::ExplainUnknown(
          app, named != nullptr ? named->Chosen() : nullptr);
    }
    if (!unknown.text.empty()) {
      std::fprintf(stderr, "rexec: %s\n", unknown.text.c_str());
    } else if (app.exit(e) == 0) {
      return 0;  // --help, --version
    }
    // `rexec spawn ls -la`: ls's flag reached rexec, for want of a "--".
    const bool has_separator =
        std::find_if(argv, argv + argc, [](const char* arg) {
          return std::string(arg) == "--";
        }) != argv + argc;
    if (unexpected && !unknown.suggested &&
        !has_separator && named != nullptr && named->TakesCommandLine()) {
      std::fprintf(stderr,
                   "rexec: put -- before the command, so that its flags "
                   "are its own: rexec %s [FLAGS] -- COMMAND [ARGS]\n",
                   named->Chosen()->get_name().c_str());
    }
    return kUsageExitCode;
  }

  const int code = command->Run(target);
  // Helper threads may be blocked in read() on our stdin: leave without
  // running destructors under them.
  rexec::client::RestoreLocalTerminal();
  std::_Exit(code);
}
