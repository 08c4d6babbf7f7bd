package rexec_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rexec/rexec/clients/go/rexec"
	"github.com/rexec/rexec/clients/go/rexecpb"
	"google.golang.org/grpc"
)

func TestRunReportsTheExitCode(t *testing.T) {
	ctx := testContext(t)
	cmd := client.CommandContext(ctx, "true")
	if err := cmd.Run(); err != nil {
		t.Fatalf("true: %v", err)
	}
	if !cmd.ProcessState.Success() || cmd.ProcessState.ExitCode() != 0 || cmd.ProcessState.Pid() != cmd.Process.Pid {
		t.Errorf("true: state %v, pid %d (started as %d)", cmd.ProcessState, cmd.ProcessState.Pid(), cmd.Process.Pid)
	}

	cmd = client.CommandContext(ctx, "sh", "-c", "exit 3")
	err := cmd.Run()
	var exitErr *rexec.ExitError
	if !errors.As(err, &exitErr) {
		t.Fatalf("exit 3: %v (%T), want an *ExitError", err, err)
	}
	if exitErr.ExitCode() != 3 || !exitErr.Exited() || exitErr.Success() || err.Error() != "exit status 3" {
		t.Errorf("exit 3: code %d, exited %v, %q", exitErr.ExitCode(), exitErr.Exited(), err)
	}
	if exitErr.ProcessState != cmd.ProcessState || exitErr.Reason() != rexecpb.TerminationReason_TERMINATION_REASON_EXITED {
		t.Errorf("exit 3: ExitError's state %v, Cmd's %v, reason %v", exitErr.ProcessState, cmd.ProcessState, exitErr.Reason())
	}
	if ws, ok := exitErr.Sys().(syscall.WaitStatus); !ok || ws.ExitStatus() != 3 {
		t.Errorf("exit 3: Sys() = %#v", exitErr.Sys())
	}
}

func TestOutputKeepsStderrInTheExitError(t *testing.T) {
	ctx := testContext(t)
	out, err := client.CommandContext(ctx, "sh", "-c", "echo out; echo err >&2; exit 2").Output()
	var exitErr *rexec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 2 {
		t.Fatalf("Output: %v, want exit status 2", err)
	}
	if string(out) != "out\n" || string(exitErr.Stderr) != "err\n" {
		t.Errorf("Output: stdout %q, ExitError.Stderr %q", out, exitErr.Stderr)
	}

	// A Stderr of the caller's own is not collected.
	var stderr bytes.Buffer
	cmd := client.CommandContext(ctx, "sh", "-c", "echo err >&2; exit 1")
	cmd.Stderr = &stderr
	_, err = cmd.Output()
	if !errors.As(err, &exitErr) || exitErr.Stderr != nil || stderr.String() != "err\n" {
		t.Errorf("Output with Stderr set: %v, ExitError.Stderr %q, Stderr %q", err, exitErr.Stderr, stderr.String())
	}
}

func TestCombinedOutputInterleavesInArrivalOrder(t *testing.T) {
	ctx := testContext(t)
	// The pauses make the order the server reads them in certain.
	out, err := client.CommandContext(ctx, "sh", "-c",
		"echo 1; sleep 0.2; echo 2 >&2; sleep 0.2; echo 3; sleep 0.2; echo 4 >&2").CombinedOutput()
	if err != nil || string(out) != "1\n2\n3\n4\n" {
		t.Errorf("CombinedOutput: %q, %v", out, err)
	}
}

func TestStdinFromAReader(t *testing.T) {
	cmd := client.CommandContext(testContext(t), "tr", "a-z", "A-Z")
	cmd.Stdin = strings.NewReader("hello, world\n")
	out, err := cmd.Output()
	if err != nil || string(out) != "HELLO, WORLD\n" {
		t.Errorf("tr: %q, %v", out, err)
	}
}

func TestNoStdinIsAnEmptyOne(t *testing.T) {
	// Without the EOF, cat would wait for the context to end.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := client.CommandContext(ctx, "cat").Output()
	if err != nil || len(out) != 0 {
		t.Errorf("cat without Stdin: %q, %v", out, err)
	}
}

// A source of incompressible bytes that is also a reader of known length.
func randomBytes(n int) []byte {
	data := make([]byte, n)
	rand.New(rand.NewSource(1)).Read(data)
	return data
}

func TestLargeDataBothWays(t *testing.T) {
	input := randomBytes(12 << 20)
	cmd := client.CommandContext(testContext(t), "cat")
	cmd.Stdin = bytes.NewReader(input)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(stdout.Bytes()) != sha256.Sum256(input) {
		t.Fatalf("cat of %d bytes gave back %d, not the same", len(input), stdout.Len())
	}
	t.Logf("12 MiB there and back in %v", time.Since(start))

	// And the other way alone, with a reader that takes its time.
	out, err := client.CommandContext(testContext(t), "head", "-c", "8388608", "/dev/zero").Output()
	if err != nil || len(out) != 8<<20 || bytes.Count(out, []byte{0}) != len(out) {
		t.Errorf("8 MiB of zeros: %d bytes, %v", len(out), err)
	}
}

func TestStdinAChildNoLongerReadsIsDropped(t *testing.T) {
	// As for a local child: the rest of stdin has nowhere to go, and that
	// is no error.
	cmd := client.CommandContext(testContext(t), "head", "-c", "3")
	cmd.Stdin = endless{}
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := waitWithin(t, cmd, 20*time.Second); err != nil || out.String() != "yyy" {
		t.Errorf("head -c 3 of endless stdin: %q, %v", out.String(), err)
	}
}

func TestPipesTalkToARunningChild(t *testing.T) {
	cmd := client.CommandContext(testContext(t), "cat")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewReader(stdout)
	for _, line := range []string{"one\n", "two\n", "three\n"} {
		if _, err := io.WriteString(stdin, line); err != nil {
			t.Fatal(err)
		}
		got, err := lines.ReadString('\n')
		if err != nil || got != line {
			t.Fatalf("echoed %q, %v; want %q", got, err, line)
		}
	}
	stdin.Close()
	if rest, err := io.ReadAll(lines); err != nil || len(rest) != 0 {
		t.Errorf("after EOF: %q, %v", rest, err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("Wait: %v", err)
	}
	if _, err := io.WriteString(stdin, "late\n"); err == nil {
		t.Error("a write into StdinPipe after Wait succeeded")
	}
}

func TestUnreadStdoutPipeDoesNotHoldUpWait(t *testing.T) {
	cmd := client.CommandContext(testContext(t), "sh", "-c", "echo one; echo two >&2")
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// As with os/exec: a little output waits in the pipe, and Wait closes it.
	if err := waitWithin(t, cmd, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, pipe := range []io.Reader{stdout, stderr} {
		if _, err := pipe.Read(make([]byte, 1)); !errors.Is(err, os.ErrClosed) {
			t.Errorf("read after Wait: %v, want os.ErrClosed", err)
		}
	}
}

func TestStdinPipeNeverClosedDoesNotHoldUpWait(t *testing.T) {
	cmd := client.CommandContext(testContext(t), "true")
	if _, err := cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := waitWithin(t, cmd, 20*time.Second); err != nil {
		t.Error(err)
	}
}

func TestEnvIsTheWholeEnvironment(t *testing.T) {
	cmd := client.CommandContext(testContext(t), "env")
	cmd.Env = []string{"A=1", "PATH=/usr/bin:/bin", "A=2", "EMPTY="}
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	sort.Strings(lines)
	if want := []string{"A=2", "EMPTY=", "PATH=/usr/bin:/bin"}; strings.Join(lines, " ") != strings.Join(want, " ") {
		t.Errorf("env: %q, want %q", lines, want)
	}

	cmd = client.CommandContext(testContext(t), "env")
	cmd.Env = []string{"NOEQUALS"}
	if err := cmd.Run(); err == nil || cmd.Process != nil {
		t.Errorf("an Env entry without '=' started: %v", err)
	}
}

func TestNilEnvIsTheServersAndDirSetsPWD(t *testing.T) {
	ctx := testContext(t)
	// The server started before the mark: its children must not see it.
	os.Setenv("REXEC_GO_TEST_MARK", "here")
	defer os.Unsetenv("REXEC_GO_TEST_MARK")
	out, err := client.CommandContext(ctx, "printenv", "REXEC_GO_TEST_MARK").Output()
	var exitErr *rexec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 || len(out) != 0 {
		t.Errorf("printenv of a variable the server lacks: %q, %v", out, err)
	}

	dir := t.TempDir()
	for _, args := range [][]string{{"pwd"}, {"printenv", "PWD"}} {
		cmd := client.CommandContext(ctx, args[0], args[1:]...)
		cmd.Dir = dir
		if out, err := cmd.Output(); err != nil || string(out) != dir+"\n" {
			t.Errorf("%v in %s: %q, %v", args, dir, out, err)
		}
	}
}

func TestArgsZeroIsWhatTheChildSees(t *testing.T) {
	cmd := client.CommandContext(testContext(t), "sh", "-c", `tr '\0' ' ' < /proc/$$/cmdline`)
	cmd.Args[0] = "not-sh"
	out, err := cmd.Output()
	if err != nil || !strings.HasPrefix(string(out), "not-sh -c ") {
		t.Errorf("argv as the child sees it: %q, %v", out, err)
	}
	if got := cmd.String(); got != `sh -c tr '\0' ' ' < /proc/$$/cmdline` {
		t.Errorf("String() = %q", got)
	}
}

func TestACmdLiteralRunsOnTheDefaultClient(t *testing.T) {
	cmd := &rexec.Cmd{Path: "echo", Args: []string{"echo", "literal"}}
	out, err := cmd.Output()
	if err != nil || string(out) != "literal\n" {
		t.Errorf("Cmd literal: %q, %v", out, err)
	}
}

func TestWriteErrorsAndReadErrorsAreWaitsWhenTheChildSucceeded(t *testing.T) {
	broken := errors.New("broken writer")
	// The child is not stopped for it: it goes on to its end.
	cmd := client.CommandContext(testContext(t), "sh", "-c", "echo hi; sleep 0.1; echo more; echo end >&2")
	writer := &failingWriter{err: broken}
	cmd.Stdout = writer
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != broken || stderr.String() != "end\n" {
		t.Errorf("Run with a failing Stdout: %v, stderr %q; want %v, end", err, stderr.String(), broken)
	}
	// Written no more once it failed, though more output came.
	if writer.writes != 1 {
		t.Errorf("the failing Stdout was written %d times, want 1", writer.writes)
	}

	unreadable := errors.New("unreadable")
	cmd = client.CommandContext(testContext(t), "cat")
	cmd.Stdin = io.MultiReader(strings.NewReader("some"), failingReader{unreadable})
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != unreadable || out.String() != "some" {
		t.Errorf("Run with a failing Stdin: %v, output %q", err, out.String())
	}
}

// failingWriter fails every write, counting them. Written from one
// goroutine at a time (Cmd's receiver).
type failingWriter struct {
	err    error
	writes int
}

func (w *failingWriter) Write([]byte) (int, error) {
	w.writes++
	return 0, w.err
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

func TestManyCommandsAtOnceShareAClient(t *testing.T) {
	ctx := testContext(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			want := strings.Repeat("x", i) + "\n"
			cmd := client.CommandContext(ctx, "cat")
			cmd.Stdin = strings.NewReader(want)
			out, err := cmd.Output()
			if err != nil || string(out) != want {
				errs <- errors.New("cat " + want + ": " + string(out))
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A child so quick that the call is over before the close_stdin that
// follows the start (no Stdin) goes out: the Send fails, and the call still
// started and exited. The interceptor holds that close_stdin back until
// rexecd has logged the call's end.
func TestAChildThatEndsBeforeItsStdinEOFIsSent(t *testing.T) {
	held := grpc.WithStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc,
		cc *grpc.ClientConn, method string, streamer grpc.Streamer,
		opts ...grpc.CallOption) (grpc.ClientStream, error) {
		stream, err := streamer(ctx, desc, cc, method, opts...)
		return &lateStdinEOF{ClientStream: stream, marker: `"late-eof"]`}, err
	})
	late, err := rexec.Dial(server.addr, rexec.WithDialOptions(held))
	if err != nil {
		t.Fatal(err)
	}
	defer late.Close()
	err = late.CommandContext(testContext(t), "sh", "-c", "exit 3", "late-eof").Run()
	var exitErr *rexec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 3 {
		t.Fatalf("Run: %v, want exit status 3", err)
	}
}

type lateStdinEOF struct {
	grpc.ClientStream
	marker string
}

func (s *lateStdinEOF) SendMsg(m interface{}) error {
	if request, ok := m.(*rexecpb.SpawnRequest); ok && request.GetCloseStdin() != nil {
		for i := 0; i < 200 && !strings.Contains(server.logText(), s.marker); i++ {
			time.Sleep(50 * time.Millisecond)
		}
		// The status is on its way to us: let it arrive first.
		time.Sleep(200 * time.Millisecond)
	}
	return s.ClientStream.SendMsg(m)
}
