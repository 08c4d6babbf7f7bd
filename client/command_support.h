// What the rexec commands (spawn, exec, fork) share: writing whole buffers
// to fds, the threads that stream the CLI's stdin to the child and forward
// its signals, and the one-line notes and errors they print.
#ifndef REXEC_CLIENT_COMMAND_SUPPORT_H_
#define REXEC_CLIENT_COMMAND_SUPPORT_H_

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <thread>

#include "absl/strings/string_view.h"
#include "google/protobuf/duration.pb.h"
#include "grpcpp/support/status.h"
#include "server/process/signal_name.h"

namespace rexec::client {

// The exit code for an RPC or connection error, as ssh uses.
constexpr int kRpcErrorExitCode = 255;

// False when the fd is closed on the other side (EPIPE).
bool WriteAll(int fd, absl::string_view data);

// "rexec: timed out after 1.5s; the child was stopped\n"
std::string TimeoutNote(const google::protobuf::Duration& timeout);

// Writes "rexec: CODE: message" (or a note that the call ended without an
// exit status) to `err_fd` and returns kRpcErrorExitCode.
int ReportCallEnd(const grpc::Status& status, int err_fd);

// Starts detached threads that stream `in_fd` to the child's stdin (EOF
// closes it; the stream stays open so that signals still go through) and
// forward the `signals` taken with sigwait(). `signals` must be blocked in
// every thread. The session must outlive the process: the threads may be
// blocked in read() or sigwait() when the command returns.
template <typename Session>
void StartStdinAndSignalThreads(Session* session, int in_fd,
                                const sigset_t& signals) {
  std::thread([session, in_fd] {
    std::string buffer(64 * 1024, '\0');
    for (;;) {
      ssize_t n = read(in_fd, buffer.data(), buffer.size());
      if (n > 0) {
        if (!session->WriteStdin(buffer.substr(0, n))) return;
      } else if (n == 0 || errno != EINTR) {
        session->CloseStdin();
        return;
      }
    }
  }).detach();
  std::thread([session, signals] {
    for (;;) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) return;
      if (!session->SendSignal(process::SignalName(sig))) return;
    }
  }).detach();
}

}  // namespace rexec::client

#endif  // REXEC_CLIENT_COMMAND_SUPPORT_H_
