package rexec_test

import (
	"context"
	"errors"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/rexec/rexec/clients/go/rexec"
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

// The kill travels behind stdin the child does not read: rexecd reads
// past what waits for the pipe (up to 16 MiB a call), so the context's
// kill reaches the child and its exit comes, well before WaitDelay would
// give the call up. (A kill that never arrives is
// TestAKillThatDoesNotArriveGivesTheCallUp's.)
func TestAContextKillGetsPastStdinTheChildDoesNotRead(t *testing.T) {
	ctx, cancel := context.WithTimeout(testContext(t), 500*time.Millisecond)
	defer cancel()
	cmd := client.CommandContext(ctx, "sleep", "30")
	// 4 MiB the child never reads (then the end of stdin, so that Wait has
	// no copy of ours to wait for).
	cmd.Stdin = io.LimitReader(endless{}, 4<<20)
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	err := waitWithin(t, cmd, 20*time.Second)
	var exitErr *rexec.ExitError
	if !errors.As(err, &exitErr) || exitErr.Signal() != syscall.SIGKILL {
		t.Fatalf("Wait: %v (%T), want the child killed", err, err)
	}
	if took := time.Since(started); took > 5*time.Second {
		t.Errorf("Wait took %v: the kill waited behind stdin", took)
	}
	if !gone(cmd.Process.Pid) {
		t.Errorf("pid %d still there", cmd.Process.Pid)
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
