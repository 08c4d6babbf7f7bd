package rexec

// ExitError is a child that did not exit with code 0, as exec.ExitError:
// ExitCode() is its code (-1 for a signal), Signal() and SignalName() the
// signal that ended it. Not an error of the call: it has no gRPC status.
// Immutable once returned; safe for concurrent use.
type ExitError struct {
	*ProcessState

	// Stderr holds the start and the end (32 KiB each) of the child's
	// standard error when Output collected it, that is when Cmd.Stderr was
	// nil, as exec.ExitError.Stderr does.
	Stderr []byte
}

func (e *ExitError) Error() string { return e.ProcessState.String() }
