package rexec

import (
	"context"
	"math"
	"sync"

	"github.com/rexec/rexec/clients/go/rexecpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
)

// When a server's SETTINGS never reached the scanner (a dialer or
// credentials of the caller's own replaced this package's), a connection
// takes as many calls as grpc-go assumes then, rexecd's default.
const assumedStreamLimit = 100

// connectionPool is a Client's connections to its server, each with the
// count of the Spawn calls open on it. A call goes to the first connection
// whose server takes one more call now, else to a new connection, so that
// a start never waits behind the server's limit of calls per connection.
// A connection other than the first is closed when its last call ends.
// Safe for concurrent use.
type connectionPool struct {
	target    string
	transport transport
	// The connection dialed with the Client, which stays until close: set
	// before the pool is shared, never changed.
	firstConn *connection

	mu          sync.Mutex
	connections []*connection // firstConn first
	closed      bool
}

// connection is one gRPC connection and the server's limit on it. conn
// and stub are set, or the connection left the pool, before dialed is
// closed: grpc.Dial may block (grpc.WithBlock among the caller's options),
// and the pool must not be held meanwhile.
type connection struct {
	dialed chan struct{}
	conn   *grpc.ClientConn
	stub   rexecpb.ChildProcessClient
	limit  streamLimit
	calls  int // guarded by connectionPool.mu
}

func (p *connectionPool) dialFirst() error {
	c := &connection{dialed: make(chan struct{})}
	if err := p.dial(c); err != nil {
		return err
	}
	close(c.dialed)
	p.firstConn = c
	p.connections = []*connection{c}
	return nil
}

func (p *connectionPool) dial(c *connection) error {
	conn, err := grpc.Dial(p.target, p.transport.dialOptions(&c.limit)...)
	if err != nil {
		return err
	}
	c.conn, c.stub = conn, rexecpb.NewChildProcessClient(conn)
	return nil
}

func (p *connectionPool) first() *grpc.ClientConn { return p.firstConn.conn }

// acquire counts one more call on the first connection that takes it, or
// on a new one. A connection whose server has not yet said its limit is
// waited for (ctx bounds the wait), rather than opened again: grpc-go
// would wait for it too.
func (p *connectionPool) acquire(ctx context.Context) (*connection, error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, grpc.ErrClientConnClosing
		}
		var pending *connection
		for _, c := range p.connections {
			max, known := c.streamLimit()
			if !known {
				if pending == nil {
					pending = c
				}
				continue
			}
			if c.calls < max {
				c.calls++
				p.mu.Unlock()
				return c, nil
			}
		}
		if pending == nil {
			// The dialer's own call is counted from the start: any limit
			// takes one, and a start that gives up later releases it.
			c := &connection{dialed: make(chan struct{}), calls: 1}
			p.connections = append(p.connections, c)
			p.mu.Unlock()
			err := p.dial(c)
			p.mu.Lock()
			if err != nil || p.closed {
				p.remove(c)
				if err == nil {
					c.conn.Close()
					err = grpc.ErrClientConnClosing
				}
			}
			// Before unlocking: a close() in between would skip it as
			// not dialed, after the check above found the pool open.
			close(c.dialed)
			p.mu.Unlock()
			if err != nil {
				return nil, err
			}
			return c, nil
		}
		p.mu.Unlock()
		if !pending.settle(ctx) {
			return nil, ctx.Err()
		}
	}
}

// release ends a call counted by acquire.
func (p *connectionPool) release(c *connection) {
	p.mu.Lock()
	c.calls--
	idle := c.calls == 0 && c != p.firstConn && !p.closed
	if idle {
		p.remove(c)
	}
	p.mu.Unlock()
	if idle {
		c.conn.Close() // not under the lock: it may wait for the connection's goroutines
	}
}

func (p *connectionPool) remove(c *connection) {
	for i, other := range p.connections {
		if other == c {
			p.connections = append(p.connections[:i], p.connections[i+1:]...)
			return
		}
	}
}

// close closes the connections, and makes those still being dialed close
// once they are.
func (p *connectionPool) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	var first error
	for _, c := range p.connections {
		if !c.isDialed() {
			continue
		}
		if err := c.conn.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (c *connection) isDialed() bool {
	select {
	case <-c.dialed:
		return true
	default:
		return false
	}
}

// streamLimit is how many calls the connection takes, once that is known:
// what its server said, or, when its SETTINGS were not seen, the assumed
// limit once it is ready and no limit once it failed (a call then fails at
// once with Unavailable, as grpc-go fails it).
func (c *connection) streamLimit() (int, bool) {
	if !c.isDialed() {
		return 0, false
	}
	if max := c.limit.max.Load(); max > 0 {
		if max > math.MaxInt32 {
			max = math.MaxInt32
		}
		return int(max), true
	}
	switch c.conn.GetState() {
	case connectivity.Ready:
		return assumedStreamLimit, true
	case connectivity.TransientFailure, connectivity.Shutdown:
		return math.MaxInt32, true
	}
	return 0, false
}

// settle waits until the connection is dialed and, unless its limit is
// known by then, for its state to change. False: ctx ended first.
func (c *connection) settle(ctx context.Context) bool {
	select {
	case <-c.dialed:
	case <-ctx.Done():
		return false
	}
	if c.conn == nil {
		return true // it failed, and left the pool
	}
	if _, known := c.streamLimit(); known {
		return true
	}
	state := c.conn.GetState()
	if state != connectivity.Idle && state != connectivity.Connecting {
		return true
	}
	return c.conn.WaitForStateChange(ctx, state)
}
