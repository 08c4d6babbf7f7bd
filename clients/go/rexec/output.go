package rexec

import (
	"bytes"
	"errors"
)

// Output runs the command and returns its standard output. When Stderr
// is nil, an *ExitError carries the start and end of the standard error.
func (c *Cmd) Output() ([]byte, error) {
	if c.Stdout != nil {
		return nil, errors.New("exec: Stdout already set")
	}
	var stdout bytes.Buffer
	c.Stdout = &stdout
	var saver *stderrSaver
	if c.Stderr == nil {
		saver = &stderrSaver{n: 32 << 10}
		c.Stderr = saver
	}
	err := c.Run()
	if exitErr, ok := err.(*ExitError); ok && saver != nil {
		exitErr.Stderr = saver.Bytes()
	}
	return stdout.Bytes(), err
}

// CombinedOutput runs the command and returns its standard output and
// standard error interleaved in the order they arrived.
func (c *Cmd) CombinedOutput() ([]byte, error) {
	if c.Stdout != nil {
		return nil, errors.New("exec: Stdout already set")
	}
	if c.Stderr != nil {
		return nil, errors.New("exec: Stderr already set")
	}
	var combined bytes.Buffer
	c.Stdout = &combined
	c.Stderr = &combined
	err := c.Run()
	return combined.Bytes(), err
}
