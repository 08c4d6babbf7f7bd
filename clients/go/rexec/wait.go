package rexec

import (
	"context"
	"errors"
	"os"
	"time"
)

// ErrWaitDelay is Go 1.20's exec.ErrWaitDelay (Go 1.19 has none): Wait's
// error when WaitDelay passed before the copying of Stdin ended, and the
// child otherwise succeeded.
var ErrWaitDelay = errors.New("exec: WaitDelay expired before I/O complete")

// A SIGKILL ends a local child at once; a remote one must first reach the
// server, behind the stdin already sent (past 16 MiB the child has not
// taken, rexecd reads no further), and over a connection that may have
// died without a word.
// This is how long Wait waits for the exit after a kill when WaitDelay is
// zero.
const defaultKillWait = 10 * time.Second

// watchOutcome is what the watcher saw of a call, for Wait. A value.
type watchOutcome struct {
	err       error     // the context's or Cancel's, as Go 1.20's Wait reports it
	ctxErr    error     // the context's, if it was done before the call ended
	ctxDoneAt time.Time // and when
	abandoned bool      // no exit came within the kill wait: the call was given up
}

// Wait waits for the child's exit and for the copying of Stdin to end,
// then releases the call. Its error is an *ExitError when the child did
// not exit with 0, an *Error when the call failed (ProcessState stays nil
// then), the context's or Cancel's error when Cancel was called and the
// child exited with 0 anyway, else the error of reading Stdin or writing
// Stdout or Stderr, or ErrWaitDelay.
func (c *Cmd) Wait() error {
	if c.Process == nil {
		return errors.New("exec: not started")
	}
	if c.waited {
		return errors.New("exec: Wait was already called")
	}
	c.waited = true
	call := c.call
	outcome := <-c.watched

	var err error
	switch {
	case call.exit != nil:
		c.ProcessState = &ProcessState{pid: c.Process.Pid, exit: call.exit}
		if !c.ProcessState.Success() {
			err = &ExitError{ProcessState: c.ProcessState}
		}
	case outcome.abandoned:
		err = abandonedCallError(call.name, outcome.ctxErr, c.killWait())
	default:
		err = call.err
	}
	if err == nil {
		err = outcome.err
	}
	copyErr := c.awaitStdin(outcome.ctxDoneAt)
	if copyErr == nil {
		copyErr = call.writeErr
	}
	if err == nil {
		err = copyErr
	}
	// As os/exec closes its end of StdoutPipe and StderrPipe after Wait.
	if c.stdoutPipe != nil {
		c.stdoutPipe.Close()
	}
	if c.stderrPipe != nil {
		c.stderrPipe.Close()
	}
	return err
}

// awaitStdin waits for the stdin copier of an ended call: it ends at its
// next read, whose data has nowhere to go. WaitDelay bounds the wait, from
// ctxDoneAt if set. An *os.File is not waited for: a local child reads it
// itself, and Wait does not wait for it either.
func (c *Cmd) awaitStdin(ctxDoneAt time.Time) error {
	if c.stdinCopied == nil {
		return nil
	}
	if c.stdinPipe != nil {
		// Unblocks the copier, which a StdinPipe never closed holds.
		c.stdinPipe.Close()
	}
	if _, ok := c.Stdin.(*os.File); ok {
		return nil
	}
	if c.WaitDelay <= 0 {
		return <-c.stdinCopied
	}
	start := ctxDoneAt
	if start.IsZero() {
		start = time.Now()
	}
	timer := time.NewTimer(time.Until(start.Add(c.WaitDelay)))
	defer timer.Stop()
	select {
	case err := <-c.stdinCopied:
		return err
	case <-timer.C:
		return ErrWaitDelay
	}
}

// watch runs from Start until the call has ended, then hands Wait its
// outcome. As Go 1.20's os/exec, it calls Cancel when the context is done
// and kills the child when WaitDelay has passed since. For a remote child
// only, it gives the call up when no exit came within killWait of a kill,
// whoever asked for it.
func (c *Cmd) watch(ctx context.Context) {
	call := c.call
	var outcome watchOutcome
	ctxDone := ctx.Done()
	var cancelled chan error // Cancel's result, while it runs
	var waitDelay, giveUp <-chan time.Time
	killed := call.killed
	var timers []*time.Timer
	after := func(d time.Duration) <-chan time.Time {
		t := time.NewTimer(d)
		timers = append(timers, t)
		return t.C
	}
	for ended := false; !ended; {
		select {
		case <-call.done:
			ended = true
		case <-ctxDone:
			ctxDone = nil
			select {
			case <-call.done: // a call that ended as ctx did was not ended by it
				ended = true
				continue
			default:
			}
			outcome.ctxErr, outcome.ctxDoneAt = ctx.Err(), time.Now()
			if c.Cancel != nil {
				// Cancel may wait behind stdin the child does not read:
				// the kill below and the give-up must not.
				cancelled = make(chan error, 1)
				go func() { cancelled <- c.Cancel() }()
			}
			if c.WaitDelay > 0 {
				waitDelay = after(c.WaitDelay)
			}
		case err := <-cancelled:
			cancelled = nil
			outcome.err = cancelError(ctx, err)
		case <-waitDelay:
			waitDelay = nil
			go call.signal("SIGKILL")
		case <-killed:
			killed = nil
			giveUp = after(c.killWait())
		case <-giveUp:
			giveUp = nil
			outcome.abandoned = true
			call.cancel()
		}
	}
	for _, t := range timers {
		t.Stop()
	}
	if cancelled != nil {
		// The call has ended, so a Send of Cancel's returns, or soon does.
		outcome.err = cancelError(ctx, <-cancelled)
	}
	c.watched <- outcome
}

// cancelError is what Go 1.20's Wait reports of Cancel's result when the
// child exited with 0 anyway: the context's error when Cancel worked,
// nothing when the child was already gone, else Cancel's error.
func cancelError(ctx context.Context, err error) error {
	switch {
	case err == nil:
		return ctx.Err()
	case errors.Is(err, os.ErrProcessDone):
		return nil
	}
	return wrappedError{prefix: "exec: canceling Cmd", err: err}
}

// killWait is how long Wait waits for the exit after a kill.
func (c *Cmd) killWait() time.Duration {
	if c.WaitDelay > 0 {
		return c.WaitDelay
	}
	return defaultKillWait
}

// wrappedError is os/exec's: an error with a prefix, unwrapping to it.
type wrappedError struct {
	prefix string
	err    error
}

func (w wrappedError) Error() string { return w.prefix + ": " + w.err.Error() }
func (w wrappedError) Unwrap() error { return w.err }
