package rexec

import (
	"context"
	"errors"
	"time"
)

// How long Wait waits for the exit, after a done context killed the
// child, when WaitDelay is zero: the kill waits behind stdin the child
// does not read, and a connection that died quietly says nothing for
// minutes.
const defaultWaitDelay = 10 * time.Second

// contextOutcome is what the context did to a command: ctx's error once it
// killed the child, and whether the call was then given up without an exit.
// A value, handed from the watcher to Wait.
type contextOutcome struct {
	err       error
	abandoned bool
}

// Wait waits for the child's exit and for the copying of Stdin to end,
// then releases the call. Its error is an *ExitError when the child did
// not exit with 0, an *Error when the call failed (ProcessState stays nil
// then), ctx's error when ctx killed a child that exited with 0 anyway,
// else the error of reading Stdin or writing Stdout or Stderr.
func (c *Cmd) Wait() error {
	if c.Process == nil {
		return errors.New("exec: not started")
	}
	if c.waited {
		return errors.New("exec: Wait was already called")
	}
	c.waited = true
	call := c.call
	<-call.done

	var err error
	if call.exit != nil {
		c.ProcessState = &ProcessState{pid: c.Process.Pid, exit: call.exit}
		if !c.ProcessState.Success() {
			err = &ExitError{ProcessState: c.ProcessState}
		}
	} else {
		err = call.err
	}

	var copyErr error
	if c.stdinCopied != nil {
		if c.stdinPipe != nil {
			// Unblocks the copier, which a StdinPipe never closed holds.
			c.stdinPipe.Close()
		}
		copyErr = <-c.stdinCopied
	}
	if copyErr == nil {
		copyErr = call.writeErr
	}
	if c.ctxOutcome != nil {
		outcome := <-c.ctxOutcome
		if outcome.abandoned && call.exit == nil {
			err = abandonedCallError(outcome.err, c.waitDelay())
		} else if err == nil {
			err = outcome.err
		}
	}
	if err == nil {
		err = copyErr
	}
	call.cancel()
	// As os/exec closes its end of StdoutPipe and StderrPipe after Wait.
	if c.stdoutPipe != nil {
		c.stdoutPipe.Close()
	}
	if c.stderrPipe != nil {
		c.stderrPipe.Close()
	}
	return err
}

// watchContext kills the child when ctx is done before the call ends, as
// os/exec does, and waits for the exit at most WaitDelay. The kill gets its
// own goroutine because it may wait behind stdin the child does not read.
func (c *Cmd) watchContext(ctx context.Context) {
	call := c.call
	select {
	case <-call.done:
		c.ctxOutcome <- contextOutcome{}
		return
	case <-ctx.Done():
	}
	// A call that ended as ctx did was not ended by it.
	select {
	case <-call.done:
		c.ctxOutcome <- contextOutcome{}
		return
	default:
	}
	killed := make(chan struct{})
	go func() {
		call.signal("SIGKILL")
		close(killed)
	}()
	outcome := contextOutcome{err: ctx.Err()}
	timer := time.NewTimer(c.waitDelay())
	defer timer.Stop()
	select {
	case <-call.done:
	case <-timer.C:
		outcome.abandoned = true
		call.cancel()
		<-call.done
	}
	// The call has ended, so the kill's Send has returned or soon does.
	<-killed
	c.ctxOutcome <- outcome
}

func (c *Cmd) waitDelay() time.Duration {
	if c.WaitDelay > 0 {
		return c.WaitDelay
	}
	return defaultWaitDelay
}
