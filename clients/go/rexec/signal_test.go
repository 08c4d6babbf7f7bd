package rexec_test

import (
	"errors"
	"os"
	"syscall"
	"testing"

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
