// ChildHandle is what a call (server/rpc's ChildCall) drives a process
// through, and its Owner what the process tells the call: its own child's
// Supervisor for Spawn, Exec and Fork, or an Attachment to a session for
// Attach. In the table's own types: the call converts at its edge. A handle
// lives on its owner's executor thread; not thread-safe.
//
// The owner keeps a handle until Owner::OnSupervisorDone() (or Release()s
// one that outlives_call()): until then it still has work to finish.
#ifndef REXEC_SERVER_TABLE_CHILD_HANDLE_H_
#define REXEC_SERVER_TABLE_CHILD_HANDLE_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "server/table/exit_report.h"
#include "server/table/output_chunk.h"

namespace rexec::table {

class ChildHandle {
 public:
  // What the handle reads from the process...
  enum class Stream { kStdout = 0, kStderr = 1, kChannel = 2 };
  // ...and what it writes to it.
  enum class Input { kStdin = 0, kChannel = 1 };

  class Owner {
   public:
    virtual ~Owner() = default;
    // How many bytes of output the owner takes now: a read takes at most
    // that (and at most a chunk). After 0 the owner calls ResumeOutput()
    // once it has room. A fast child then blocks on its full pipe instead
    // of growing the server.
    virtual size_t OutputRoom() = 0;
    virtual void OnOutput(Stream stream, OutputChunk data) = 0;
    // An attachment asked for bytes the session's log no longer keeps:
    // `bytes` were skipped, and output resumes at `resume_offset`.
    virtual void OnLost(Stream stream, uint64_t bytes, uint64_t resume_offset) {
    }
    // The chunk given to WriteInput() reached the pipe or socket, or was
    // dropped because the child no longer reads that input.
    virtual void OnInputWritten(Input input) = 0;
    // An attachment's input could not be taken (the session's queue is
    // full), or its session was put out of its caller's reach (a policy
    // reload): the call ends with `status`.
    virtual void OnRefused(absl::Status status) {}
    // The child closed the IPC channel (or ended). Not called after
    // CloseChannel().
    virtual void OnChannelClosed() {}
    // The child was reaped and its pipes reached EOF (or the drain timeout
    // passed). Called once, unless the child could not be started.
    virtual void OnExit(ExitReport exit) = 0;
    // An attachment that does not follow sent all that was kept, and the
    // session still runs: there is no exit to report.
    virtual void OnCaughtUp() {}
    // Nothing of the handle is pending any more; it may be destroyed.
    virtual void OnSupervisorDone() = 0;
  };

  virtual ~ChildHandle() = default;

  virtual pid_t pid() const = 0;
  virtual bool has_terminal() const = 0;
  // The session's id: of a detached child, or the one attached to.
  virtual const std::string& session_id() const = 0;
  // Whether the process goes on when the call goes: then the call
  // Release()s it instead of stopping it.
  virtual bool outlives_call() const = 0;
  // The terminal's EOF character, what close_stdin sends to a terminal (as
  // ssh does); nullopt without one (or when the child disabled it).
  virtual std::optional<char> TerminalEof() const = 0;
  // FAILED_PRECONDITION without a terminal; INVALID_ARGUMENT for a size
  // no terminal has.
  virtual absl::Status Resize(WindowRequest size) = 0;
  // Bytes written to the process (stdin, channel) and read from it.
  virtual uint64_t bytes_in() const = 0;
  virtual uint64_t bytes_out() const = 0;
  // The exit given to Owner::OnExit(), once it was.
  virtual const std::optional<ExitReport>& reported_exit() const = 0;

  // One chunk per input at a time: the next only after OnInputWritten().
  virtual void WriteInput(Input input, std::string data) = 0;
  virtual void CloseInput(Input input) = 0;
  // Closes the channel both ways at once; unread messages are dropped.
  virtual void CloseChannel() = 0;
  // INVALID_ARGUMENT for an unknown name.
  virtual absl::Status Signal(const std::string& name) = 0;
  virtual void ResumeOutput() = 0;
  // The call ends: the child is stopped with its policy (an attachment
  // only lets go of its session). `reason` is reported in the exit unless
  // an earlier stop already set one. Idempotent.
  virtual void Stop(TerminationReason reason) = 0;
  // For outlives_call(): the owner lets go; no Owner call after this.
  virtual void Release() = 0;
};

}  // namespace rexec::table

#endif  // REXEC_SERVER_TABLE_CHILD_HANDLE_H_
