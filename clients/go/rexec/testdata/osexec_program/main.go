// A program written for os/exec, with the part of it that programs use
// most. TestAProgramForOsExecRunsWithOnlyItsImportChanged builds it as it
// is and with its import of os/exec replaced by rexec's, runs both, and
// compares what they print. Its argument is a directory for Dir.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	dir := os.Args[1]

	out, err := exec.Command("echo", "hello", "world").Output()
	fmt.Printf("Output: %q, %v\n", out, err)

	out, err = exec.Command("sh", "-c", "echo out; sleep 0.1; echo err >&2; sleep 0.1; echo out; exit 2").CombinedOutput()
	fmt.Printf("CombinedOutput: %q, %v\n", out, err)

	_, err = exec.Command("sh", "-c", "echo oops >&2; exit 3").Output()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		fmt.Printf("ExitError: %v, code %d, exited %v, Stderr %q\n",
			exitErr, exitErr.ExitCode(), exitErr.Exited(), exitErr.Stderr)
	}

	cmd := exec.Command("tr", "a-z", "A-Z")
	cmd.Stdin = strings.NewReader("shout\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	fmt.Printf("Run: %q, %q, %v, %v, success %v\n",
		stdout.String(), stderr.String(), err, cmd.ProcessState, cmd.ProcessState.Success())

	cmd = exec.Command("sh", "-c", `echo "$GREETING from $(pwd), PWD $PWD"`)
	cmd.Env = append(os.Environ(), "GREETING=hi")
	cmd.Dir = dir
	out, err = cmd.Output()
	fmt.Printf("Env and Dir: %q, %v\n", out, err)

	cmd = exec.Command("cat", "-n")
	stdin, err := cmd.StdinPipe()
	check(err)
	stdoutPipe, err := cmd.StdoutPipe()
	check(err)
	check(cmd.Start())
	lines := bufio.NewReader(stdoutPipe)
	for _, word := range []string{"one", "two"} {
		fmt.Fprintln(stdin, word)
		line, err := lines.ReadString('\n')
		fmt.Printf("pipes: %q, %v\n", line, err)
	}
	stdin.Close()
	rest, err := io.ReadAll(lines)
	fmt.Printf("pipes at EOF: %q, %v; Wait: %v\n", rest, err, cmd.Wait())

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err = exec.CommandContext(ctx, "sleep", "10").Run()
	fmt.Printf("CommandContext: %v, the context's %v\n", err, ctx.Err())

	cmd = exec.Command("sleep", "10")
	check(cmd.Start())
	check(cmd.Process.Signal(syscall.SIGTERM))
	err = cmd.Wait()
	status := cmd.ProcessState.Sys().(syscall.WaitStatus)
	fmt.Printf("Signal: %v, code %d, signaled %v by %v\n",
		err, cmd.ProcessState.ExitCode(), status.Signaled(), status.Signal())
	fmt.Printf("Kill after Wait: %v\n", cmd.Process.Kill())

	err = exec.Command("rexec-no-such-program", "-v").Run()
	var execErr *exec.Error
	fmt.Printf("not found: %v; ErrNotFound %v, *Error %v\n", err,
		errors.Is(err, exec.ErrNotFound), errors.As(err, &execErr) && execErr.Name == "rexec-no-such-program")

	cmd = exec.Command("true")
	cmd.Dir = filepath.Join(dir, "missing")
	err = cmd.Run()
	fmt.Printf("no Dir: ErrNotExist %v, ErrNotFound %v\n", errors.Is(err, fs.ErrNotExist), errors.Is(err, exec.ErrNotFound))

	cmd = exec.Command("true")
	check(cmd.Run())
	fmt.Printf("Start again: %v; Wait again: %v\n", cmd.Start(), cmd.Wait())
}

func check(err error) {
	if err != nil {
		fmt.Println("unexpected:", err)
		os.Exit(1)
	}
}
