package rexec_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rexec/rexec/clients/go/rexec"
)

// The same command, run here by os/exec and on the server (this machine
// too) by rexec, must look the same to its caller: output, the error's
// type, text and code, the signal.

// setup is a command's configuration, applied to either kind of Cmd.
type setup struct {
	name    string
	args    []string
	argv0   string
	env     []string
	dir     string
	stdin   string
	run     string // "Run", "Output" or "CombinedOutput"
	signal  syscall.Signal
	timeout time.Duration // of the command's context
}

// observed is what a caller of either sees.
type observed struct {
	stdout, stderr []byte
	errType        string
	errText        string
	exitCode       int
	signal         syscall.Signal
	exitStderr     []byte
	notFound       bool
	notExist       bool
}

func TestSideBySideWithOsExec(t *testing.T) {
	dir := t.TempDir()
	for _, s := range []setup{
		{name: "success", args: []string{"echo", "hello"}, run: "Run"},
		{name: "exit code and stderr", args: []string{"sh", "-c", "echo out; echo err >&2; exit 7"}, run: "Run"},
		{name: "Output keeps stderr", args: []string{"sh", "-c", "echo out; echo err >&2; exit 1"}, run: "Output"},
		{name: "Output keeps the ends of a long stderr",
			args: []string{"sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x >&2; echo; seq 1 9999 >&2; exit 1"}, run: "Output"},
		{name: "CombinedOutput", args: []string{"sh", "-c", "echo a; sleep 0.2; echo b >&2; sleep 0.2; echo c"}, run: "CombinedOutput"},
		{name: "killed by its own signal", args: []string{"sh", "-c", "kill -TERM $$"}, run: "Run"},
		{name: "signalled by the caller", args: []string{"sleep", "30"}, run: "Run", signal: syscall.SIGINT},
		{name: "context deadline", args: []string{"sleep", "30"}, run: "Run", timeout: 300 * time.Millisecond},
		{name: "stdin", args: []string{"sh", "-c", "tr a-z A-Z; exit 4"}, stdin: "shout\n", run: "Output"},
		{name: "no stdin", args: []string{"wc", "-c"}, run: "Output"},
		{name: "argv0", args: []string{"sh", "-c", "tr '\\0' ' ' < /proc/$$/cmdline"}, argv0: "other-name", run: "Output"},
		{name: "env", args: []string{"env"}, env: []string{"ONLY=this"}, run: "Output"},
		{name: "dir", args: []string{"pwd"}, dir: dir, run: "Output"},
		{name: "PWD", args: []string{"printenv", "PWD"}, dir: dir, run: "Output"},
		{name: "not found", args: []string{"rexec-no-such-program"}, run: "Run"},
	} {
		t.Run(s.name, func(t *testing.T) {
			local, remote := runLocally(t, s), runRemotely(t, s)
			for _, d := range local.differences(remote) {
				t.Error(d)
			}
		})
	}
}

// differences names each thing the two saw differently.
func (o observed) differences(remote observed) []string {
	var found []string
	differ := func(what string, local, remote interface{}) {
		l, r := fmt.Sprintf("%q", local), fmt.Sprintf("%q", remote)
		if l != r {
			found = append(found, fmt.Sprintf("%s: os/exec saw %.300s, rexec %.300s", what, l, r))
		}
	}
	differ("stdout", o.stdout, remote.stdout)
	differ("stderr", o.stderr, remote.stderr)
	differ("ExitError.Stderr", o.exitStderr, remote.exitStderr)
	differ("error type", o.errType, remote.errType)
	differ("error", o.errText, remote.errText)
	differ("exit code", fmt.Sprint(o.exitCode), fmt.Sprint(remote.exitCode))
	differ("signal", o.signal.String(), remote.signal.String())
	differ("errors.Is exec.ErrNotFound", fmt.Sprint(o.notFound), fmt.Sprint(remote.notFound))
	differ("errors.Is fs.ErrNotExist", fmt.Sprint(o.notExist), fmt.Sprint(remote.notExist))
	return found
}

// cmdParts is what observe needs of an exec.Cmd or a rexec.Cmd, which
// share no interface: their fields and methods, each kind's own.
type cmdParts struct {
	args, env              *[]string
	dir                    *string
	stdin                  *io.Reader
	stdout, stderr         *io.Writer
	output, combinedOutput func() ([]byte, error)
	start, wait            func() error
	signal                 func(syscall.Signal) error
}

// observe applies s to a command and runs it as s says: Run gets its own
// buffers (Output and CombinedOutput make theirs), and a signal goes once
// it has started, after a pause that lets sleep get going, the same for
// both kinds.
func observe(s setup, c cmdParts) (observed, error) {
	if s.argv0 != "" {
		(*c.args)[0] = s.argv0
	}
	*c.env, *c.dir = s.env, s.dir
	if s.stdin != "" {
		*c.stdin = strings.NewReader(s.stdin)
	}
	var o observed
	var stdout, stderr bytes.Buffer
	var err error
	switch s.run {
	case "Output":
		o.stdout, err = c.output()
	case "CombinedOutput":
		o.stdout, err = c.combinedOutput()
	default:
		*c.stdout, *c.stderr = &stdout, &stderr
		err = c.start()
		if err == nil && s.signal != 0 {
			time.Sleep(100 * time.Millisecond)
			err = c.signal(s.signal)
		}
		if err == nil {
			err = c.wait()
		}
	}
	o.note(err, &stdout, &stderr)
	return o, err
}

func runLocally(t *testing.T, s setup) observed {
	cmd := exec.CommandContext(commandContext(t, s), s.args[0], s.args[1:]...)
	o, err := observe(s, cmdParts{
		args: &cmd.Args, env: &cmd.Env, dir: &cmd.Dir, stdin: &cmd.Stdin,
		stdout: &cmd.Stdout, stderr: &cmd.Stderr,
		output: cmd.Output, combinedOutput: cmd.CombinedOutput,
		start: cmd.Start, wait: cmd.Wait,
		signal: func(sig syscall.Signal) error { return cmd.Process.Signal(sig) },
	})
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		o.exitCode = exitErr.ExitCode()
		o.signal = exitErr.Sys().(syscall.WaitStatus).Signal()
		o.exitStderr = exitErr.Stderr
	}
	return o
}

func runRemotely(t *testing.T, s setup) observed {
	cmd := client.CommandContext(commandContext(t, s), s.args[0], s.args[1:]...)
	o, err := observe(s, cmdParts{
		args: &cmd.Args, env: &cmd.Env, dir: &cmd.Dir, stdin: &cmd.Stdin,
		stdout: &cmd.Stdout, stderr: &cmd.Stderr,
		output: cmd.Output, combinedOutput: cmd.CombinedOutput,
		start: cmd.Start, wait: cmd.Wait,
		signal: func(sig syscall.Signal) error { return cmd.Process.Signal(sig) },
	})
	var exitErr *rexec.ExitError
	if errors.As(err, &exitErr) {
		o.exitCode = exitErr.ExitCode()
		o.signal = exitErr.Signal()
		o.exitStderr = exitErr.Stderr
	}
	return o
}

func commandContext(t *testing.T, s setup) context.Context {
	if s.timeout == 0 {
		return testContext(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	t.Cleanup(cancel)
	return ctx
}

func (o *observed) note(err error, stdout, stderr *bytes.Buffer) {
	if o.stdout == nil {
		o.stdout = stdout.Bytes()
	}
	o.stderr = stderr.Bytes()
	if err != nil {
		o.errType = typeName(err)
		o.errText = err.Error()
		o.notFound = errors.Is(err, exec.ErrNotFound)
		o.notExist = errors.Is(err, fs.ErrNotExist)
	}
}

func typeName(v interface{}) string {
	switch v.(type) {
	case *exec.ExitError, *rexec.ExitError:
		return "*ExitError"
	case *exec.Error, *fs.PathError, *rexec.Error:
		return "*Error"
	}
	if v == context.Canceled || v == context.DeadlineExceeded {
		return "context"
	}
	return "other"
}
