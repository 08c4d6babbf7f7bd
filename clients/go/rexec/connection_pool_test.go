package rexec_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/rexec/rexec/clients/go/rexec"
)

// A server takes a limited number of calls at once on one connection
// (rexecd's --max-streams-per-connection, 100 by default): a Client opens
// more connections rather than have a start wait behind the limit.

func TestThreeHundredLongRunningChildrenOnOneClientAllStart(t *testing.T) {
	startAllThenKill(t, dial(t, server.addr), 300, 100)
}

// The limit is what the server says, through every kind of transport.
func TestTheServersOwnLimitIsRespected(t *testing.T) {
	dir, _ := makeCerts(t)
	socket := filepath.Join(t.TempDir(), "rexecd.sock")
	s := startServer(t, "--max-streams-per-connection", "3",
		"--listen", "127.0.0.1:0", "--listen", "unix:"+socket)
	tlsServer := startServer(t, "--max-streams-per-connection", "3",
		"--tls-cert", filepath.Join(dir, "server.pem"), "--tls-key", filepath.Join(dir, "server.key"))
	for name, c := range map[string]*rexec.Client{
		"plaintext": dial(t, s.addr),
		"unix":      dial(t, "unix:"+socket),
		"TLS":       dial(t, tlsServer.addr, rexec.WithTLSCA(filepath.Join(dir, "ca.pem"))),
	} {
		t.Run(name, func(t *testing.T) { startAllThenKill(t, c, 10, 3) })
	}
}

// startAllThenKill starts n children that run until killed, all at once,
// and fails unless every start returned within 30 s, on as many
// connections as the server's limit of calls on one needs; then kills
// them, and only the first connection is left.
func startAllThenKill(t *testing.T, c *rexec.Client, n, limit int) {
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	cmds := make([]*rexec.Cmd, n)
	started := make(chan error, n)
	for i := range cmds {
		cmds[i] = c.CommandContext(ctx, "sleep", "600")
		go func(cmd *rexec.Cmd) { started <- cmd.Start() }(cmds[i])
	}
	bound := time.NewTimer(30 * time.Second)
	defer bound.Stop()
	failed := 0
	for i := 0; i < n; i++ {
		select {
		case err := <-started:
			if err != nil {
				failed++
				if failed <= 3 {
					t.Errorf("Start: %v", err)
				}
			}
		case <-bound.C:
			cancel()
			t.Fatalf("%d of %d starts still wait after 30 s", n-i, n)
		}
	}
	pids := map[int]bool{}
	for _, cmd := range cmds {
		if cmd.Process != nil {
			pids[cmd.Process.Pid] = true
		}
	}
	if len(pids) != n-failed {
		t.Errorf("%d distinct pids for %d children started", len(pids), n-failed)
	}
	if got, want := rexec.Connections(c), (n+limit-1)/limit; got != want {
		t.Errorf("%d children on %d connections, want %d (the server takes %d on one)", n, got, want, limit)
	}

	cancel()
	for _, cmd := range cmds {
		if cmd.Process == nil {
			continue
		}
		if err := waitWithin(t, cmd, 30*time.Second); err == nil || err.Error() != "signal: killed" {
			t.Errorf("Wait after the cancel: %v", err)
		}
	}
	if got := rexec.Connections(c); got != 1 {
		t.Errorf("%d connections once every call ended, want the first alone", got)
	}
}
