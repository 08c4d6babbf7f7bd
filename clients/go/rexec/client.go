package rexec

import (
	"context"
	"math"

	"github.com/rexec/rexec/clients/go/rexecpb"
	"google.golang.org/grpc"
)

// Client is a connection to one rexecd, shared by the commands made from
// it. Safe for concurrent use; Close it when no command of it runs.
type Client struct {
	conn *grpc.ClientConn
	stub rexecpb.ChildProcessClient
}

// Dial makes a Client for target: "host:port" or "unix:/path" (also
// "unix:///path" and "unix-abstract:name"). Without TLS options the
// connection is plaintext, which rexecd serves on loopback and unix
// sockets only. Like grpc.Dial it does not wait for the connection: a
// server that cannot be reached fails the first command with Unavailable.
func Dial(target string, opts ...Option) (*Client, error) {
	var config dialConfig
	for _, opt := range opts {
		opt(&config)
	}
	dialOptions, err := config.grpcOptions(target)
	if err != nil {
		return nil, err
	}
	// Exec results hold up to twice max_buffer in one message, more than
	// gRPC's default limit of 4 MiB: raw calls through Conn need the room.
	dialOptions = append(dialOptions,
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(math.MaxInt32)))
	dialOptions = append(dialOptions, config.extra...)
	conn, err := grpc.Dial(target, dialOptions...)
	if err != nil {
		return nil, err
	}
	return &Client{conn: conn, stub: rexecpb.NewChildProcessClient(conn)}, nil
}

// Close closes the connection; commands still running on it fail.
func (c *Client) Close() error { return c.conn.Close() }

// Conn is the client's connection, with its credentials, for the calls
// this package does not wrap (Exec, Fork, sessions):
// rexecpb.NewChildProcessClient(c.Conn()).
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// Command returns the Cmd to run the named program with the given
// arguments on this client's server, as exec.CommandContext does locally:
// when ctx is done before the command ends, the child is killed.
func (c *Client) Command(ctx context.Context, name string, arg ...string) *Cmd {
	if ctx == nil {
		panic("nil Context")
	}
	return &Cmd{
		Path:   name,
		Args:   append([]string{name}, arg...),
		client: c,
		ctx:    ctx,
	}
}
