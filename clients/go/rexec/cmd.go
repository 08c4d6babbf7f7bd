package rexec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"reflect"
	"strings"
	"syscall"
	"time"

	"github.com/rexec/rexec/clients/go/rexecpb"
)

// Cmd is a program to run on a rexecd's machine, as exec.Cmd is one to run
// on this one: the fields and methods are Go 1.20's exec.Cmd's and mean the
// same for the child on the server. Make one with Command, CommandContext
// or a Client's; a Cmd literal runs on DefaultClient. A Cmd cannot be
// reused after Run, Output or CombinedOutput.
//
// Not safe for concurrent use, but for its Process's Signal and Kill while
// Wait runs.
type Cmd struct {
	// Path is the program: without a slash, it is looked up in the PATH of
	// the child's environment, on the server, when the command starts.
	Path string

	// Args holds the arguments, what the child sees as its argv[0] first
	// (Path itself when Args is empty).
	Args []string

	// Env is the child's environment, each entry "KEY=value" (a later one
	// wins). Nil: the server's own environment (or its policy's), or with
	// the client's WithChildEnv(ChildEnvCaller) this process's, as a local
	// child inherits it; with PWD set to an absolute Dir, as os/exec sets
	// it.
	Env []string

	// Dir is the child's working directory on the server; empty: the
	// server's.
	Dir string

	// Stdin is read here and sent to the child until EOF; nil gives the
	// child an empty stdin (EOF at once), as /dev/null.
	Stdin io.Reader

	// Stdout and Stderr receive the child's output as it arrives, from one
	// goroutine: when they are the same writer, the two streams are
	// interleaved in the order they arrived. Nil drops it.
	Stdout io.Writer
	Stderr io.Writer

	// ExtraFiles and SysProcAttr are os/exec's, so that a program that
	// names them builds; but a file or an attribute of this machine means
	// nothing to a child on another, and Start refuses them, saying which.
	// The attributes it takes are Setsid (the child leads a new session)
	// and Setpgid with Pgid 0, which every remote child has anyway: it
	// leads its own process group.
	ExtraFiles  []*os.File
	SysProcAttr *syscall.SysProcAttr

	// Process is the started child; set by Start.
	Process *Process

	// ProcessState is how the child ended; set by Wait when the exit
	// arrived.
	ProcessState *ProcessState

	// Err is Start's error before anything is tried, as Go 1.20's field:
	// Command leaves it nil, since the server looks the program up.
	Err error

	// Cancel is called when the context of CommandContext is done before
	// the command ends; CommandContext sets it to kill the child. When the
	// child then exits with 0, Wait returns the context's error, or
	// Cancel's wrapped ("exec: canceling Cmd: ...") unless that is
	// os.ErrProcessDone. Nil: nothing happens then but WaitDelay.
	Cancel func() error

	// WaitDelay, when not zero, bounds two waits of Wait, as Go 1.20's:
	// for the exit, from the time the context is done (then the child is
	// killed), and for the copying of Stdin, from then or from the exit
	// (then Wait returns ErrWaitDelay if the child succeeded). It also
	// bounds the wait for the exit after a kill, which must reach the
	// server (10 seconds when zero): then Wait gives the call up with an
	// *Error, and rexecd stops the child of a call given up.
	WaitDelay time.Duration

	client *Client
	ctx    context.Context
	call   *spawnCall

	stdinPipe   *io.PipeReader
	stdoutPipe  *outputPipe
	stderrPipe  *outputPipe
	stdinCopied chan error        // the stdin copier's result; nil without Stdin
	watched     chan watchOutcome // the watcher's, once the call ended
	waited      bool
}

// String is the command line: Path and the arguments after Args[0], or
// Args when Err is set.
func (c *Cmd) String() string {
	if c.Err != nil {
		return strings.Join(c.Args, " ")
	}
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

// Environ is the environment Start sends: a copy of Env; with Env nil,
// this process's (os.Environ()) when the client's child environment is
// ChildEnvCaller, as exec.Cmd.Environ, else nothing (the server's own
// environment, which the child gets then, is not known here); and PWD for
// an absolute Dir.
func (c *Cmd) Environ() []string {
	if c.Env != nil {
		return append([]string(nil), c.Env...)
	}
	client, err := c.clientOrDefault()
	if err != nil {
		client = nil // Start fails with that error; nothing is inherited
	}
	return c.inherited(client)
}

// inherited is the environment of a Cmd with Env nil that Start sends as
// the caller's (caller_env): the client's inherited one, and PWD for an
// absolute Dir, as os/exec sets it since Go 1.19 (go.dev/issue/50599; a
// relative Dir is the server's to resolve, so PWD stays its own). PWD goes
// as the caller's, last so that it wins: a policy that does not let a
// client set PWD leaves it out rather than refusing the command.
func (c *Cmd) inherited(client *Client) []string {
	var env []string
	if client != nil {
		env = client.inheritedEnv()
	}
	if path.IsAbs(c.Dir) {
		env = append(withoutName(env, "PWD"), "PWD="+c.Dir)
	}
	return env
}

// clientOrDefault is the Cmd's client, else DefaultClient.
func (c *Cmd) clientOrDefault() (*Client, error) {
	if c.client != nil {
		return c.client, nil
	}
	return DefaultClient()
}

// withoutName is env less its entries for name.
func withoutName(env []string, name string) []string {
	kept := env[:0:0]
	for _, entry := range env {
		if !strings.HasPrefix(entry, name+"=") {
			kept = append(kept, entry)
		}
	}
	return kept
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
// whose Err is ErrNotFound for a program not found in PATH. Wait must
// follow a successful Start.
func (c *Cmd) Start() error {
	if c.Process != nil {
		return errors.New("exec: already started")
	}
	started := false
	defer func() {
		if !started {
			c.closePipes()
		}
	}()
	if c.Path == "" && c.Err == nil {
		c.Err = errors.New("exec: no command")
	}
	if c.Err != nil {
		return c.Err
	}
	if c.Cancel != nil && c.ctx == nil {
		return errors.New("exec: command with a non-nil Cancel was not created with CommandContext")
	}
	ctx := c.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.refuseLocalOnly(); err != nil {
		return err
	}
	client, err := c.clientOrDefault()
	if err != nil {
		return err
	}
	start, err := c.spawnStart(client)
	if err != nil {
		return err
	}
	call, pid, err := startSpawn(ctx, client, start, c.Stdin == nil)
	if err != nil {
		return err
	}
	started = true
	c.call = call
	c.Process = &Process{Pid: pid, call: call}

	c.startCopying(ctx)
	return nil
}

// refuseLocalOnly is Start's error for what only a local child could
// have, naming the fields set.
func (c *Cmd) refuseLocalOnly() error {
	if len(c.ExtraFiles) > 0 {
		return errors.New("rexec: ExtraFiles: a remote child cannot inherit this machine's files")
	}
	if c.SysProcAttr == nil {
		return nil
	}
	var set []string
	attr := reflect.ValueOf(c.SysProcAttr).Elem()
	for i := 0; i < attr.NumField(); i++ {
		name := attr.Type().Field(i).Name
		if !attr.Field(i).IsZero() && name != "Setpgid" && name != "Setsid" {
			set = append(set, "SysProcAttr."+name)
		}
	}
	if len(set) == 0 {
		return nil
	}
	return fmt.Errorf("rexec: %s: a remote child takes no process attribute of this machine's "+
		"(but Setsid, and Setpgid, which it has anyway)", strings.Join(set, ", "))
}

// startCopying starts the goroutines of a started call: the receiver of
// the output, the copier of Stdin, the watcher.
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
	c.watched = make(chan watchOutcome, 1)
	go c.watch(ctx)
}

func (c *Cmd) spawnStart(client *Client) (*rexecpb.SpawnStart, error) {
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
	} else {
		options.ClearEnv = client.childEnv == ChildEnvCaller
		options.CallerEnv = envVars(c.inherited(client))
	}
	options.NewSession = c.SysProcAttr != nil && c.SysProcAttr.Setsid
	return start, nil
}

// envVars are "KEY=value" entries as the API's caller_env, which the
// server filters by its policy (an entry without a name is left out).
func envVars(entries []string) []*rexecpb.EnvVar {
	var env []*rexecpb.EnvVar
	for _, entry := range entries {
		if name, value, ok := strings.Cut(entry, "="); ok && name != "" {
			env = append(env, &rexecpb.EnvVar{Name: []byte(name), Value: []byte(value)})
		}
	}
	return env
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

// newCmd is Command's Cmd, to run on client (nil: DefaultClient, at Start).
func newCmd(client *Client, name string, arg []string) *Cmd {
	return &Cmd{Path: name, Args: append([]string{name}, arg...), client: client}
}

// withContext is what CommandContext adds to a Cmd: ctx, and a Cancel
// that kills the child.
func withContext(ctx context.Context, cmd *Cmd) *Cmd {
	if ctx == nil {
		panic("nil Context")
	}
	cmd.ctx = ctx
	cmd.Cancel = func() error { return cmd.Process.Kill() }
	return cmd
}
