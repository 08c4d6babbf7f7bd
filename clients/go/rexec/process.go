package rexec

import (
	"fmt"
	"os"
	"syscall"
)

// Process is a started remote child, as os.Process: its pid on the server,
// and signals for it. Safe for concurrent use: Signal and Kill may be
// called from any goroutine while Wait runs.
type Process struct {
	Pid  int
	call *spawnCall
}

// Signal sends sig to the child's process group. A signal travels behind
// the stdin already sent, which waits while the child does not read it.
// After the exit it is os.ErrProcessDone.
func (p *Process) Signal(sig os.Signal) error {
	number, ok := sig.(syscall.Signal)
	if !ok {
		return fmt.Errorf("rexec: unsupported signal type %T", sig)
	}
	name, ok := signalNameOf(number)
	if !ok {
		return fmt.Errorf("rexec: signal %d has no name rexecd knows", int(number))
	}
	return p.call.signal(name)
}

// Kill sends SIGKILL to the child's process group.
func (p *Process) Kill() error { return p.Signal(syscall.SIGKILL) }
