package rexec

import (
	"strconv"
	"syscall"
	"time"

	"github.com/rexec/rexec/clients/go/rexecpb"
)

// ProcessState is how a remote child ended, with the methods of
// os.ProcessState, made from the server's exit event. Immutable; safe for
// concurrent use.
type ProcessState struct {
	pid  int
	exit *rexecpb.ExitStatus
}

// Pid is the child's process id on the server.
func (p *ProcessState) Pid() int { return p.pid }

// Exited is whether the child exited on its own (not by a signal).
func (p *ProcessState) Exited() bool {
	_, ok := p.exit.Status.(*rexecpb.ExitStatus_Code)
	return ok
}

// ExitCode is the child's exit code, or -1 when a signal ended it.
func (p *ProcessState) ExitCode() int {
	if code, ok := p.exit.Status.(*rexecpb.ExitStatus_Code); ok {
		return int(code.Code)
	}
	return -1
}

// Success is whether the child exited with code 0.
func (p *ProcessState) Success() bool { return p.ExitCode() == 0 }

// SignalName is the signal that ended the child as the server names it
// ("SIGKILL"), or "" when it exited.
func (p *ProcessState) SignalName() string { return p.exit.GetSignal() }

// Signal is the signal that ended the child, by this platform's number,
// or -1 when it exited (or this platform has no such signal), as
// syscall.WaitStatus.Signal says.
func (p *ProcessState) Signal() syscall.Signal {
	if p.Exited() {
		return -1
	}
	return signalByName(p.SignalName())
}

// CoreDumped is whether the signal that ended the child dumped its core.
func (p *ProcessState) CoreDumped() bool { return p.exit.CoreDumped }

// Reason is why the child ended: on its own, by a signal of the client,
// its timeout, its memory limit...
func (p *ProcessState) Reason() rexecpb.TerminationReason { return p.exit.Reason }

// WallTime is the time from the child's start to its exit.
func (p *ProcessState) WallTime() time.Duration { return p.exit.WallTime.AsDuration() }

// UserTime is the child's user CPU time.
func (p *ProcessState) UserTime() time.Duration { return p.exit.GetUsage().GetUserCpu().AsDuration() }

// SystemTime is the child's system CPU time.
func (p *ProcessState) SystemTime() time.Duration {
	return p.exit.GetUsage().GetSystemCpu().AsDuration()
}

// Sys is the exit as a syscall.WaitStatus, so that code written for
// os.ProcessState.Sys works; nil for a signal this platform has no number
// for.
func (p *ProcessState) Sys() interface{} {
	if p.Exited() {
		return syscall.WaitStatus((p.ExitCode() & 0xff) << 8)
	}
	sig := p.Signal()
	if sig <= 0 || sig >= 0x7f {
		return nil
	}
	status := syscall.WaitStatus(sig)
	if p.CoreDumped() {
		status |= 0x80
	}
	return status
}

// SysUsage is the child's resource usage, a *rexecpb.ResourceUsage.
func (p *ProcessState) SysUsage() interface{} { return p.exit.GetUsage() }

// String is "exit status 1" or "signal: killed", as os.ProcessState says.
func (p *ProcessState) String() string {
	if p == nil {
		return "<nil>"
	}
	if p.Exited() {
		return "exit status " + strconv.Itoa(p.ExitCode())
	}
	text := p.SignalName()
	if _, known := signalsByName[text]; known {
		text = p.Signal().String()
	}
	text = "signal: " + text
	if p.CoreDumped() {
		text += " (core dumped)"
	}
	return text
}
