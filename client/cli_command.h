// CliCommand is one of rexec's subcommands (or a family of them, as the
// session commands) as main sees it: it adds its flags to the app, checks
// them once the command line is parsed, and runs. AddTo comes before
// parsing, the rest after; all on main's thread.
#ifndef REXEC_CLIENT_CLI_COMMAND_H_
#define REXEC_CLIENT_CLI_COMMAND_H_

#include <signal.h>

#include "absl/functional/function_ref.h"
#include "client/child_session.h"
#include "client/connection.h"
#include "client/server_flags.h"
#include "rexec/v1/child_process.grpc.pb.h"

namespace CLI {
class App;
}  // namespace CLI

namespace rexec::client {

class CliCommand {
 public:
  virtual ~CliCommand() = default;

  // Adds the subcommand(s), their flags and their help to `app`.
  virtual void AddTo(CLI::App& app) = 0;

  // The subcommand the command line named, when it is one of this
  // command's; else nullptr. Known as soon as the parser met its name, so
  // also when a parse error follows.
  virtual const CLI::App* Chosen() const = 0;

  // Whether its flags are followed by a command line for the remote side
  // (spawn, exec, fork): a flag of that command line that reached rexec
  // (no "--") is explained.
  virtual bool TakesCommandLine() const { return false; }

  // Whether it may run on several servers at once (spawn, exec). Ctrl-C
  // then ends rexec: each server sees its call cancelled and stops the
  // child (TERMINATION_REASON_CLIENT_GONE).
  virtual bool FansOut() const { return false; }

  // The checks that need every flag parsed; makes what the command sends,
  // and may change how it connects (exec's receive limit). Throws
  // CLI::ValidationError naming the flag: a usage error.
  virtual void Validate(Target& target) {}

  // Runs it on the target's server, or on each of a fan-out's. Returns
  // rexec's exit code.
  virtual int Run(const Target& target) = 0;
};

// How a command on one server takes SIGINT, SIGTERM, SIGHUP and SIGQUIT.
enum class SignalUse {
  // The first ends rexec, however long the server takes to answer: no
  // session of a child takes them (LeaveOnSignals).
  kLeave,
  // The command's session forwards them to the child (OpenSession)...
  kForward,
  // ...and SIGWINCH sends the local terminal's window size.
  kForwardWithWindow,
};

// What a command runs with on its server.
struct Call {
  const Connection& connection;
  v1::ChildProcess::StubInterface& stub;
  // For the session to take with sigwait(): blocked in every thread.
  const sigset_t& signals;
  SessionOptions session;
};

// Connects to connect.address and returns what `run` returns, or
// kRpcErrorExitCode having said why when the connection cannot be made.
// SIGPIPE is ignored, and the signals `use` names are blocked before any
// gRPC thread exists, so that every thread inherits the mask.
int RunOnServer(const ConnectOptions& connect, SignalUse use,
                absl::FunctionRef<int(const Call&)> run);

}  // namespace rexec::client

#endif  // REXEC_CLIENT_CLI_COMMAND_H_
