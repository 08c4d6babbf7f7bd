package rexec_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rexec/rexec/clients/go/rexec"
	"github.com/rexec/rexec/clients/go/rexecpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Cancel and WaitDelay are Go 1.20's, which os/exec on Go 1.19 lacks: these
// cases check the documented semantics rather than run side by side.

func TestCancelIsCalledWhenTheContextIsDone(t *testing.T) {
	ctx, cancel := context.WithCancel(testContext(t))
	cmd := client.CommandContext(ctx, "sleep", "30")
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cancel()
	err := waitWithin(t, cmd, 20*time.Second)
	if err == nil || err.Error() != "signal: terminated" {
		t.Errorf("Wait: %v, want signal: terminated", err)
	}
}

// When the child exits with 0 after Cancel, Wait says what Cancel did.
func TestWaitReportsCancelWhenTheChildSucceedsAnyway(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name     string
		returned error
		want     string
		is       error
	}{
		{"Cancel worked", nil, "context canceled", context.Canceled},
		{"Cancel failed", boom, "exec: canceling Cmd: boom", boom},
		{"the child was gone", fmt.Errorf("late: %w", os.ErrProcessDone), "<nil>", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(testContext(t))
			cmd := client.CommandContext(ctx, "cat")
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			// cat exits with 0 at the EOF.
			cmd.Cancel = func() error {
				stdin.Close()
				return tc.returned
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			cancel()
			err = waitWithin(t, cmd, 20*time.Second)
			if errorText(err) != tc.want || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Errorf("Wait: %v, want %s", err, tc.want)
			}
			if !cmd.ProcessState.Success() {
				t.Errorf("cat: %v", cmd.ProcessState)
			}
		})
	}
}

// Without Cancel a done context does nothing at once, but WaitDelay still
// kills the child once it passed.
func TestWithoutCancelWaitDelayStillKills(t *testing.T) {
	ctx, cancel := context.WithCancel(testContext(t))
	cmd := client.CommandContext(ctx, "cat")
	cmd.Cancel = nil
	cmd.WaitDelay = 300 * time.Millisecond
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cancel()
	// The child still answers: the context alone did not kill it.
	lines := bufio.NewReader(stdout)
	if _, err := io.WriteString(stdin, "still here\n"); err != nil {
		t.Fatal(err)
	}
	if line, err := lines.ReadString('\n'); err != nil || line != "still here\n" {
		t.Errorf("after the cancel: %q, %v", line, err)
	}
	if err := waitWithin(t, cmd, 20*time.Second); err == nil || err.Error() != "signal: killed" {
		t.Errorf("Wait: %v, want signal: killed", err)
	}
}

func TestCancelWithoutCommandContextIsRefused(t *testing.T) {
	cmd := client.Command("true")
	cmd.Cancel = func() error { return nil }
	err := cmd.Start()
	if errorText(err) != "exec: command with a non-nil Cancel was not created with CommandContext" || cmd.Process != nil {
		t.Errorf("Start: %v", err)
	}
}

// WaitDelay bounds the wait for a Stdin that is still being read after the
// exit: then Wait is ErrWaitDelay if the child succeeded, its exit if not.
func TestWaitDelayBoundsTheWaitForStdin(t *testing.T) {
	for _, tc := range []struct {
		program string
		want    string
	}{
		{"true", rexec.ErrWaitDelay.Error()},
		{"false", "exit status 1"},
	} {
		stdin := newHeldReader()
		cmd := client.Command(tc.program)
		cmd.Stdin = stdin
		cmd.WaitDelay = 200 * time.Millisecond
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		err := waitWithin(t, cmd, 20*time.Second)
		stdin.release()
		if errorText(err) != tc.want {
			t.Errorf("%s: Wait: %v, want %s", tc.program, err, tc.want)
		}
	}
}

// heldReader is a Stdin whose Read returns only once released, then EOF.
type heldReader struct{ released chan struct{} }

func newHeldReader() *heldReader { return &heldReader{released: make(chan struct{})} }

func (r *heldReader) Read([]byte) (int, error) {
	<-r.released
	return 0, io.EOF
}

func (r *heldReader) release() { close(r.released) }

// A kill that does not reach the child (it waits behind stdin the child
// does not read, or the connection died) does not hold Wait for ever:
// whoever killed, Wait gives the call up once WaitDelay passed since, and
// the server stops the child. The interceptor holds every signal until the
// call is over.
func TestAKillThatDoesNotArriveGivesTheCallUp(t *testing.T) {
	held := grpc.WithStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc,
		cc *grpc.ClientConn, method string, streamer grpc.Streamer,
		opts ...grpc.CallOption) (grpc.ClientStream, error) {
		stream, err := streamer(ctx, desc, cc, method, opts...)
		return &heldSignals{ClientStream: stream, ctx: ctx}, err
	})
	c := dial(t, server.addr, rexec.WithDialOptions(held))
	for _, tc := range []struct {
		name string
		code codes.Code
		is   error
	}{
		{"Process.Kill", codes.DeadlineExceeded, nil},
		{"a cancelled context", codes.Canceled, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(testContext(t))
			defer cancel()
			cmd := c.CommandContext(ctx, "sleep", "30")
			cmd.WaitDelay = 700 * time.Millisecond
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			killed := make(chan error, 1)
			if tc.is == nil {
				go func() { killed <- cmd.Process.Kill() }()
			} else {
				cancel()
			}
			err := waitWithin(t, cmd, 20*time.Second)
			var callErr *rexec.Error
			if !errors.As(err, &callErr) || status.Code(err) != tc.code ||
				!strings.Contains(err.Error(), "no exit came within 700ms of the kill") ||
				(tc.is != nil && !errors.Is(err, tc.is)) {
				t.Fatalf("Wait: %v (%T), want an *Error with %v saying the call was given up", err, err, tc.code)
			}
			if tc.is == nil {
				if err := <-killed; err != os.ErrProcessDone {
					t.Errorf("Kill: %v, want os.ErrProcessDone once the call was given up", err)
				}
			}
			if !gone(cmd.Process.Pid) {
				t.Errorf("pid %d still there: the server did not stop the child of a given-up call", cmd.Process.Pid)
			}
		})
	}
}

type heldSignals struct {
	grpc.ClientStream
	ctx context.Context
}

func (s *heldSignals) SendMsg(m interface{}) error {
	if request, ok := m.(*rexecpb.SpawnRequest); ok && request.GetSignal() != nil {
		<-s.ctx.Done()
		return s.ctx.Err()
	}
	return s.ClientStream.SendMsg(m)
}
