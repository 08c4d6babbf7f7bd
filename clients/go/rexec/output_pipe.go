package rexec

import (
	"io"
	"os"
	"sync"
)

// What a Linux pipe holds: a child's output up to this much is not waiting
// for its reader, so a command whose little output nobody reads still ends,
// as a local one does.
const outputPipeSize = 64 << 10

// outputPipe is what StdoutPipe and StderrPipe return: the receive
// goroutine writes the child's output into it, the caller reads. Writes
// block while it holds outputPipeSize bytes, which holds up the call and,
// through gRPC's flow control, the child. Safe for one writer and readers
// on other goroutines.
type outputPipe struct {
	mu       sync.Mutex
	changed  *sync.Cond // signalled whenever any field below changes
	buffered []byte
	end      error // io.EOF or the call's error once the writer closed
	closed   bool  // the reader closed
}

func newOutputPipe() *outputPipe {
	p := &outputPipe{}
	p.changed = sync.NewCond(&p.mu)
	return p
}

func (p *outputPipe) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.buffered) == 0 && p.end == nil && !p.closed {
		p.changed.Wait()
	}
	switch {
	case p.closed:
		return 0, os.ErrClosed
	case len(p.buffered) > 0:
		n := copy(b, p.buffered)
		p.buffered = p.buffered[n:]
		p.changed.Broadcast()
		return n, nil
	default:
		return 0, p.end
	}
}

// Close closes the reader's end. What is still buffered, or written from
// now on, is dropped: a local child writing into a pipe closed this way
// gets EPIPE, which os/exec does not report either.
func (p *outputPipe) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.buffered = nil
	p.changed.Broadcast()
	return nil
}

func (p *outputPipe) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for written := 0; written < len(b); {
		for len(p.buffered) >= outputPipeSize && !p.closed {
			p.changed.Wait()
		}
		if p.closed {
			break
		}
		n := len(b) - written
		if room := outputPipeSize - len(p.buffered); n > room {
			n = room
		}
		p.buffered = append(p.buffered, b[written:written+n]...)
		written += n
		p.changed.Broadcast()
	}
	return len(b), nil
}

// closeWrite ends what the reader reads with err, or io.EOF when nil.
func (p *outputPipe) closeWrite(err error) {
	if err == nil {
		err = io.EOF
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.end = err
	p.changed.Broadcast()
}
