#include "client/spawn_command.h"

#include <unistd.h>

#include <cerrno>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/spawn_session.h"
#include "server/process/signal_name.h"

namespace rexec::client {
namespace {

constexpr size_t kStdinChunk = 64 * 1024;

// False when the fd is closed on the other side (EPIPE).
bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n > 0) {
      done += n;
    } else if (errno != EINTR) {
      return false;
    }
  }
  return true;
}

void PumpStdin(int fd, SpawnSession* session) {
  std::string buffer(kStdinChunk, '\0');
  for (;;) {
    ssize_t n = read(fd, buffer.data(), buffer.size());
    if (n > 0) {
      if (!session->WriteStdin(buffer.substr(0, n))) return;
    } else if (n == 0 || errno != EINTR) {
      // EOF. The stream stays open, so that signals can still be sent.
      session->CloseStdin();
      return;
    }
  }
}

void ForwardSignals(sigset_t signals, SpawnSession* session) {
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) return;
    if (!session->SendSignal(process::SignalName(sig))) return;
  }
}

}  // namespace

int RunSpawnCommand(v1::ChildProcess::StubInterface& stub,
                    const v1::SpawnStart& start, int in_fd, int out_fd,
                    int err_fd, const sigset_t& signals) {
  // Heap-allocated and never freed: the helper threads may still be blocked
  // in read() or sigwait() when we return, and the process exits soon after.
  auto* session = new SpawnSession(stub, start);
  std::thread(PumpStdin, in_fd, session).detach();
  std::thread(ForwardSignals, signals, session).detach();

  v1::SpawnResponse response;
  while (session->Read(&response)) {
    switch (response.event_case()) {
      case v1::SpawnResponse::kStdout:
        if (!WriteAll(out_fd, response.stdout())) {
          // Our reader went away, as with a local pipe: stop the child and
          // end the way a local process would, of SIGPIPE.
          session->Cancel();
          return 128 + SIGPIPE;
        }
        break;
      case v1::SpawnResponse::kStderr:
        WriteAll(err_fd, response.stderr());
        break;
      case v1::SpawnResponse::kExit:
        if (response.exit().reason() == v1::TERMINATION_REASON_TIMED_OUT) {
          const auto& timeout = start.options().timeout();
          WriteAll(err_fd, absl::StrCat("rexec: timed out after ",
                                        absl::FormatDuration(
                                            absl::Seconds(timeout.seconds()) +
                                            absl::Nanoseconds(timeout.nanos())),
                                        "; the child was stopped\n"));
        }
        return ShellExitCode(response.exit());
      default:
        break;
    }
  }
  grpc::Status status = session->Finish();
  std::string message = absl::StrCat(
      "rexec: ",
      status.ok()
          ? "the server ended the call without an exit status"
          : absl::StrCat(absl::StatusCodeToString(static_cast<absl::StatusCode>(
                             status.error_code())),
                         ": ", status.error_message()),
      "\n");
  WriteAll(err_fd, message);
  return kRpcErrorExitCode;
}

}  // namespace rexec::client
