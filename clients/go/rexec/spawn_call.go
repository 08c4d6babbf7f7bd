package rexec

import (
	"context"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/rexec/rexec/clients/go/rexecpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Chunks of stdin as they are sent: small enough that a signal queued
// behind one waits little, big enough that a few MiB take few messages.
const stdinChunkSize = 32 << 10

// spawnCall is one Spawn stream, from the start to the exit. Its send side
// is shared by the stdin copier, Process.Signal and the watcher, under
// sendMu, since a grpc-go stream takes one Send at a time. Its receive side
// belongs to the receive goroutine, which publishes exit, err and writeErr
// before it closes done; exited may be read at any time, and killed is
// closed at the first kill asked for.
type spawnCall struct {
	name     string // the program, for errors
	stream   rexecpb.ChildProcess_SpawnClient
	cancel   context.CancelFunc // gives the call up: rexecd then stops the child
	release  func()             // the pool's count of the stream, once it is over
	sendMu   sync.Mutex
	exited   atomic.Bool
	done     chan struct{}
	killOnce sync.Once
	killed   chan struct{}

	exit     *rexecpb.ExitStatus
	err      error // the call's failure, an *Error; nil once exit arrived
	writeErr error // the first failed write to Stdout or Stderr
}

// startSpawn opens the stream on a connection of client's that takes it,
// sends the start and waits for the server's `started`, so that a start
// the server refuses is Start's error, as a local exec's is. A ctx done
// meanwhile gives the call up: the error is ctx's, and rexecd stops a child
// that had started.
func startSpawn(ctx context.Context, client *Client, start *rexecpb.SpawnStart,
	noStdin bool) (*spawnCall, int, error) {
	name := start.Argv[0]
	conn, err := client.pool.acquire(ctx)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, 0, ctxErr
		}
		return nil, 0, newCallError(name, err)
	}
	// The call keeps ctx's values (metadata) but not its cancellation: when
	// ctx ends a running command, the kill and the exit travel over it.
	callCtx, cancel := context.WithCancel(valuesOnly{ctx})
	s := &spawnCall{
		name:    name,
		cancel:  cancel,
		release: func() { client.pool.release(conn) },
		done:    make(chan struct{}),
		killed:  make(chan struct{}),
	}
	answered := make(chan struct{})
	gaveUp := make(chan bool, 1)
	go func() {
		select {
		case <-ctx.Done():
			cancel()
			gaveUp <- true
		case <-answered:
			gaveUp <- false
		}
	}()
	var pid int
	s.stream, err = conn.stub.Spawn(callCtx)
	if err != nil {
		err = newCallError(name, err)
	} else {
		pid, err = s.handshake(start, noStdin)
	}
	close(answered)
	if <-gaveUp {
		err = ctx.Err()
	}
	if err != nil {
		cancel()
		s.release()
		return nil, 0, err
	}
	return s, pid, nil
}

func (s *spawnCall) handshake(start *rexecpb.SpawnStart, noStdin bool) (int, error) {
	requests := []*rexecpb.SpawnRequest{{Request: &rexecpb.SpawnRequest_Start{Start: start}}}
	// No Stdin is /dev/null, as for os/exec: EOF at once.
	if noStdin {
		requests = append(requests, closeStdinRequest())
	}
	for _, request := range requests {
		// A Send fails (io.EOF) when the call has ended: refused, or a child
		// so quick that its exit came before our close_stdin. Recv says
		// which, past the answers queued before the end.
		if s.stream.Send(request) != nil {
			break
		}
	}
	response, err := s.stream.Recv()
	if err == io.EOF {
		err = status.Error(codes.Internal, "rexecd ended the call without starting the child")
	}
	if err != nil {
		return 0, newCallError(s.name, err)
	}
	started := response.GetStarted()
	if started == nil {
		return 0, newCallError(s.name, status.Errorf(codes.Internal,
			"rexecd answered the start with %T, not started", response.Event))
	}
	return int(started.Pid), nil
}

// receive hands the output to its writers until the call ends, then lets
// the stream go (grpc-go counts it no more, nor must the pool). A writer
// that fails is written no more (the child is not stopped for it, unlike a
// local child whose pipe closes: the output is on its way anyway), and its
// error is Wait's when the child otherwise succeeded, as for os/exec.
func (s *spawnCall) receive(stdout, stderr io.Writer) {
	var stdoutErr, stderrErr error
	for {
		response, err := s.stream.Recv()
		if err != nil {
			if s.exit == nil {
				if err == io.EOF {
					err = status.Error(codes.Internal, "rexecd ended the call without the child's exit")
				}
				s.err = newCallError(s.name, err)
			}
			break
		}
		switch event := response.Event.(type) {
		case *rexecpb.SpawnResponse_Stdout:
			stdoutErr = writeUnlessFailed(stdout, event.Stdout, stdoutErr)
		case *rexecpb.SpawnResponse_Stderr:
			stderrErr = writeUnlessFailed(stderr, event.Stderr, stderrErr)
		case *rexecpb.SpawnResponse_Exit:
			// The first counts (the receive guard checked that it is sane).
			if s.exit == nil {
				s.exit = event.Exit
				s.exited.Store(true)
			}
		}
	}
	s.cancel()
	s.release()
	s.writeErr = stdoutErr
	if s.writeErr == nil {
		s.writeErr = stderrErr
	}
}

func writeUnlessFailed(w io.Writer, data []byte, failed error) error {
	if failed != nil {
		return failed
	}
	_, err := w.Write(data)
	return err
}

// copyStdin sends what r reads, then EOF. Its error is r's: once the call
// is over, what is left has nowhere to go, like stdin a local child no
// longer reads (EPIPE, which os/exec does not report either).
func (s *spawnCall) copyStdin(r io.Reader) error {
	buffer := make([]byte, stdinChunkSize)
	for {
		n, err := r.Read(buffer)
		if n > 0 {
			// Send encodes the message before it returns: the buffer may be
			// reused.
			chunk := &rexecpb.SpawnRequest{Request: &rexecpb.SpawnRequest_Stdin{Stdin: buffer[:n]}}
			if s.send(chunk) != nil {
				return nil
			}
		}
		if err != nil {
			s.send(closeStdinRequest())
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// signal sends a signal by name. A call that has ended, with the exit or
// without, has no process to signal any more (rexecd stops the child of a
// failed call): that is os.ErrProcessDone, as for a local process waited
// for.
func (s *spawnCall) signal(name string) error {
	if name == "SIGKILL" {
		s.killOnce.Do(func() { close(s.killed) })
	}
	if s.exited.Load() {
		return os.ErrProcessDone
	}
	request := &rexecpb.SpawnRequest{Request: &rexecpb.SpawnRequest_Signal{Signal: &rexecpb.Signal{Name: name}}}
	if s.send(request) != nil {
		return os.ErrProcessDone
	}
	return nil
}

func (s *spawnCall) send(request *rexecpb.SpawnRequest) error {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	return s.stream.Send(request)
}

func closeStdinRequest() *rexecpb.SpawnRequest {
	return &rexecpb.SpawnRequest{Request: &rexecpb.SpawnRequest_CloseStdin{CloseStdin: &rexecpb.CloseStdin{}}}
}
