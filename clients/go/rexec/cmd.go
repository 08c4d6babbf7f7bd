package rexec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/rexec/rexec/clients/go/rexecpb"
)

// Cmd is a program to run on a rexecd's machine, as exec.Cmd is one to run
// on this one: the fields and methods are exec.Cmd's and mean the same for
// the child on the server. Make one with Command or Client.Command; a Cmd
// literal runs on DefaultClient, without a context. A Cmd cannot be reused
// after Run, Output or CombinedOutput.
//
// Not safe for concurrent use, but for its Process's Signal and Kill while
// Wait runs.
type Cmd struct {
	// Path is the program: without a slash, it is looked up in the PATH of
	// the child's environment, on the server.
	Path string

	// Args holds the arguments, what the child sees as its argv[0] first
	// (Path itself when Args is empty).
	Args []string

	// Env is the child's environment, each entry "KEY=value" (a later one
	// wins). Nil: the server's own environment (or its policy's), with PWD
	// set to an absolute Dir, as os/exec sets it.
	Env []string

	// Dir is the child's working directory on the server; empty: the
	// server's.
	Dir string

	// Stdin is read and sent to the child until EOF; nil gives the child
	// an empty stdin (EOF at once), as /dev/null.
	Stdin io.Reader

	// Stdout and Stderr receive the child's output as it arrives, from one
	// goroutine: when they are the same writer, the two streams are
	// interleaved in the order they arrived. Nil drops it.
	Stdout io.Writer
	Stderr io.Writer

	// WaitDelay bounds the wait for the exit after a done context killed
	// the child; then Wait gives the call up, and rexecd stops the child of
	// a cancelled call on its own. Zero means 10 seconds (for Go 1.20's
	// exec.Cmd it means no bound, but a remote exit can be lost with its
	// connection).
	WaitDelay time.Duration

	// Process is the started child; set by Start.
	Process *Process

	// ProcessState is how the child ended; set by Wait when the exit
	// arrived.
	ProcessState *ProcessState

	client *Client
	ctx    context.Context
	call   *spawnCall

	stdinPipe   *io.PipeReader
	stdoutPipe  *outputPipe
	stderrPipe  *outputPipe
	stdinCopied chan error          // the stdin copier's result; nil without Stdin
	ctxOutcome  chan contextOutcome // the context watcher's; nil without one
	waited      bool
}

// String is the command line: Path and the arguments after Args[0].
func (c *Cmd) String() string {
	b := new(strings.Builder)
	b.WriteString(c.Path)
	for i, arg := range c.Args {
		if i > 0 {
			b.WriteByte(' ')
			b.WriteString(arg)
		}
	}
	return b.String()
}

// Run starts the command and waits for it to end; see Start and Wait.
func (c *Cmd) Run() error {
	if err := c.Start(); err != nil {
		return err
	}
	return c.Wait()
}

// Start starts the command on the server and returns once the server said
// the child started (Process.Pid is set) or why it could not: an *Error,
// with exec.ErrNotFound for a program not found in PATH. Wait must follow
// a successful Start.
func (c *Cmd) Start() error {
	if c.Path == "" {
		c.closePipes()
		return errors.New("exec: no command")
	}
	if c.Process != nil {
		return errors.New("exec: already started")
	}
	ctx := c.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		c.closePipes()
		return err
	}
	client := c.client
	if client == nil {
		var err error
		if client, err = DefaultClient(); err != nil {
			c.closePipes()
			return err
		}
	}
	start, err := c.spawnStart()
	if err != nil {
		c.closePipes()
		return err
	}
	call, pid, err := startSpawn(ctx, client, start, c.Stdin == nil)
	if err != nil {
		c.closePipes()
		return err
	}
	c.call = call
	c.Process = &Process{Pid: pid, call: call}

	c.startCopying(ctx)
	return nil
}

// startCopying starts the goroutines of a started call: the receiver of
// the output, the copier of Stdin, the watcher of ctx.
func (c *Cmd) startCopying(ctx context.Context) {
	call := c.call
	stdout, stderr := c.Stdout, c.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	go func() {
		call.receive(stdout, stderr)
		// Readers see the end of the output without waiting for Wait.
		if c.stdoutPipe != nil {
			c.stdoutPipe.closeWrite(call.err)
		}
		if c.stderrPipe != nil {
			c.stderrPipe.closeWrite(call.err)
		}
		close(call.done)
	}()
	if c.Stdin != nil {
		c.stdinCopied = make(chan error, 1)
		go func() { c.stdinCopied <- c.copyStdin() }()
	}
	if ctx.Done() != nil {
		c.ctxOutcome = make(chan contextOutcome, 1)
		go c.watchContext(ctx)
	}
}

func (c *Cmd) spawnStart() (*rexecpb.SpawnStart, error) {
	start := &rexecpb.SpawnStart{
		Argv:    []string{c.Path},
		Options: &rexecpb.ProcessOptions{Cwd: c.Dir},
	}
	if len(c.Args) > 0 {
		start.Argv = append(start.Argv, c.Args[1:]...)
		if c.Args[0] != c.Path {
			start.Argv0 = c.Args[0]
		}
	}
	options := start.Options
	if c.Env != nil {
		options.ClearEnv = true
		options.Env = make(map[string]string, len(c.Env))
		for _, entry := range c.Env {
			i := strings.IndexByte(entry, '=')
			if i < 0 {
				return nil, fmt.Errorf("rexec: Env entry %q is not KEY=value", entry)
			}
			options.Env[entry[:i]] = entry[i+1:]
		}
	} else if path.IsAbs(c.Dir) {
		// os/exec does this since Go 1.19 (go.dev/issue/50599); a relative
		// Dir is the server's to resolve, so PWD stays its own.
		options.Env = map[string]string{"PWD": c.Dir}
	}
	return start, nil
}

func (c *Cmd) copyStdin() error {
	err := c.call.copyStdin(c.Stdin)
	if c.stdinPipe != nil {
		// Writes into StdinPipe fail from now on rather than block: nothing
		// takes them any more.
		c.stdinPipe.Close()
		if err == io.ErrClosedPipe { // Wait closed it
			err = nil
		}
	}
	return err
}

// closePipes closes the pipes of a command that did not start, as os/exec
// closes its descriptors.
func (c *Cmd) closePipes() {
	if c.stdinPipe != nil {
		c.stdinPipe.Close()
	}
	for _, p := range []*outputPipe{c.stdoutPipe, c.stderrPipe} {
		if p != nil {
			p.Close()
		}
	}
}
