package rexec

import (
	"errors"
	"io"
)

// StdinPipe returns a pipe whose writes go to the child's stdin once it
// started; closing it is the child's EOF. As for os/exec, Wait closes it
// after the exit (writes then fail with io.ErrClosedPipe), and a child
// that reads until EOF needs it closed.
func (c *Cmd) StdinPipe() (io.WriteCloser, error) {
	if c.Stdin != nil {
		return nil, errors.New("exec: Stdin already set")
	}
	if c.Process != nil {
		return nil, errors.New("exec: StdinPipe after process started")
	}
	r, w := io.Pipe()
	c.Stdin = r
	c.stdinPipe = r
	return w, nil
}

// StdoutPipe returns a pipe that reads the child's standard output, to its
// end (io.EOF, or the call's error when the call failed). As for os/exec,
// Wait closes it: read all of it before calling Wait, and do not use Run.
func (c *Cmd) StdoutPipe() (io.ReadCloser, error) {
	if c.Stdout != nil {
		return nil, errors.New("exec: Stdout already set")
	}
	if c.Process != nil {
		return nil, errors.New("exec: StdoutPipe after process started")
	}
	c.stdoutPipe = newOutputPipe()
	c.Stdout = c.stdoutPipe
	return c.stdoutPipe, nil
}

// StderrPipe is StdoutPipe for the standard error.
func (c *Cmd) StderrPipe() (io.ReadCloser, error) {
	if c.Stderr != nil {
		return nil, errors.New("exec: Stderr already set")
	}
	if c.Process != nil {
		return nil, errors.New("exec: StderrPipe after process started")
	}
	c.stderrPipe = newOutputPipe()
	c.Stderr = c.stderrPipe
	return c.stderrPipe, nil
}
