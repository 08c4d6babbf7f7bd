#include "client/cli_command.h"

#include <pthread.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "client/command_support.h"

namespace rexec::client {

int RunOnServer(const ConnectOptions& connect, SignalUse use,
                absl::FunctionRef<int(const Call&)> run) {
  // Writing to a closed stdout must come back as EPIPE, not kill us before
  // we have stopped the remote child.
  signal(SIGPIPE, SIG_IGN);
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&signals, sig);
  if (use == SignalUse::kForwardWithWindow) sigaddset(&signals, SIGWINCH);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<Connection> connection = Connect(connect);
  if (!connection.ok()) {
    std::fprintf(stderr, "rexec: %s\n",
                 std::string(connection.status().message()).c_str());
    return kRpcErrorExitCode;
  }
  auto stub = v1::ChildProcess::NewStub(connection->channel);
  if (use == SignalUse::kLeave) LeaveOnSignals(signals);
  SessionOptions session;
  session.bearer_token = connection->bearer_token;
  session.tls = connection->tls;
  return run(Call{*connection, *stub, signals, session});
}

}  // namespace rexec::client
