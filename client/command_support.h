// What the rexec commands (spawn, exec, fork) share: writing whole buffers
// to fds, the threads that stream the CLI's stdin to the child and forward
// its signals, and the one-line notes and errors they print.
#ifndef REXEC_CLIENT_COMMAND_SUPPORT_H_
#define REXEC_CLIENT_COMMAND_SUPPORT_H_

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "client/child_session.h"
#include "client/local_terminal.h"
#include "common/signal_name.h"
#include "google/protobuf/duration.pb.h"
#include "grpcpp/support/status.h"

namespace rexec::client {

// The exit code for an RPC or connection error, as ssh uses.
constexpr int kRpcErrorExitCode = 255;
// The exit code of `rexec exec` whose output passed max_buffer.
constexpr int kOutputCutExitCode = 1;

constexpr char kServerShutdownNote[] =
    "rexec: the server was shutting down and stopped the child\n";

// False when the fd is closed on the other side (EPIPE).
bool WriteAll(int fd, absl::string_view data);

// "rexec: timed out after 1.5s; the child was stopped\n"
std::string TimeoutNote(const google::protobuf::Duration& timeout);

// The exit codes of a program that could not be started, as shells and ssh
// have them.
constexpr int kNotFoundExitCode = 127;
constexpr int kCannotRunExitCode = 126;

// Writes "rexec: CODE: message" (or a note that the call ended without an
// exit status), with what a connection failure most likely means, to
// `err_fd`. The server's words are escaped (Printable). Returns
// StartFailureExitCode(status).
int ReportCallEnd(const grpc::Status& status, int err_fd, bool tls);

// What rexec exits with for a call that ended with `status`: 127 when the
// program was not found, 126 when it was found but cannot run (not
// executable, not a format the kernel runs, a path through a file), as
// rexecd words them ("spawn PROGRAM: REASON (ERRNO)", the form the
// libraries read the errno from); else kRpcErrorExitCode, for every other
// failure (a missing cwd, a policy's refusal, the server unreachable).
int StartFailureExitCode(const grpc::Status& status);
// ShellExitCode, or kRpcErrorExitCode after saying on `err_fd` what was
// wrong with the exit the server sent.
int ExitCode(const v1::ExitStatus& exit, int err_fd);

// Opens a session for `start` and starts detached threads that stream
// `in_fd` to the child's stdin (EOF closes it; the stream stays open so
// that signals still go through) and forward the `signals` taken with
// sigwait(). `signals` must be blocked in every thread. The session is never
// freed: the threads may be blocked in read() or sigwait() when the command
// returns.
//
// SIGINT and SIGTERM end rexec at once, with 128 + N, when the server has
// not answered: before it said the child
// started (opening the call may hang on a server that does not answer), or
// when nothing came back since the last one was forwarded; and the second
// of them always does. Otherwise they are forwarded, as every other signal
// is.
//
// With a terminal (start.options.pty), SIGWINCH sends in_fd's new window
// size, and SIGTERM and SIGHUP end rexec at once, as they end ssh: the
// server hangs the remote terminal up. Every way out restores the local
// terminal (RestoreLocalTerminal).
// For a command that forwards no signal (ps, logs, kill, health, a detached
// spawn): a detached thread ends rexec with 128 + N at the first of
// `signals` (which must be blocked in every thread), the local terminal
// restored.
void LeaveOnSignals(const sigset_t& signals);

// How the CLI's stdin goes to the child.
struct InputOptions {
  // EOF on in_fd sends close_stdin (not for an attachment: the session's
  // stdin is everyone's).
  bool close_on_eof = true;
  // Ctrl-P Ctrl-Q (as Docker's) leaves: `on_detach` runs (it restores the
  // terminal and says so), then rexec exits 0; the remote process runs on.
  std::function<void()> on_detach;
};

// The bytes of `data` before a detach key sequence (Ctrl-P Ctrl-Q), and
// whether one was found. `held` carries a Ctrl-P that ended the previous
// chunk.
bool SplitAtDetachKeys(std::string& data, bool* held);

template <typename Session>
Session* OpenSession(v1::ChildProcess::StubInterface& stub,
                     const typename Session::Start& start,
                     const SessionOptions& options, int in_fd,
                     const sigset_t& signals, int err_fd,
                     InputOptions input = {}) {
  auto* opened = new std::atomic<Session*>(nullptr);
  bool terminal = false;
  if constexpr (std::is_same_v<typename Session::Start, v1::AttachStart>) {
    terminal = input.on_detach != nullptr;
  } else {
    terminal = start.options().has_pty();
  }
  std::thread([opened, signals, err_fd, terminal, in_fd] {
    std::optional<uint64_t> unanswered_since;
    int stops = 0;
    for (;;) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) return;
      Session* session = opened->load();
      if (sig == SIGWINCH) {
        if constexpr (!std::is_same_v<Session, ForkSession>) {
          std::optional<v1::Resize> size = LocalWindowSize(in_fd);
          if (session != nullptr && size) {
            std::thread([session, size = *size] {
              session->Resize(size.rows(), size.cols());
            }).detach();
          }
        }
        continue;
      }
      const bool stop = sig == SIGINT || sig == SIGTERM;
      const bool hang_up = terminal && (sig == SIGTERM || sig == SIGHUP);
      // A second SIGINT or SIGTERM leaves whatever the server does: one
      // that streams on regardless must not keep rexec.
      const bool again = stop && ++stops >= 2;
      if (hang_up || again ||
          (stop && (session == nullptr || session->responses() == 0 ||
                    unanswered_since == session->responses()))) {
        RestoreLocalTerminal();
        WriteAll(err_fd,
                 hang_up ? absl::StrCat("\r\nrexec: ", SignalName(sig),
                                        ": the remote terminal is hung up\n")
                 : again ? absl::StrCat("rexec: ", SignalName(sig),
                                        " again; leaving\n")
                         : absl::StrCat("rexec: the server has not answered; "
                                        "leaving on ",
                                        SignalName(sig), "\n"));
        // Not Cancel(): that would wake the reading thread, which could
        // exit first with its own code. Our connection closing is the
        // cancel the server sees.
        std::_Exit(128 + sig);
      }
      if (session == nullptr) continue;
      if (stop) unanswered_since = session->responses();
      // On a thread of its own: a server that does not read must not keep
      // this one from seeing the next signal.
      std::thread([session, name = SignalName(sig)] {
        session->SendSignal(name);
      }).detach();
    }
  }).detach();
  auto* session = new Session(stub, start, options);
  opened->store(session);
  std::thread([session, in_fd, input = std::move(input)] {
    std::string buffer(64 * 1024, '\0');
    bool held = false;
    for (;;) {
      ssize_t n = read(in_fd, buffer.data(), buffer.size());
      if (n > 0) {
        std::string data = buffer.substr(0, n);
        const bool leave = input.on_detach && SplitAtDetachKeys(data, &held);
        if (!data.empty() && !session->WriteStdin(std::move(data))) return;
        if (leave) {
          input.on_detach();
          std::_Exit(0);
        }
      } else if (n == 0 || errno != EINTR) {
        if (input.close_on_eof) session->CloseStdin();
        return;
      }
    }
  }).detach();
  return session;
}

}  // namespace rexec::client

#endif  // REXEC_CLIENT_COMMAND_SUPPORT_H_
