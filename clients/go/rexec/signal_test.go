package rexec_test

import (
	"bufio"
	"errors"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rexec/rexec/clients/go/rexec"
	"github.com/rexec/rexec/clients/go/rexecpb"
)

func TestASignalEndsTheChild(t *testing.T) {
	cmd := client.CommandContext(testContext(t), "sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exitErr *rexec.ExitError
	if !errors.As(err, &exitErr) {
		t.Fatalf("Wait: %v (%T), want an *ExitError", err, err)
	}
	if exitErr.Signal() != syscall.SIGTERM || exitErr.SignalName() != "SIGTERM" || exitErr.ExitCode() != -1 ||
		exitErr.Exited() || err.Error() != "signal: terminated" {
		t.Errorf("Wait: %q, signal %v (%q), code %d", err, exitErr.Signal(), exitErr.SignalName(), exitErr.ExitCode())
	}
	if ws, ok := exitErr.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Errorf("Sys() = %#v", exitErr.Sys())
	}
	if exitErr.Reason() != rexecpb.TerminationReason_TERMINATION_REASON_SIGNALED {
		t.Errorf("reason %v", exitErr.Reason())
	}
	if err := cmd.Process.Kill(); err != os.ErrProcessDone {
		t.Errorf("Kill after the exit: %v, want os.ErrProcessDone", err)
	}
}

func TestInterruptAndKill(t *testing.T) {
	for _, tc := range []struct {
		signal func(*rexec.Process) error
		want   syscall.Signal
	}{
		{func(p *rexec.Process) error { return p.Signal(os.Interrupt) }, syscall.SIGINT},
		{(*rexec.Process).Kill, syscall.SIGKILL},
	} {
		cmd := client.CommandContext(testContext(t), "sleep", "30")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if err := tc.signal(cmd.Process); err != nil {
			t.Fatal(err)
		}
		var exitErr *rexec.ExitError
		if err := cmd.Wait(); !errors.As(err, &exitErr) || exitErr.Signal() != tc.want {
			t.Errorf("Wait: %v, want death by %v", err, tc.want)
		}
	}
}

func TestARealtimeSignalGoesByNumberAndOtherNumbersAreRefused(t *testing.T) {
	cmd := client.CommandContext(testContext(t), "sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// glibc's own two below SIGRTMIN, past SIGRTMAX, and no syscall.Signal.
	for _, sig := range []os.Signal{syscall.Signal(32), syscall.Signal(65), notASignal{}} {
		if err := cmd.Process.Signal(sig); err == nil {
			t.Errorf("%v was sent", sig)
		}
	}
	// rexecd names it "SIG40" both ways.
	if err := cmd.Process.Signal(syscall.Signal(40)); err != nil {
		t.Fatal(err)
	}
	var exitErr *rexec.ExitError
	if err := cmd.Wait(); !errors.As(err, &exitErr) {
		t.Fatalf("Wait: %v", err)
	}
	if got := exitErr.Signal(); got != syscall.Signal(40) {
		t.Errorf("died of %v, want signal 40", got)
	}
}

type notASignal struct{}

func (notASignal) String() string { return "not a signal" }
func (notASignal) Signal()        {}

// A signal goes to the child's process group, so its descendants get it
// too (os/exec's goes to the child alone).
func TestASignalReachesTheChildsDescendants(t *testing.T) {
	cmd := client.CommandContext(testContext(t), "sh", "-c", `
trap 'echo child got TERM' TERM
sh -c 'trap "echo grandchild got TERM; exit" TERM; echo ready; while sleep 0.1; do :; done' &
wait; wait`)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewReader(stdout)
	if line, err := lines.ReadString('\n'); line != "ready\n" {
		t.Fatalf("%q, %v", line, err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(lines)
	got := strings.Split(strings.TrimSpace(string(rest)), "\n")
	sort.Strings(got)
	if strings.Join(got, ", ") != "child got TERM, grandchild got TERM" {
		t.Errorf("after SIGTERM: %q", rest)
	}
	if err := waitWithin(t, cmd, 20*time.Second); err != nil {
		t.Errorf("Wait: %v", err)
	}
}

// Descendants do not outlive the call: rexecd reads their output for its
// --drain-timeout after the child's exit, then stops them (os/exec reads
// until they close it, and leaves them running).
func TestDescendantsDoNotOutliveTheCall(t *testing.T) {
	done := make(chan struct{})
	var out []byte
	var err error
	go func() {
		defer close(done)
		out, err = client.Command("sh", "-c", "sleep 600 & echo $!").Output()
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Output still waits after 20 s")
	}
	pid, convErr := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || convErr != nil {
		t.Fatalf("Output: %q, %v", out, err)
	}
	if !gone(pid) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("the background sleep %d outlived its call", pid)
	}
}

// 10 MiB written to a child that never reads, without waiting, then a
// signal: rexecd reads past the stdin that waits for the pipe, so the
// signal reaches the child and the exit comes with it.
func TestASignalIsNotStuckBehindStdinTheChildDoesNotRead(t *testing.T) {
	cmd := client.CommandContext(testContext(t), "sleep", "1000")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	written := make(chan error, 1)
	go func() {
		_, err := stdin.Write(make([]byte, 10<<20))
		written <- err
	}()
	select {
	case err := <-written:
		if err != nil {
			t.Fatalf("write of 10 MiB: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the write of 10 MiB never returned")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = waitWithin(t, cmd, 20*time.Second)
	var exitErr *rexec.ExitError
	if !errors.As(err, &exitErr) || exitErr.Signal() != syscall.SIGTERM {
		t.Fatalf("Wait: %v (%T), want death by SIGTERM", err, err)
	}
}
