package rexec_test

import (
	"context"
	"errors"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/rexec/rexec/clients/go/rexec"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestADoneContextKillsTheChild(t *testing.T) {
	for _, how := range []string{"deadline", "cancel"} {
		t.Run(how, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(testContext(t), 300*time.Millisecond)
			defer cancel()
			cmd := client.CommandContext(ctx, "sleep", "30")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if how == "cancel" {
				cancel()
			}
			started := time.Now()
			err := cmd.Wait()
			var exitErr *rexec.ExitError
			if !errors.As(err, &exitErr) || exitErr.Signal() != syscall.SIGKILL ||
				exitErr.ExitCode() != -1 || err.Error() != "signal: killed" {
				t.Fatalf("Wait: %v (%T), want signal: killed", err, err)
			}
			if took := time.Since(started); took > 5*time.Second {
				t.Errorf("Wait took %v", took)
			}
			if !gone(cmd.Process.Pid) {
				t.Errorf("pid %d still there after Wait", cmd.Process.Pid)
			}
		})
	}
}

func TestAContextDoneBeforeStartStartsNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cmd := client.CommandContext(ctx, "true")
	if err := cmd.Start(); err != context.Canceled || cmd.Process != nil {
		t.Errorf("Start with a cancelled context: %v, process %v", err, cmd.Process)
	}
}

// The kill travels behind stdin, and rexecd reads no further request
// while a child does not take its stdin: then WaitDelay gives the call up,
// and the server stops the child of the cancelled call.
func TestAKillStuckBehindStdinGivesTheCallUpAfterWaitDelay(t *testing.T) {
	ctx, cancel := context.WithTimeout(testContext(t), 500*time.Millisecond)
	defer cancel()
	cmd := client.CommandContext(ctx, "sleep", "30")
	cmd.Stdin = endless{}
	cmd.WaitDelay = 700 * time.Millisecond
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	err := waitWithin(t, cmd, 20*time.Second)
	var callErr *rexec.Error
	if !errors.As(err, &callErr) || status.Code(err) != codes.DeadlineExceeded ||
		!errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait: %v (%T), want an *Error with DeadlineExceeded", err, err)
	}
	if took := time.Since(started); took > 5*time.Second {
		t.Errorf("Wait took %v", took)
	}
	if cmd.ProcessState != nil {
		t.Errorf("ProcessState %v without an exit", cmd.ProcessState)
	}
	if !gone(cmd.Process.Pid) {
		t.Errorf("pid %d still there: the server did not stop the child of a given-up call", cmd.Process.Pid)
	}
}

// endless is stdin that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'y'
	}
	return len(p), nil
}

var _ io.Reader = endless{}
