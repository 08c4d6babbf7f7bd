package rexec_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rexec/rexec/clients/go/rexec"
	"github.com/rexec/rexec/clients/go/rexecpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Against a hostile server (clients/hostile_server.py): what it sends past
// the limits fails the call with an error naming it, memory stays bounded
// by what we read, and an exit no process can have is an error.

const mib = 1 << 20

// hostileClient starts a hostile server for one test and dials it.
func hostileClient(t *testing.T, opts ...rexec.Option) (*rexec.Client, *rexecd) {
	t.Helper()
	server, err := startBinary("../../hostile_server.py")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(server.stop)
	c, err := rexec.Dial(server.addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, server
}

func TestHostileMessageOverTheLimitFailsTheCall(t *testing.T) {
	c, server := hostileClient(t)
	_, err := c.Command("big-message").Output()
	var callErr *rexec.Error
	if !errors.As(err, &callErr) || status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("Output: %v, want an *rexec.Error with ResourceExhausted", err)
	}
	want := fmt.Sprintf("rexec: message from %s of %d bytes exceeds the receive limit of %d bytes",
		server.addr, 64*mib+5, 4*mib)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("Output: %v\nwant it to say %q", err, want)
	}
}

func TestHostileWithReceiveLimitRaisesTheLimit(t *testing.T) {
	c, _ := hostileClient(t, rexec.WithReceiveLimit(65*mib))
	out, err := c.Command("big-message").Output()
	if err != nil || len(out) != 64*mib {
		t.Fatalf("Output: %d bytes, %v; want 64 MiB", len(out), err)
	}
}

// execCall makes a raw Exec call of command through c.Conn() and returns
// its second answer's error (the first is started).
func execCall(t *testing.T, c *rexec.Client, command string, maxBuffer uint64, withLimit bool) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stub := rexecpb.NewChildProcessClient(c.Conn())
	stream, err := stub.Exec(ctx)
	if withLimit {
		stream, err = stub.Exec(ctx, rexec.ExecReceiveLimit(maxBuffer))
	}
	if err != nil {
		t.Fatal(err)
	}
	start := &rexecpb.ExecStart{Command: command, MaxBuffer: maxBuffer}
	if err := stream.Send(&rexecpb.ExecRequest{Request: &rexecpb.ExecRequest_Start{Start: start}}); err != nil {
		t.Fatal(err)
	}
	if response, err := stream.Recv(); err != nil || response.GetStarted() == nil {
		t.Fatalf("first answer: %v, %v; want started", response, err)
	}
	response, err := stream.Recv()
	if err == nil {
		t.Fatalf("the result was taken: %d bytes of stdout", len(response.GetResult().GetStdout()))
	}
	return err
}

func TestHostileExecResultPastMaxBufferIsRefused(t *testing.T) {
	c, server := hostileClient(t)
	err := execCall(t, c, "overflow", 64<<10, false)
	want := fmt.Sprintf("rexec: the Exec result from %s has %d bytes of stdout, more than the max_buffer of %d",
		server.addr, 640<<10, 64<<10)
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), want) {
		t.Errorf("Recv: %v\nwant ResourceExhausted saying %q", err, want)
	}
}

func TestHostileExecReceiveLimitIsTwiceMaxBufferAndSome(t *testing.T) {
	c, server := hostileClient(t)
	err := execCall(t, c, "overflow", mib, true)
	// 10 MiB of stdout, and the result's framing and exit.
	want := fmt.Sprintf("rexec: message from %s of %d bytes exceeds the receive limit of %d bytes",
		server.addr, 10*mib+14, 2*mib+64<<10)
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), want) {
		t.Errorf("Recv: %v\nwant ResourceExhausted saying %q", err, want)
	}
}

var floodSent = regexp.MustCompile(`flood: sent (\d+)`)

// sent is how much the server's flood has sent so far, by its log.
func (s *rexecd) sent() int {
	matches := floodSent.FindAllStringSubmatch(s.logText(), -1)
	if matches == nil {
		return 0
	}
	n, _ := strconv.Atoi(matches[len(matches)-1][1])
	return n
}

func residentBytes(t *testing.T) int {
	t.Helper()
	file, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	lines := bufio.NewScanner(file)
	for lines.Scan() {
		if fields := strings.Fields(lines.Text()); len(fields) >= 2 && fields[0] == "VmRSS:" {
			kib, _ := strconv.Atoi(fields[1])
			return kib << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// A server that sends as fast as it may: what we do not read holds it
// back (StdoutPipe's buffer, then gRPC's flow control) instead of piling
// up here, which would take a GiB.
func TestHostileUnreadFloodStaysOnTheServer(t *testing.T) {
	c, server := hostileClient(t)
	before := residentBytes(t)
	cmd := c.Command("flood")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Until the server is held back (it has sent, and its count stands
	// still for a second) or has sent the GiB.
	sent := 0
	for deadline := time.Now().Add(15 * time.Second); (sent == 0 || server.sent() != sent) && sent < 1<<30 && time.Now().Before(deadline); {
		sent = server.sent()
		time.Sleep(time.Second)
	}
	grown := residentBytes(t) - before
	if sent == 0 || sent >= 256*mib {
		t.Errorf("the server sent %d bytes that nobody read", sent)
	}
	if grown >= 200*mib {
		t.Errorf("%d bytes more resident", grown)
	}
	cmd.Process.Kill()
	io.Copy(io.Discard, stdout)
	var exitErr *rexec.ExitError
	if err := waitWithin(t, cmd, 20*time.Second); !errors.As(err, &exitErr) || exitErr.SignalName() != "SIGKILL" {
		t.Errorf("Wait: %v, want killed by SIGKILL", err)
	}
}

func TestHostileExitsNoProcessCanHaveAreErrors(t *testing.T) {
	c, server := hostileClient(t)
	for _, tc := range []struct {
		program []string
		said    string
	}{
		{[]string{"exit", "300"}, "exit code 300, outside 0-255"},
		{[]string{"exit", "256"}, "exit code 256, outside 0-255"},
		{[]string{"exit", "-1"}, "exit code -1, outside 0-255"},
		{[]string{"signal", "SIG99"}, `signal "SIG99", which Linux does not have`},
		{[]string{"signal", "SIGNOPE"}, `signal "SIGNOPE", which Linux does not have`},
		{[]string{"no-status"}, "an exit with neither a code nor a signal"},
	} {
		cmd := c.Command(tc.program[0], tc.program[1:]...)
		err := cmd.Run()
		var callErr *rexec.Error
		want := fmt.Sprintf("rexec: %s sent %s", server.addr, tc.said)
		if !errors.As(err, &callErr) || !strings.Contains(err.Error(), want) || cmd.ProcessState != nil {
			t.Errorf("%v: Run: %v (ProcessState %v)\nwant an *rexec.Error saying %q", tc.program, err, cmd.ProcessState, want)
		}
	}
}
