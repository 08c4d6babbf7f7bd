// Package rexec runs programs on another machine, through rexecd, the way
// os/exec runs them on this one: a program written for os/exec runs its
// children on the server with only its import changed, to
//
//	exec "github.com/rexec/rexec/clients/go/rexec"
//
// Command, CommandContext, Cmd (with Go 1.20's fields and methods,
// Cancel and WaitDelay among them), LookPath, ExitError, Error,
// ErrNotFound, ErrDot and ErrWaitDelay are os/exec's. Each command is one Spawn call of the
// rexec.v1.ChildProcess API (package rexecpb): stdin travels to the child
// in chunks, its output comes back as it is written, and its exit arrives
// as an *ExitError with the code or the signal, as os/exec reports one.
//
//	out, err := rexec.Command("uname", "-n").Output()
//
// runs uname on the server named by $REXEC_SERVER (see DefaultClient);
// Dial makes a Client for any other server, with TLS and a bearer token.
// A Client opens as many connections as the commands running at once need.
//
// Where a remote child must differ from a local one:
//
//   - Command does not look the program up: Path stays the name, and the
//     server looks it up in the PATH of the child's environment at Start.
//     LookPath asks the server.
//   - Env nil is the server's environment, not this process's, unless the
//     client has WithChildEnv(ChildEnvCaller) (REXEC_CHILD_ENV=caller);
//     with the server's, Environ holds only the PWD of an absolute Dir.
//   - ExtraFiles and SysProcAttr are refused at Start, but Setsid, and
//     Setpgid, which every remote child has.
//   - A signal (Process.Signal, and Cancel's kill) goes to the child's
//     process group, and travels in order behind the stdin already sent
//     (rexecd reads past up to 16 MiB of it that the child has not taken).
//   - A kill must reach the server: when no exit came within WaitDelay of
//     one (10 s when zero), Wait gives the call up, and the server stops
//     the child on its own.
//   - Descendants do not outlive the call: the server reads their output
//     for a while after the child's exit (its --drain-timeout), then stops
//     them.
//   - Errors of the call itself (refused, not found, the connection lost)
//     are *Error values carrying the gRPC status; status.Code(err) reads
//     it, and errors.Is(err, exec.ErrNotFound) or fs.ErrNotExist work as
//     they do for a local start.
package rexec
