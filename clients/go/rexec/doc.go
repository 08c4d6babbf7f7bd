// Package rexec runs programs on another machine, through rexecd, the way
// os/exec runs them on this one.
//
// A Cmd has the fields and methods of exec.Cmd (Path, Args, Env, Dir,
// Stdin, Stdout, Stderr, Process, ProcessState; Run, Start, Wait, Output,
// CombinedOutput and the pipes), and each is one Spawn call of the
// rexec.v1.ChildProcess API (package rexecpb): stdin travels to the child
// in chunks, its output comes back as it is written, and its exit arrives
// as an *ExitError with the code or the signal, as os/exec reports one.
//
//	out, err := rexec.Command(ctx, "uname", "-n").Output()
//
// runs uname on the server named by $REXEC_SERVER (see DefaultClient);
// Dial makes a Client for any other server, with TLS and a bearer token.
//
// Where a remote child must differ from a local one:
//
//   - The program is looked up in the PATH of the child's environment on
//     the server, not here; Path stays the name given.
//   - A signal (Process.Signal, and the kill when the context is done)
//     goes to the child's process group, and travels in order behind the
//     stdin already sent.
//   - When the context is done the child is killed and Wait waits for its
//     exit at most WaitDelay; then it gives up the call, and the server
//     stops the child on its own.
//   - Errors of the call itself (refused, not found, the connection lost)
//     are *Error values carrying the gRPC status; status.Code(err) reads
//     it, and errors.Is(err, exec.ErrNotFound) or fs.ErrNotExist work as
//     they do for a local start.
//   - There is no ExtraFiles, SysProcAttr or LookPath: the server decides
//     those.
package rexec
