package rexec_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rexec/rexec/clients/go/rexec"
)

// The suite runs against real rexecd processes: REXECD names the binary.
// TestMain starts one on loopback, which REXEC_SERVER (and so Command and
// the examples) points at; tests that need other flags start their own.

var server *rexecd

// client is a Client of the shared server.
var client *rexec.Client

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	var err error
	if server, err = startRexecd(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer server.stop()
	for _, name := range []string{"REXEC_TLS_CA", "REXEC_TLS_CERT", "REXEC_TLS_KEY",
		"REXEC_TLS_SERVER_NAME", "REXEC_TOKEN_FILE"} {
		os.Unsetenv(name)
	}
	os.Setenv("REXEC_SERVER", server.addr)
	if client, err = rexec.Dial(server.addr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer client.Close()
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "rexecd's log:\n%s", server.logText())
	}
	return code
}

// rexecd is a running server and what it logged.
type rexecd struct {
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	log  strings.Builder
	done chan struct{} // its stderr reached EOF
}

var listening = regexp.MustCompile(`listening on (\S+)`)

// startRexecd runs REXECD on 127.0.0.1:0 (or the --listen among args) and
// returns once it said where it listens, within 10 s.
func startRexecd(args ...string) (*rexecd, error) {
	binary := os.Getenv("REXECD")
	if binary == "" {
		return nil, fmt.Errorf("REXECD must name the rexecd binary the tests run against")
	}
	// The host's PID namespace, not one of rexecd's own: these tests look up
	// the pids a child reports, and its parent, in this machine's /proc,
	// and stop rexecd by its pid. A server's own namespace (its default as
	// root) is tested by tests/e2e/crash_test.cc; what a client sees does
	// not change with it but for the numbers.
	return startBinary(binary, append([]string{"--pid-namespace", "host"}, args...)...)
}

// startBinary is startRexecd with another server that logs as rexecd does
// (../../hostile_server.py).
func startBinary(binary string, args ...string) (*rexecd, error) {
	hasListen, hasCredentials := false, false
	for _, arg := range args {
		hasListen = hasListen || arg == "--listen"
		hasCredentials = hasCredentials || arg == "--token-file" ||
			arg == "--tls-client-ca" || arg == "--insecure"
	}
	// As root, rexecd serves TCP without a way to know its callers only
	// with --insecure; a test that gives a credential flag means it.
	if !hasCredentials {
		args = append(args, "--insecure")
	}
	if !hasListen {
		args = append([]string{"--listen", "127.0.0.1:0"}, args...)
	}
	s := &rexecd{cmd: exec.Command(binary, args...), done: make(chan struct{})}
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	addr := make(chan string, 1)
	go func() {
		defer close(s.done)
		lines := bufio.NewScanner(stderr)
		for lines.Scan() {
			s.mu.Lock()
			s.log.WriteString(lines.Text() + "\n")
			s.mu.Unlock()
			if m := listening.FindStringSubmatch(lines.Text()); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case s.addr = <-addr:
		return s, nil
	case <-s.done:
	case <-time.After(10 * time.Second):
	}
	s.stop()
	return nil, fmt.Errorf("rexecd %v did not say where it listens:\n%s", args, s.logText())
}

// stop ends the server: SIGTERM, then SIGKILL if it is not gone in 15 s.
func (s *rexecd) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan struct{})
	go func() {
		s.cmd.Wait()
		close(exited)
	}()
	select {
	case <-exited:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-exited
	}
}

func (s *rexecd) logText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// startServer is startRexecd for one test, stopped when it ends.
func startServer(t *testing.T, args ...string) *rexecd {
	t.Helper()
	s, err := startRexecd(args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	return s
}

// testContext bounds a test's calls.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitWithin is cmd.Wait, failing the test when it takes longer than d.
func waitWithin(t *testing.T, cmd *rexec.Cmd, d time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("Wait still waits after %v", d)
		return nil
	}
}

// gone is whether pid has been reaped, polled for up to 10 s: the server
// runs here, so its children's pids are this machine's.
func gone(pid int) bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}
