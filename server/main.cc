// rexecd: the rexec server. Parses flags, starts RexecServer, and on SIGTERM
// or SIGINT stops accepting calls, stops the running children with their
// kill policy, and exits 0.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/time/time.h"
#include "common/release_mutexes.h"
#include "server/process/signal_name.h"
#include "server/rpc/server.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace {

// Children inherit 0, 1 and 2 through dup2 onto them; if this process was
// started with one of them closed, a pipe could land there and be lost.
void EnsureStandardFds() {
  for (int fd = 0; fd < 3; ++fd) {
    if (fcntl(fd, F_GETFD) == -1) {
      int null_fd = open("/dev/null", O_RDWR);  // takes the lowest free fd
      if (null_fd > 2) close(null_fd);
    }
  }
}

absl::Duration ParseDurationFlag(const std::string& text) {
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d < absl::ZeroDuration()) {
    throw CLI::ValidationError(
        "--drain-timeout",
        "\"" + text + "\" is not a duration like 2s or 500ms");
  }
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  rexec::ReleaseMutexes();
  rexec::rpc::ServerConfig config;
  std::vector<std::string> listen;
  std::string drain_timeout = "2s";

  CLI::App app{
      "rexecd: runs child processes for rexec.v1.ChildProcess clients"};
  app.add_option("--listen", listen,
                 "address to serve, host:port or unix:/path (repeatable; "
                 "default 127.0.0.1:50051)");
  app.add_option("--workers", config.workers,
                 "completion-queue worker threads (default: one per core)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--max-processes", config.max_processes,
                 "children that may run at once")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-exec-buffer", config.max_exec_buffer,
                 "largest max_buffer, in bytes per stream, an Exec call may "
                 "ask for")
      // Both streams must fit one gRPC message, which is at most 2 GiB.
      ->check(CLI::Range(uint64_t{1}, uint64_t{512} << 20))
      ->capture_default_str();
  app.add_option("--node", config.node,
                 "the runtime Fork runs when a call names no exec_path "
                 "(looked up in the child's PATH)")
      ->capture_default_str();
  app.add_option("--drain-timeout", drain_timeout,
                 "how long output may keep flowing after a child exits, when a "
                 "descendant holds its pipes")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    config.drain_timeout = ParseDurationFlag(drain_timeout);
  } catch (const CLI::Error& e) {
    return app.exit(e);
  }
  if (!listen.empty()) config.listen = listen;

  EnsureStandardFds();
  // A child that closes its stdin early must not kill us with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  // Block the stop signals in every thread (the ones started later inherit
  // the mask) so that only sigwait() below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // Logs go to stderr, unbuffered: what a container runtime collects.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("rexecd"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %l rexecd: %v");
  auto server = rexec::rpc::RexecServer::Start(config);
  if (!server.ok()) {
    std::fprintf(stderr, "rexecd: %s\n",
                 std::string(server.status().message()).c_str());
    return 1;
  }
  for (const std::string& address : (*server)->addresses()) {
    spdlog::info("listening on {}", address);
  }

  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("{}: stopping", rexec::process::SignalName(sig));
  (*server)->Shutdown();
  spdlog::info("stopped");
  return 0;
}
