package rexec_test

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/rexec/rexec/clients/go/rexec"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A command on a server that froze (SIGSTOP) fails with Unavailable within
// a bounded time: grpc-go pings no more often than every 10 s, so the
// error comes about 11 s after the last word from the server.
func TestACommandOnAServerThatFrozeFailsUnavailable(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.addr, rexec.WithKeepalive(time.Second, time.Second))
	cmd := c.CommandContext(testContext(t), "sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	err := func() error {
		defer s.cmd.Process.Signal(syscall.SIGCONT)
		return waitWithin(t, cmd, 40*time.Second)
	}()
	var callErr *rexec.Error
	if !errors.As(err, &callErr) || status.Code(err) != codes.Unavailable {
		t.Errorf("Wait: %v (%T), want an *Error with Unavailable", err, err)
	}
	// Running again, the server finds the connection gone and stops the
	// child.
	if !gone(cmd.Process.Pid) {
		t.Errorf("sleep (pid %d) still runs", cmd.Process.Pid)
	}
}

// The default keepalive keeps a silent command on a default rexecd: pings
// would come in milliseconds if a default were off by a unit (grpc-go
// would take them as 10 s), and the fourth too soon would close the
// connection (GOAWAY too_many_pings).
func TestTheDefaultKeepaliveKeepsASilentCommandOnADefaultServer(t *testing.T) {
	c := dial(t, server.addr)
	done := make(chan error, 1)
	go func() { done <- c.CommandContext(testContext(t), "sleep", "12").Run() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("sleep 12 still runs after 60 s")
	}
}

func TestKeepaliveIsChecked(t *testing.T) {
	for _, tc := range []struct{ time, timeout time.Duration }{
		{-time.Second, time.Second}, {time.Minute, 0}, {time.Minute, -time.Second},
	} {
		if c, err := rexec.Dial(server.addr, rexec.WithKeepalive(tc.time, tc.timeout)); err == nil {
			c.Close()
			t.Errorf("WithKeepalive(%v, %v): no error", tc.time, tc.timeout)
		}
	}
	// 0: no pings.
	dial(t, server.addr, rexec.WithKeepalive(0, time.Second))
}
